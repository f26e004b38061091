"""Tamper-evident records (issue 13 item 5): every journal page carries a MAC from the security
module chained over the one before; the reader's chain check, holding the meter's key, names
every record that was rewritten, moved, deleted or put back, and passes an untouched image."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterseal.firmware.chain import SoftSecurity, chain_key
from meterseal.firmware.crc import crc32
from meterseal.firmware.hmac256 import hmac_sha256
from meterseal.firmware.image import decode_image
from meterseal.firmware.layout import PAGE_SIZE, cover_close_addr, cover_open_addr
from meterseal.hardware.esam import Esam
from meterseal.protocols.chainproof import verify_chain
from meterseal.sim.kernel import Kernel
from meterseal.sim.scenario import load_scenario

SCENARIO = "tests/data/dlt645_meter.toml"


@pytest.fixture(scope="module")
def run():
    sc = load_scenario(SCENARIO)
    log = Kernel(sc, trace=False).run()
    return bytes.fromhex(str(sc.profile["security.key"])), log


def _verdict(image: bytes, key: bytes):
    return verify_chain(decode_image(image).chain, key)


def _with_page(image: bytes, page: int, data: bytes) -> bytes:
    a = page * PAGE_SIZE
    return image[:a] + data + image[a + len(data):]


@given(key=st.binary(min_size=0, max_size=100), msg=st.binary(max_size=300))
def test_firmware_hmac_is_pythons_hmac(key, msg):
    assert hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


def test_the_esam_and_the_firmwares_software_port_make_the_same_macs():
    key = bytes(range(16))
    assert SoftSecurity(key).mac(b"page") == Esam(key).record_mac(b"page")
    assert chain_key(key) != key  # the key that authorises commands never signs records


def test_an_untouched_image_verifies_clean(run):
    key, log = run
    chain = decode_image(log.final_image).chain
    v = verify_chain(chain, key)
    assert v.clean and not v.unsealed
    assert len(v.verified) == len(chain) >= 40
    assert v.head_seq >= len(chain)  # older pages were reused by newer records
    assert log.record_macs >= len(chain)
    # Every kind of record is chained: both halves of openings, power downs, freezes, reports.
    kinds = {name.split(" ")[0] for name in v.verified}
    assert {"cover-open", "power-down", "daily", "report"} <= kinds


def test_the_wrong_key_fails_every_record(run):
    _key, log = run
    v = _verdict(log.final_image, b"\x00" * 16)
    assert len(v.failures) == len(decode_image(log.final_image).chain)


def test_every_single_byte_flip_with_its_crc_recomputed_is_named(run):
    """Each byte of each committed record page, tag to MAC, flipped and the CRC made right
    again: the chain check fails and names that NVM page (the record itself, or as the missing
    predecessor of the next one when the meter no longer shows it)."""
    key, log = run
    image = log.final_image
    flips = 0
    for page, data, _seal in decode_image(image).chain:
        for i in range(len(data) - 4):
            bad = bytearray(data)
            bad[i] ^= 0xFF
            bad[-4:] = crc32(bytes(bad[:-4])).to_bytes(4, "little")
            v = _verdict(_with_page(image, page, bytes(bad)), key)
            assert not v.clean, (page, i)
            assert any(f"NVM page {page})" in f.line() or f"NVM page {page}" in f.line()
                       for f in v.failures), (page, i, [f.line() for f in v.failures])
            flips += 1
    assert flips > 2000


def test_a_deleted_record_is_reported(run):
    key, log = run
    image = log.final_image
    img = decode_image(image)
    top = img.cover_total
    for page in (cover_open_addr(top - 3) // PAGE_SIZE, cover_close_addr(top - 3) // PAGE_SIZE):
        image = _with_page(image, page, b"\xff" * PAGE_SIZE)
    v = _verdict(image, key)
    lines = [f.line() for f in v.failures]
    assert any("is missing: deleted or erased" in x for x in lines), lines


def test_the_newest_record_deleted_is_reported_against_the_head_seen_before(run):
    key, log = run
    image = log.final_image
    chain = decode_image(image).chain
    newest_page = chain[0][0]
    before = verify_chain(chain, key).head_seq
    erased = decode_image(_with_page(image, newest_page, b"\xff" * PAGE_SIZE)).chain
    # An image cannot vouch for its own end; the head the reader saw before can.
    v = verify_chain(erased, key, expect_seq=before)
    assert not v.clean and any("were removed" in f.line() for f in v.failures)


def test_reordered_records_are_reported(run):
    key, log = run
    image = log.final_image
    top = decode_image(image).cover_total
    a, b = cover_open_addr(top - 1), cover_open_addr(top - 2)
    pa, pb = image[a:a + PAGE_SIZE], image[b:b + PAGE_SIZE]
    swapped = _with_page(_with_page(image, a // PAGE_SIZE, pb), b // PAGE_SIZE, pa)
    v = _verdict(swapped, key)
    named = " ".join(f.line() for f in v.failures)
    assert not v.clean and f"NVM page {a // PAGE_SIZE}" in named
    assert f"NVM page {b // PAGE_SIZE}" in named


def test_an_old_page_put_back_is_reported(run):
    """A record page replaced by what that page held earlier (a copy taken before the slot was
    reused): the chain says a newer record should be there."""
    key, log = run
    image = log.final_image
    held = {page: data for page, data, _seal in decode_image(image).chain}
    first: dict[int, bytes] = {}
    for _t, addr, data in log.writes:
        page = addr // PAGE_SIZE
        if page in held and page not in first:
            first[page] = data
    old = [(p, d) for p, d in first.items() if d[:len(held[p])] != held[p]]
    assert old, "no record page was reused in the run"
    head = verify_chain(decode_image(image).chain, key).head_seq
    for page, data in old:
        v = _verdict(_with_page(image, page, data), key)
        if v.clean:  # only the newest record's page: the head seen before tells
            v = verify_chain(decode_image(_with_page(image, page, data)).chain, key,
                             expect_seq=head)
        assert not v.clean, page


def _late_run(tail: str):  # type: ignore[no-untyped-def]
    """A meter whose security module costs more than the supercapacitor can spare beside a write:
    every record of the outage is written without its MAC."""
    from meterseal.sim.scenario import parse_scenario

    return parse_scenario({
        "name": "MAC unaffordable on backup", "start": "2026-03-01T08:00:00+08:00",
        "duration": tail, "seed": 3,
        "meter": {"profile": "supercap-watch", "supercap.capacitance_f": 0.02,
                  "security.mac_current_a": 0.1,
                  "security.mac_time_s": 1.0},
        "outage": [{"at": "1h", "for": "3h"}],
        "cover": [{"open_at": "1h 10min", "close_at": "1h 15min"}],
    })


def test_records_that_could_not_afford_their_mac_get_it_at_restore_and_say_so():
    sc = _late_run("6h")
    key = bytes.fromhex(str(sc.profile["security.key"]))
    log = Kernel(sc, trace=False).run()
    v = _verdict(log.final_image, key)
    assert v.clean and not v.unsealed
    # The opening and closing seen on backup were written flagged, and sealed after mains.
    assert "cover-open 1 (opening)" in v.late_sealed and "cover-open 1 (closing)" in v.late_sealed
    assert "cover-open 1 (opening)" not in v.verified


def test_records_still_waiting_for_their_mac_are_listed_unverified_not_good():
    sc = _late_run("1h 30min")  # the run ends inside the outage
    key = bytes.fromhex(str(sc.profile["security.key"]))
    log = Kernel(sc, trace=False).run()
    v = _verdict(log.final_image, key)
    assert "cover-open 1 (opening)" in v.unsealed
    assert "cover-open 1 (opening)" not in v.verified + v.late_sealed


def test_the_mac_is_in_the_backup_budget():
    """The module's current for its compute time is drawn from the supercapacitor: a dearer MAC
    leaves less watch, and the firmware keeps MAC'ing only while its floor allows."""
    from meterseal.verify.cost import firmware_cost

    cheap = firmware_cost((("security.record_mac", False),))
    costly = firmware_cost((("security.mac_current_a", 0.02), ("security.mac_time_s", 0.05)))
    assert costly.watch_s < cheap.watch_s
    assert firmware_cost().ratio >= 0.95


