"""The fleet directory: many meters as files, one NVM image and one small manifest each.

Owns the format (docs/fleet.md) — ``DIR/fleet.toml`` marks the folder, ``DIR/meters/ADDRESS.nvm``
is the meter's EEPROM dump and ``DIR/meters/ADDRESS.toml`` says what the image does not: address,
maker, the bus (gateway) it sits on, UTC offset, energy registers, the clock and whether it is
valid — reading it back (strictly: a folder that is not a fleet, a key nobody defined, a value
of the wrong kind are :class:`FleetError`, naming the file), and writing it from live meters.
The fleet generator writes exactly this; ``meterseal serve --fleet`` reads it.

Must not know: frames, sessions, sockets (the command serves the meters it builds here).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from meterseal.hardware.rtc import local_ms_from_datetime
from meterseal.sim.live import LiveMeter

FORMAT: Final = 1
MARKER: Final = "fleet.toml"
METERS: Final = "meters"
IMAGE_BYTES: Final = 32768  # the 24LC256-like EEPROM of the default profile
DEFAULT_GATEWAY: Final = "gw-001"
OURS: Final = "meterseal"  # the manufacturer number our meters answer (protocols' maker.OURS)

_REQUIRED: Final = {"address", "image", "utc_offset_h", "import_kwh", "export_kwh", "clock"}
_OPTIONAL: Final = {"manufacturer", "gateway", "clock_valid", "rtc_drift_ppm",
                    "password_level02", "max_password_tries_per_day", "programming_key",
                    "scenario"}


class FleetError(ValueError):
    """A fleet directory (or one of its files) is not what docs/fleet.md says (one line)."""


@dataclass(frozen=True, slots=True)
class MeterFile:
    """One meter of a fleet directory: its manifest, read and checked; the image is read when
    the meter is built."""

    address: str
    image: Path
    manufacturer: str
    gateway: str
    utc_offset_h: float
    import_kwh: float
    export_kwh: float
    clock: datetime
    clock_valid: bool
    rtc_drift_ppm: float
    password_level02: str
    max_password_tries_per_day: int
    programming_key: bool
    scenario: str

    def build(self) -> LiveMeter:
        """The live meter this file describes (its RTC reads ``clock`` from now on)."""
        try:
            nvm = self.image.read_bytes()
        except OSError as exc:
            raise FleetError(f"{self.image}: cannot read the image ({exc.strerror})") from None
        if len(nvm) != IMAGE_BYTES:
            raise FleetError(f"{self.image}: an image has {IMAGE_BYTES} bytes, got {len(nvm)}")
        return LiveMeter.from_image(
            nvm, address=self.address, utc_offset_h=self.utc_offset_h,
            energy_units=(round(self.import_kwh * 100), round(self.export_kwh * 100)),
            clock_local_ms=local_ms_from_datetime(self.clock, self.utc_offset_h),
            clock_valid=self.clock_valid, drift_ppm=self.rtc_drift_ppm,
            password02=bytes.fromhex(self.password_level02),
            max_tries=self.max_password_tries_per_day, key_pressed=self.programming_key,
            name=self.scenario or self.address,
        )


@dataclass(frozen=True, slots=True)
class Fleet:
    root: Path
    name: str
    meters: tuple[MeterFile, ...]

    def gateways(self) -> dict[str, list[MeterFile]]:
        """The meters of each bus, by gateway name (sorted), in address order."""
        out: dict[str, list[MeterFile]] = {}
        for m in sorted(self.meters, key=lambda m: (m.gateway, m.address)):
            out.setdefault(m.gateway, []).append(m)
        return out


def load_fleet(root: str | Path) -> Fleet:
    """Read a fleet directory's manifests (not yet its images); FleetError if it is not one."""
    top = Path(root)
    marker = top / MARKER
    if not top.is_dir():
        raise FleetError(f"{top}: no such folder (a fleet directory holds {MARKER} and {METERS}/)")
    if not marker.is_file():
        raise FleetError(f"{top}: not a fleet directory (no {MARKER}; see docs/fleet.md)")
    doc = _toml(marker)
    if doc.get("format") != FORMAT:
        raise FleetError(f"{marker}: format = {FORMAT} expected, got {doc.get('format')!r}")
    meters = tuple(_meter(p) for p in sorted((top / METERS).glob("*.toml")))
    if not meters:
        raise FleetError(f"{top}: a fleet directory with no meters ({METERS}/*.toml)")
    seen: set[str] = set()
    for m in meters:
        if m.address in seen:
            raise FleetError(f"{top}: meter {m.address} appears twice")
        seen.add(m.address)
    return Fleet(top, str(doc.get("name", top.name)), meters)


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise FleetError(f"{path}: not valid TOML ({exc})") from None


