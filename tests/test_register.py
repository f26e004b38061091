"""`meterseal register`: the utility's register from a fleet directory's utility/ CSV files into
the store, replaced whole each time; every malformed file is one line naming file and line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from meterseal.headend.register import RegisterError, load_register, read_register
from meterseal.headend.store import Store
from tests.analytics_helpers import write_utility


def meterseal(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meterseal", *args], capture_output=True,
                          text=True, timeout=120)


def test_register_loads_and_reloading_changes_nothing(store_url: str, tmp_path: Path) -> None:
    fleet = write_utility(tmp_path / "fleet")
    for _ in range(2):
        store = Store.open(store_url)
        counts = load_register(store, read_register(fleet))
        store.close()
    assert counts == {"customer": 36, "meter_model": 2, "work_order": 2}
    store = Store.open(store_url)
    assert len(store.rows("customer")) == 36 and len(store.rows("work_order")) == 2
    models = {r[0]: r[5] for r in store.rows("meter_model")}
    assert models == {"MS-100": False, "MS-300": True}
    store.close()


def test_the_command(tmp_path: Path) -> None:
    fleet = write_utility(tmp_path / "fleet")
    r = meterseal("register", "--fleet", str(fleet), "--db", f"sqlite:///{tmp_path}/s.db",
                  "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"customer": 36, "meter_model": 2, "work_order": 2}


def _edit(fleet: Path, name: str, old: str, new: str) -> None:
    path = fleet / "utility" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


FORGED = {
    "missing column": ("customers.csv", "customer_type,", "kind,", "missing column(s)"),
    "short address": ("customers.csv", "202600000001,", "20260000001,", "is not 12 digits"),
    "address twice": ("customers.csv", "202600000002,", "202600000001,", "listed twice"),
    "unknown model": ("customers.csv", ",MS-300\n", ",MS-999\n", "MS-999"),
    "not a boolean": ("models.csv", ",true,", ",maybe,", "is not true or false"),
    "negative hours": ("models.csv", ",72", ",-5", "is not hours"),
    "naive time": ("work_orders.csv", "T11:00:00+08:00", "T11:00:00", "with its UTC offset"),
    "ends before start": ("work_orders.csv", "2026-03-11T11:00", "2026-03-11T08:00",
                          "is before start"),
    "order twice": ("work_orders.csv", "WO-0002", "WO-0001", "empty or twice"),
}


@pytest.mark.parametrize("case", FORGED, ids=list(FORGED))
def test_a_malformed_register_is_one_line_exit_2(case: str, tmp_path: Path) -> None:
    name, old, new, words = FORGED[case]
    fleet = write_utility(tmp_path / "fleet")
    _edit(fleet, name, old, new)
    with pytest.raises(RegisterError, match=re.escape(words)):
        read_register(fleet)
    r = meterseal("register", "--fleet", str(fleet), "--db", f"sqlite:///{tmp_path}/s.db")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, r.stderr
    assert name in r.stderr


def test_a_folder_without_a_register(tmp_path: Path) -> None:
    r = meterseal("register", "--fleet", str(tmp_path), "--db", f"sqlite:///{tmp_path}/s.db")
    assert r.returncode == 2 and "no utility/ folder" in r.stderr
    (tmp_path / "utility").mkdir()
    r = meterseal("register", "--fleet", str(tmp_path), "--db", f"sqlite:///{tmp_path}/s.db")
    assert r.returncode == 2 and "customers.csv: no such file" in r.stderr
