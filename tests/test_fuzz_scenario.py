"""Scenario files a user could write, fed to `meterseal run FILE --json` in-process: every one ends
with exit 0 or 1 and the result JSON, or exit 2 and one line on stderr — never a traceback, a
hang or a memory blow-up.

Time is bounded by construction: at most a handful of operations of each kind, and durations
that valid documents draw small (a wild duration is either refused or a long idle scenario that
the kernel fast-forwards). Memory is checked: the peak resident size may not grow by 2 GB in a
case."""

from __future__ import annotations

import contextlib
import io
import json
import resource
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from meterseal.commands import main
from tests.toml_docs import scenario_documents, to_toml_text

MAX_RSS_GROWTH_KB = 2 * 1024 * 1024  # ru_maxrss is in KiB on Linux

_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                              HealthCheck.function_scoped_fixture],
}


def run_in_process(*argv: str) -> tuple[int, str, str]:
    """``meterseal ARGV`` in this process: (exit status, stdout, stderr). An exception that
    leaves ``main`` is a traceback a user would see: it fails the test as it is."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def check_outcome(code: int, out: str, err: str) -> None:
    """0/1 with output (and no traceback), or 2 with exactly one line on stderr."""
    assert "Traceback" not in err, err
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("meterseal: error: "), err
        assert len(lines[0]) > len("meterseal: error: ")
    else:
        assert code in (0, 1), (code, err)


def check_run(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    code, out, err = run_in_process("run", str(path), "--json")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < MAX_RSS_GROWTH_KB, f"peak memory grew by {grown / 1024:.0f} MiB"
    check_outcome(code, out, err)
    if code == 2:
        event("refused")
        return
    result = json.loads(out)
    assert set(result["invariants"]) == {f"I{i}" for i in range(1, 7)}
    event(f"ran, exit {code}")


@st.composite
def documents(draw: st.DrawFn) -> str:
    """The text of a scenario file: a generated document (valid TOML), or now and then that
    text cut short or with a few bytes changed (TOML or not)."""
    text = to_toml_text(draw(scenario_documents()))
    how = draw(st.integers(0, 19))
    if how == 0 and text:
        return text[: draw(st.integers(0, len(text) - 1))]
    if how == 1 and text:
        at = draw(st.integers(0, len(text) - 1))
        return text[:at] + draw(st.sampled_from(["=", "[", "]", '"', "\n", "\\", "\x00", "\ufeff"])
                                ) + text[at:]
    return text


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-scenario") / "scenario.toml"


@settings(max_examples=200, **_COMMON)
@given(scenario_documents())
def test_generated_documents_are_toml(doc: dict[str, Any]) -> None:
    """The generator's own check: its documents parse, so the cases reach the scenario layer."""
    tomllib.loads(to_toml_text(doc))


@settings(max_examples=200, derandomize=True, **_COMMON)
@given(documents())
def test_any_scenario_file_runs_or_is_refused_in_one_line(scratch: Path, text: str) -> None:
    check_run(scratch, text)


@pytest.mark.slow
@settings(max_examples=10_000, **_COMMON)
@given(documents())
def test_many_scenario_files_run_or_are_refused_in_one_line(scratch: Path, text: str) -> None:
    check_run(scratch, text)
