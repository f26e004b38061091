"""Inputs an adversarial user types: each ends with a result or one line and exit status 2, never a
traceback, a hang, or a lost file."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

BASE = """
name = "bad input"
start = "2026-03-01T08:00:00+08:00"
duration = "1d"

[[outage]]
at = "1h"
for = "1h"
"""


def meterseal(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meterseal", *args], capture_output=True,
                          text=True, timeout=120, **kw)  # type: ignore[call-overload]


def _one_line_exit_2(r: subprocess.CompletedProcess[str], needle: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0], lines[0]


def test_battery_exactly_at_its_undervoltage_level_runs_to_the_end(tmp_path: Path) -> None:
    """Was a livelock: the crossing re-armed at the same microsecond forever (1.6 GB in 30 s)."""
    p = tmp_path / "s.toml"
    p.write_text(BASE.replace("[[outage]]", '[meter]\n"battery.voltage_v" = 2.5\n'
                              '"battery.undervoltage_v" = 2.5\n\n[[outage]]'), encoding="utf-8")
    r = meterseal("run", str(p), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["invariants"]["I5"] == "pass"


SCENARIOS = {
    "start-before-2000": (BASE.replace("2026-03-01", "1999-06-01"), "calendar"),
    "ends-after-2099": (BASE.replace("2026-03-01", "2099-12-31"), "calendar"),
    "outage-of-1e14-days": (BASE.replace('for = "1h"', 'for = "100000000000000d"'), "calendar"),
    "5000-digit-duration": (BASE.replace('"1d"', '"' + "9" * 5000 + 'd"'), "duration"),
    "full-width-digits": (BASE.replace('"1d"', '"１d"'), "duration"),
    "import-nan": (BASE + "\n[[load]]\nimport_w = nan\n", "import_w"),
    "import-inf": (BASE + "\n[[load]]\nimport_w = inf\n", "import_w"),
    "import-1e15": (BASE + "\n[[load]]\nimport_w = 1e15\n", "import_w"),
    "page-size-32": (BASE.replace("[[outage]]", '[meter]\n"nvm.page_size" = 32\n\n[[outage]]'),
                     "nvm.page_size"),
    "poll-below-1us": (BASE.replace("[[outage]]", '[meter]\n"mcu.poll_period_s" = 1e-7\n\n'
                                    "[[outage]]"), "mcu.poll_period_s"),
    "cover-after-the-end": (BASE + '\n[[cover]]\nopen_at = "2d"\n', "end"),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_bad_scenario(name: str, tmp_path: Path) -> None:
    text, needle = SCENARIOS[name]
    p = tmp_path / "s.toml"
    p.write_text(text, encoding="utf-8")
    _one_line_exit_2(meterseal("run", str(p)), needle)


def test_rich_markup_in_a_name_is_printed_not_interpreted(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text(BASE.replace('"bad input"', '"[/red] [link=http://x]click[/link]"'),
                 encoding="utf-8")
    r = meterseal("run", str(p))
    assert r.returncode == 0, r.stderr
    assert "[/red] [link=http://x]click[/link]" in r.stdout


@pytest.mark.parametrize("args, needle", [
    (("read", "--dlt645", "tcp://127.0.0.1:1", "--timeout", "nan"), "--timeout"),
    (("read", "--dlt645", "tcp://127.0.0.1:1", "--timeout", "inf"), "--timeout"),
    (("read", "--dlt645", "tcp://127.0.0.1:1", "--utc-offset", "nan"), "--utc-offset"),
    (("campaign", "--scenarios", "5", "--seed", "1", "--workers", "100000"), "--workers"),
    (("run", "GOOD", "--plot", "/proc/version"), "--plot"),
    (("run", "GOOD", "--trace", "/dev/full"), "--trace"),
])
def test_bad_option(args: tuple[str, ...], needle: str, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(BASE, encoding="utf-8")
    _one_line_exit_2(meterseal(*[str(good) if a == "GOOD" else a for a in args]), needle)


def _limit_file_size() -> None:
    # A device that fills up: writes past 16 KiB fail with EFBIG instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))


def test_a_full_device_keeps_the_old_plot_and_says_so(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(BASE, encoding="utf-8")
    plot = tmp_path / "run.png"
    plot.write_bytes(b"the plot of yesterday")
    r = meterseal("run", str(good), "--plot", str(plot), preexec_fn=_limit_file_size)
    _one_line_exit_2(r, "--plot")
    assert plot.read_bytes() == b"the plot of yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.toml", "run.png"]


def test_json_to_a_full_stdout_is_one_line(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(BASE, encoding="utf-8")
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "meterseal", "run", str(good), "--json"],
                           stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_an_output_write_that_fails_keeps_the_old_file_and_leaves_no_temporary(
        tmp_path: Path) -> None:
    """What every command's output goes through (campaign --out used to delete its target when
    the write failed)."""
    import errno

    from meterseal.commands._paths import atomic_write
    from meterseal.errors import UsageError

    out = tmp_path / "results.parquet"
    out.write_bytes(b"last week's results")
    with pytest.raises(UsageError, match="--out"), atomic_write(out, "--out", mode="wb") as fh:
        fh.write(b"half of this week's")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert out.read_bytes() == b"last week's results"
    assert [p.name for p in tmp_path.iterdir()] == ["results.parquet"]
    with atomic_write(out, "--out", mode="wb") as fh:
        fh.write(b"this week's")
    assert out.read_bytes() == b"this week's"