def test_every_record_page_fits_one_eeprom_page_with_its_trailer():
    """The longest page, an event clear on a meter with a terminal-cover log, chained: one page
    write must never cross a 64-byte boundary (the EEPROM model refuses it)."""
    from meterseal.firmware.chain import FLAG_LATE, NO_MAC
    from meterseal.firmware.pagecodec import _BY_TAG as by_tag
    from meterseal.firmware.pagecodec import TRAILER_SIZE, decode_chained, encode_page
    from meterseal.firmware.records import EventClear

    for _cls, _fields, n in by_tag.values():
        assert n + TRAILER_SIZE <= PAGE_SIZE
    trailer = (7).to_bytes(4, "little") + (3).to_bytes(2, "little") + bytes((FLAG_LATE,)) \
        + NO_MAC + NO_MAC
    rec = EventClear(5, 1_000, 1, 0x12345678, 0xFFFFFFFF, 9, 9, 4, 2, 3, 3)
    page = encode_page(rec, trailer)
    assert len(page) <= PAGE_SIZE
    back, got_trailer = decode_chained(page)
    assert got_trailer == trailer
    # Every baseline and the terminal total come back; the cover and power-down totals are not
    # on this page and read back as their baselines.
    assert (back.cover_base, back.pd_base, back.terminal_total, back.terminal_base) == (9, 2, 3, 3)
    assert (back.cover_total, back.pd_total) == (9, 2)


def test_a_failing_terminal_cover_page_is_named_as_such():
    """The reader names what a page holds from its tag, for the terminal cover's log too (a
    forged terminal record must not read as an 'unreadable page')."""
    from meterseal.firmware.pagecodec import encode_page
    from meterseal.firmware.records import EventClear, TerminalClose, TerminalOpen
    from meterseal.protocols.chainproof import record_name

    opening = encode_page(TerminalOpen(7, 1, 1_000, 0, 0, 10, 0))
    closing = encode_page(TerminalClose(7, 1, 2_000, 11, 0))
    clear = encode_page(EventClear(3, 1_000, 1, 0, 0xFFFFFFFF, 5, 5, 2, 2, 7, 7))
    assert record_name(70, opening) == "terminal-cover-open 7 (opening)"
    assert record_name(71, closing) == "terminal-cover-open 7 (closing)"
    assert record_name(49, clear) == "event clear 3"
    assert record_name(49, b"\xee" * 40) == "unreadable page 49"
