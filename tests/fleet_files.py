"""Reading a generated fleet directory back the way an evaluator would: the utility's and the
truth's CSV files as rows, each meter's records decoded from its image."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from meterseal.firmware.image import MeterImage
from meterseal.sim.fleetdir import load_fleet

Row = dict[str, str]


def rows(root: Path, name: str) -> list[Row]:
    with (root / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def by_address(table: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in table:
        out.setdefault(r["address"], []).append(r)
    return out


def images(root: Path) -> dict[str, MeterImage]:
    """Every meter's records, decoded from its NVM image through the live meter."""
    return {m.address: m.build().image() for m in load_fleet(root).meters}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def mains_off(root: Path) -> dict[str, list[tuple[datetime, datetime]]]:
    """Each meter's mains-off intervals from the truth: its feeder's outages and its own,
    overlaps merged."""
    outages = rows(root, "truth/outages.csv")
    out = {}
    for c in rows(root, "utility/customers.csv"):
        mine = sorted((instant(r["start"]), instant(r["end"])) for r in outages
                      if r["address"] == c["address"]
                      or (r["scope"] == "feeder" and r["feeder"] == c["feeder"]))
        merged: list[tuple[datetime, datetime]] = []
        for a, b in mine:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        out[c["address"]] = merged
    return out