def _meter(path: Path) -> MeterFile:
    doc = _toml(path)
    unknown = set(doc) - _REQUIRED - _OPTIONAL
    if unknown:
        raise FleetError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    missing = _REQUIRED - set(doc)
    if missing:
        raise FleetError(f"{path}: missing {sorted(missing)[0]!r}")
    try:
        return _checked(path, doc)
    except (TypeError, ValueError) as exc:
        raise FleetError(f"{path}: {exc}") from None


def _checked(path: Path, doc: Mapping[str, Any]) -> MeterFile:
    address = _get(doc, "address", str)
    if len(address) != 12 or not address.isdecimal():
        raise ValueError(f"address {address!r} is not 12 digits")
    clock = doc["clock"]
    if isinstance(clock, str):
        clock = datetime.fromisoformat(clock)
    if not isinstance(clock, datetime) or clock.tzinfo is None:
        raise ValueError("clock: a time with its offset, e.g. 2026-06-01T00:00:00+08:00")
    offset = _number(doc, "utc_offset_h")
    if not -12 <= offset <= 14:
        raise ValueError(f"utc_offset_h {offset} is not -12..14")
    password = str(doc.get("password_level02", "123456"))
    if len(password) != 6 or not all(c in "0123456789abcdefABCDEF" for c in password):
        raise ValueError("password_level02: six hex digits")
    image = path.parent / _get(doc, "image", str)
    if not image.is_file() or image.stat().st_size != IMAGE_BYTES:
        raise ValueError(f"image {image.name}: not a {IMAGE_BYTES}-byte file beside the manifest")
    return MeterFile(
        address=address, image=image,
        manufacturer=_get(doc, "manufacturer", str, OURS),
        gateway=_get(doc, "gateway", str, DEFAULT_GATEWAY),
        utc_offset_h=offset, import_kwh=_number(doc, "import_kwh", energy=True),
        export_kwh=_number(doc, "export_kwh", energy=True), clock=clock,
        clock_valid=_get(doc, "clock_valid", bool, True),
        rtc_drift_ppm=_number(doc, "rtc_drift_ppm", default=0.0),
        password_level02=password,
        max_password_tries_per_day=_get(doc, "max_password_tries_per_day", int, 3),
        programming_key=_get(doc, "programming_key", bool, False),
        scenario=_get(doc, "scenario", str, ""),
    )


def _get(doc: Mapping[str, Any], key: str, kind: type, default: Any = None) -> Any:
    value = doc.get(key, default)
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise TypeError(f"{key}: expected {kind.__name__}, got {value!r}")
    return value


def _number(doc: Mapping[str, Any], key: str, *, energy: bool = False,
            default: float | None = None) -> float:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"{key}: expected a number, got {value!r}")
    if energy and not 0 <= value < 1_000_000:
        raise ValueError(f"{key}: {value} kWh is outside the register (0..999999.99)")
    return float(value)


# --- writing -----------------------------------------------------------------------------------


def start_fleet(root: str | Path, name: str = "") -> Path:
    """Make ``root`` a (still empty) fleet directory."""
    top = Path(root)
    (top / METERS).mkdir(parents=True, exist_ok=True)
    (top / MARKER).write_text(manifest_text({"format": FORMAT, "name": name or top.name}),
                              encoding="utf-8")
    return top


def manifest_text(fields: Mapping[str, Any]) -> str:
    """A manifest's TOML (flat keys; strings, numbers, booleans, times)."""
    lines = []
    for key, value in fields.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = repr(value)
        elif isinstance(value, datetime):
            text = value.isoformat()
        else:
            text = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def write_meter(root: str | Path, nvm: bytes, fields: Mapping[str, Any]) -> Path:
    """One meter into a fleet directory: ``fields`` are the manifest's keys (``image`` is set
    here); the manifest's path."""
    top = Path(root)
    address = str(fields["address"])
    image = top / METERS / f"{address}.nvm"
    image.write_bytes(nvm)
    path = top / METERS / f"{address}.toml"
    path.write_text(manifest_text({**fields, "image": image.name}), encoding="utf-8")
    return path


def write_live_meter(root: str | Path, meter: LiveMeter, *, gateway: str = DEFAULT_GATEWAY,
                     manufacturer: str = OURS, address: str | None = None) -> Path:
    """A live meter (e.g. after its scenario) as it stands now, into a fleet directory;
    ``address`` puts the same records under another nameplate."""
    imp, exp = meter.energy()
    _local_ms, valid = meter.clock()
    return write_meter(root, meter.nvm_image(), {
        "address": address or meter.address_digits, "manufacturer": manufacturer,
        "gateway": gateway,
        "utc_offset_h": meter.utc_offset_h, "import_kwh": imp / 100, "export_kwh": exp / 100,
        "clock": meter.clock_datetime(), "clock_valid": valid, "scenario": meter.name,
    })
