"""DESIGN.md's table of rooms: which package may import which. Read from the source with ast, so
a new import that breaks a layer fails here, named, before anyone has to find it in review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "meterseal"

# The firmware's record codec: what code outside the firmware may decode NVM images with.
CODEC = {
    "records", "image", "layout", "bcd", "caltime", "crc", "pending", "report", "compat", "authlog",
    "chain", "hmac256",
    "reportword", "pagecodec", "pagemap", "meterimage",
}

# room -> rooms (or "firmware:codec") it may import, besides itself and errors.
ALLOWED: dict[str, set[str]] = {
    "firmware": set(),
    "hardware": set(),
    "sim": {"firmware", "hardware"},
    "verify": {"sim", "hardware", "firmware:codec"},
    "protocols": {"firmware:codec"},
    "fleet": {"sim", "hardware", "protocols", "firmware:codec"},
    "headend": {"protocols"},
    "web": {"headend"},
    "commands": {"*"},
    "__main__": {"commands"},
}


def _room(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return [(n, m) for n, m in out if m == "meterseal" or m.startswith("meterseal.")]


def _allowed(room: str, target: list[str]) -> bool:
    if len(target) < 2:
        return True  # the package root (its __init__ holds nothing)
    other = target[1]
    if other in (room, "errors"):
        return room != "errors" or other == "errors"
    rules = ALLOWED.get(room, set())
    if "*" in rules or other in rules:
        return True
    return other == "firmware" and "firmware:codec" in rules and len(target) > 2 \
        and target[2] in CODEC


FILES = sorted(p for p in SRC.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_what_its_room_may(path: Path) -> None:
    room = _room(path)
    bad = [f"line {n}: {m}" for n, m in _imports(path) if not _allowed(room, m.split("."))]
    assert not bad, f"{path.relative_to(SRC)} ({room}/) imports across its layer: {bad}"


def test_the_rules_can_fail() -> None:
    assert not _allowed("headend", ["meterseal", "firmware", "bcd"])
    assert not _allowed("protocols", ["meterseal", "sim", "live"])
    assert not _allowed("hardware", ["meterseal", "sim", "kernel"])
    assert not _allowed("verify", ["meterseal", "commands"])
    assert _allowed("verify", ["meterseal", "firmware", "records"])
