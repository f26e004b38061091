"""Reading a generated fleet directory back the way an evaluator would: the utility's and the
truth's CSV files as rows, each meter's records decoded from its image."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from meterseal.firmware.meterimage import MeterImage
from meterseal.firmware.records import QUALITY_NAMES
from meterseal.hardware.rtc import datetime_from_local_ms
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


# --- what a store must hold of an image -------------------------------------------------------

_S = 1000


def _iso(local_ms: int, utc_offset_h: float) -> str:
    """A record time as the store keeps it: to the second (rounded down), compared in UTC."""
    when = datetime_from_local_ms(local_ms - local_ms % _S, utc_offset_h)
    return when.astimezone(UTC).isoformat()


def _iso_up(local_ms: int, utc_offset_h: float) -> str:
    return _iso(-(-local_ms // _S) * _S, utc_offset_h)


def image_rows(address: str, image: MeterImage, utc_offset_h: float = 8.0,
               ) -> dict[str, list[tuple[object, ...]]]:
    """The cover-open, power-down and daily-energy rows a collection of a fresh store must hold
    for this meter: every record of its rings, with its time qualities (bounds outwards to the
    second), and every daily freeze it keeps (a midnight freeze closes the day before)."""
    covers = []
    for r in image.cover:
        bounded = QUALITY_NAMES[r.quality] == "bounded"
        covers.append((
            address, r.seq, _iso(r.opened_ms, utc_offset_h),
            _iso(r.closed_ms, utc_offset_h) if r.closed else None, QUALITY_NAMES[r.quality],
            QUALITY_NAMES[r.close_quality] if r.closed else None,
            _iso(r.not_before_ms, utc_offset_h) if bounded else None,
            _iso_up(r.not_after_ms, utc_offset_h) if bounded else None,
            r.import_before / 100, r.export_before / 100,
            r.import_after / 100 if r.closed else None, r.export_after / 100 if r.closed else None,
        ))
    downs = [(address, r.seq, _iso(r.start_ms, utc_offset_h),
              _iso(r.end_ms, utc_offset_h) if r.ended else None,
              QUALITY_NAMES[r.start_quality], QUALITY_NAMES[r.end_quality] if r.ended else None)
             for r in image.power_down]
    daily = [(address, (datetime_from_local_ms(f.time_ms, utc_offset_h) - timedelta(days=1))
              .date().isoformat(), f.import_units / 100, f.export_units / 100,
              _iso(f.time_ms, utc_offset_h)) for f in image.freezes]
    return {"cover_open": sorted(covers), "power_down": sorted(downs),
            "daily_energy": sorted(daily)}
