"""`meterseal read --key`: the head-end verifies a served meter's record chain over DL/T 645 and
names each record that fails; the meter kept in a file (`serve --image`) is edited between two
runs of the server, as an attacker with the EEPROM on a programmer would."""

from __future__ import annotations

import json

import pytest

from meterseal.commands import main
from meterseal.firmware.crc import crc32
from meterseal.firmware.image import decode_image
from meterseal.firmware.layout import PAGE_SIZE, cover_open_addr
from meterseal.sim.scenario import load_scenario
from tests.dlt645_helpers import SCENARIO, serve

KEY = str(load_scenario(SCENARIO).profile["security.key"])


def _move_an_opening_by_a_day(image_file) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """What an attacker with the EEPROM on a programmer does: the second-newest opening's time
    field moved back a day, the page's CRC made right again. (cover-open total, NVM page)."""
    nvm = bytearray(image_file.read_bytes())
    image = decode_image(bytes(nvm))
    top = image.cover_total
    a = cover_open_addr(top - 2)
    page = a // PAGE_SIZE
    end = next(len(d) for p, d, _s in image.chain if p == page)
    opened = int.from_bytes(nvm[a + 6:a + 12], "little") - 86_400_000
    nvm[a + 6:a + 12] = opened.to_bytes(6, "little")
    nvm[a + end - 4:a + end] = crc32(bytes(nvm[a:a + end - 4])).to_bytes(4, "little")
    image_file.write_bytes(bytes(nvm))
    return top, page


def _read(port: int, *extra: str) -> int:
    return main(["read", "--dlt645", f"tcp://127.0.0.1:{port}", *extra])


def test_read_with_the_key_verifies_an_untouched_meter_and_names_a_rewritten_record(
        tmp_path, capsys):
    image_file = tmp_path / "meter.nvm"
    with serve(extra=["--image", str(image_file)]) as served:
        assert _read(served.port, "--key", KEY, "--json") == 0
        chain = json.loads(capsys.readouterr().out)["chain"]
    assert chain["clean"] and chain["failures"] == [] and len(chain["verified"]) >= 40
    top, page = _move_an_opening_by_a_day(image_file)
    with serve(extra=["--image", str(image_file)]) as served:
        assert _read(served.port, "--key", KEY) == 1
        text = capsys.readouterr().out
        assert f"cover-open {top - 2} (opening)" in text and f"NVM page {page}" in text
        assert "MAC does not verify" in text
        # Without the key the reader still reads the (forged) records, as any reader would.
        assert _read(served.port) == 0
        capsys.readouterr()


@pytest.mark.parametrize("key, needle", [("00", "--key"), ("zz" * 16, "--key")])
def test_a_bad_key_is_one_line_and_exit_2(key, needle, capsys):
    """Bad user input: one line on stderr, exit 2."""
    assert main(["read", "--dlt645", "tcp://127.0.0.1:1", "--key", key]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "Traceback" not in err[0]


def _read698(port: int, *extra: str) -> int:
    return main(["read", "--dlt698", f"tcp://127.0.0.1:{port}", *extra])


def test_the_dlt698_face_serves_the_same_chain_and_names_the_same_forgery(tmp_path, capsys):
    """FFAC over DL/T 698.45: the same pages and verdict as 04 80 AC over DL/T 645, on the
    untouched meter and on one whose EEPROM had a record moved by a day (CRC made right)."""
    from tests.dlt698_helpers import serve698

    image_file = tmp_path / "meter.nvm"
    with serve698(dlt645=True, extra=("--image", str(image_file))) as served:
        p698, p645 = served.ports["DL/T 698.45"], served.ports["DL/T 645"]
        assert _read698(p698, "--key", KEY, "--json") == 0
        chain698 = json.loads(capsys.readouterr().out)["chain"]
        assert _read(p645, "--key", KEY, "--json") == 0
        chain645 = json.loads(capsys.readouterr().out)["chain"]
    assert chain698 == chain645 and chain698["clean"] and len(chain698["verified"]) >= 40
    top, page = _move_an_opening_by_a_day(image_file)
    with serve698(extra=("--image", str(image_file))) as served:
        assert _read698(served.ports["DL/T 698.45"], "--key", KEY) == 1
        text = capsys.readouterr().out
    assert f"cover-open {top - 2} (opening)" in text and f"NVM page {page}" in text
    assert "MAC does not verify" in text
    # A wrong key fails every record over this face too.
    with serve698(extra=("--image", str(image_file))) as served:
        assert _read698(served.ports["DL/T 698.45"], "--key", "11" * 16, "--json") == 1
        chain = json.loads(capsys.readouterr().out)["chain"]
    assert not chain["verified"] and len(chain["failures"]) >= 40
