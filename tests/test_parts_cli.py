"""`meterseal parts`: the catalogue with its sources, as a table and as JSON; bad input is one
line and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from meterseal.commands import main
from meterseal.hardware import catalog


def test_json_lists_every_row_with_values_and_sources(capsys: pytest.CaptureFixture[str]):
    assert main(["parts", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    names = [p["name"] for p in d["parts"]]
    assert names == [p.name for p in catalog.PARTS]
    kw = next(p for p in d["parts"] if p["name"] == "eaton-kw-1f")
    values = {v["key"]: v for v in kw["values"]}
    assert values["supercap.esr_ohm"]["value"] == 30.0
    assert values["supercap.esr_ohm"]["unit"] == "Ω"
    assert "Eaton KW datasheet" in values["supercap.esr_ohm"]["source"]
    assert values["supercap.redistribution_f"]["source"].startswith("[D] fitted")
    assert [f["time_s"] for f in kw["leakage_figures"]] == [1800.0, 259200.0]
    assert all(v["source"] for p in d["parts"] for v in p["values"])
    assert d["battery_states"] == ["healthy", "weak", "undervoltage", "absent"]


def test_kind_and_names_narrow_the_list(capsys: pytest.CaptureFixture[str]):
    assert main(["parts", "--kind", "radio", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {p["selects"] for p in d["parts"]} == {"radio.module"}
    assert main(["parts", "nb-iot", "er14250", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in d["parts"]] == ["nb-iot", "er14250"]


def test_the_table_shows_values_sources_and_figures(capsys: pytest.CaptureFixture[str]):
    assert main(["parts", "generic-h-1f", "fm24c256"]) == 0
    out = capsys.readouterr().out
    assert "generic-h-1f" in out and "Forecon" in out and "30 Ω" in out
    assert "leakage figure" in out and "20 µA at 24 h" in out
    assert "fm24c256" in out and "400 µA" in out and "Ramtron FM24C256" in out


@pytest.mark.parametrize(("args", "needle"), [
    (("parts", "no-such-part"), "no part 'no-such-part'"),
    (("parts", "--kind", "nvm", "nb-iot"), "no part 'nb-iot' of kind nvm"),
    (("parts", "--kind", "capacitor"), "invalid choice: 'capacitor'"),
])
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], needle: str):
    r = subprocess.run([sys.executable, "-m", "meterseal", *args], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr, r.stderr


def test_a_scenario_naming_an_unknown_part_is_one_line(tmp_path):
    sc = tmp_path / "bad_part.toml"
    sc.write_text('name = "x"\nstart = "2026-03-01T08:00:00+08:00"\nduration = "1h"\n'
                  '[meter]\n"supercap.part" = "eaton-kw-2f"\n', encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "meterseal", "run", str(sc)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "'eaton-kw-2f'" in lines[0], r.stderr
    for name in catalog.choices("supercap.part"):
        assert repr(name) in lines[0]
