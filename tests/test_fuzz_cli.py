"""Argument lists a user could type, for every subcommand, run in-process through
`meterseal.commands.main`: known options with odd values (nan, inf, negative, huge, empty,
unicode), unknown options, missing required ones, paths to folders, devices, /proc and folders
that do not exist. Every case ends with exit 0 or 1, or exit 2 and one line on stderr — never a
traceback. Paths that must not exist are ones not even root can create (/proc/…, /dev/null/…):
commands create missing output folders, and the cases run as root; relative ones land in a
temporary folder the cases run in.

Only the long jobs are cut short, after every check of their arguments has run: a campaign of
more than a handful of scenarios stops where it would start its cluster (a handful run on one
in-process Dask cluster shared by the cases), `serve` stops where it would wait for Ctrl-C (it
has bound its port, loopback only, and opened its serial device), and the verification matrix
runs once and is reused (a pure function of the code)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import shutil
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from meterseal.commands import main
from meterseal.hardware.profile import list_keys
from tests.test_fuzz_scenario import check_outcome
from tests.toml_docs import duration_texts, tricky_text

HANDFUL = 3  # scenarios a fuzzed campaign may really run

GOOD = """name = "cli fuzz"
start = "2026-03-01T08:00:00+08:00"
duration = "2h"

[[outage]]
at = "10min"
for = "30min"

[[cover]]
open_at = "20min"
close_at = "25min"
"""

# ---------------------------------------------------------------------------- the values

NUMBERS = st.one_of(
    st.sampled_from(["nan", "-nan", "inf", "-inf", "-1", "0", "1", "2", "3", "1e308", "-1e308",
                     "1e-400", "99999999999999999999", "9223372036854775808", "", " ", "１",
                     "٣", "0x10", "1_000", "5 ", "1.5", "-0", "0.0", "1e3", "+2", "--1"]),
    st.integers().map(str),
    st.floats().map(repr),
    tricky_text,
)
SMALL_COUNTS = st.one_of(st.integers(1, HANDFUL).map(str), NUMBERS)
PATHS = st.sampled_from([
    "{GOOD}", "{BAD}", "{DIR}", "{FILE}", "{TMP}/out.png", "{TMP}/новый файл.csv",
    "{TMP}/new-dir", "{TMP}/no/such/dir/x", "{TMP}/", "/dev/full", "/dev/null", "/proc/version",
    "/proc/self/status", "/proc", "/proc/no-such-dir/x", "/dev/null/x", "", "-", " ", "\u200f",
    "[/red]",
])
LINKS = st.one_of(
    st.sampled_from([
        "tcp://127.0.0.1:0", "tcp://127.0.0.1:1", "tcp://[::1]:0", "tcp://localhost:0",
        "tcp://127.0.0.1:99999", "tcp://127.0.0.1:", "tcp://:1", "tcp://127.0.0.1:-1",
        "tcp://127.0.0.1:1/x", "udp://127.0.0.1:1", "tcp://１２７.0.0.1:0", "tcp://[::1",
        "serial:", "serial:/dev/null", "serial:/dev/full", "serial:/proc/version",
        "serial:/proc/no-such-tty", "serial:{DIR}", "serial:/dev/null:0", "serial:/dev/null:-5",
        "serial:/dev/null:99999999999999999999", "serial:/dev/null:abc", "", " ", "127.0.0.1",
    ]),
    tricky_text,
)
SERIALS = st.one_of(
    st.sampled_from(["/dev/null", "/dev/full", "/proc/version", "/proc/no-such-tty", "{DIR}",
                     "{FILE}", "/dev/null:0", "/dev/null:9600", "/dev/null:-1", "serial:",
                     "", ":", "/dev/null:99999999999999999999"]),
    tricky_text,
)
SCHEDULERS = st.sampled_from([
    "tcp://127.0.0.1:1", "tcp://[::1]:1", "tcp://127.0.0.1", "tls://127.0.0.1:1", "inproc://x",
    "ucx://127.0.0.1:1", "localhost", "", "tcp://127.0.0.1:99999", "tcp://:1",
])
_KEY_NAMES = [k.name for k in list_keys()]
SETS = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from([*_KEY_NAMES, "no.such_key", ""]),
              st.one_of(NUMBERS, st.sampled_from(["true", "false", '"polling"', "polling",
                                                  '"pulsed"', "battery-only"]))),
    tricky_text,
)
CANDIDATES = st.one_of(
    st.lists(st.sampled_from(["0.1", "0.47", "1.0", "1000", "1001", "0", "-1", "nan", "inf",
                              "1e-7", "", " 2 ", "x"]), min_size=1, max_size=4).map(",".join),
    tricky_text,
)

# subcommand -> (positional values or None, [(option, values or None for a flag, required)])
OPTIONS: dict[str, tuple[Any, list[tuple[str, Any, bool]]]] = {
    "run": (PATHS, [("--json", None, False), ("--plot", PATHS, False),
                    ("--trace", PATHS, False)]),
    "verify": (None, [("--report", PATHS, False), ("--quiet", None, False)]),
    "campaign": (None, [("--scenarios", SMALL_COUNTS, True), ("--seed", NUMBERS, True),
                        ("--workers", SMALL_COUNTS, False), ("--out", PATHS, False),
                        ("--failures", PATHS, False), ("--batch", SMALL_COUNTS, False),
                        ("--scheduler", SCHEDULERS, False), ("--quiet", None, False)]),
    "size": (None, [("--watch", st.one_of(st.sampled_from(["72h", "1h", "-5h", "1us"]),
                                          duration_texts()), True),
                    ("--temperature", NUMBERS, False), ("--tolerance", NUMBERS, False),
                    ("--ageing", NUMBERS, False),
                    ("--battery", st.one_of(st.sampled_from(["good", "weak", "absent"]),
                                            tricky_text), False),
                    ("--openings", NUMBERS, False), ("--set", SETS, False),
                    ("--candidates", CANDIDATES, False),
                    ("--part-family", st.one_of(st.just("eaton-pb"), tricky_text), False),
                    ("--plot", PATHS, False), ("--json", None, False)]),
    "serve": (None, [("--scenario", PATHS, True), ("--dlt645", LINKS, False),
                     ("--serial", SERIALS, False)]),
    "read": (None, [("--dlt645", LINKS, True), ("--address", st.one_of(
        st.sampled_from(["000000000001", "AAAAAAAAAAAA", "１２３４５６７８９０１２", "1" * 13,
                         ""]), tricky_text), False),
                    ("--json", None, False), ("--timeout", st.one_of(
                        st.sampled_from(["0.05", "0.2"]), NUMBERS), False),
                    ("--utc-offset", NUMBERS, False)]),
}
UNKNOWN = st.sampled_from(["--bogus", "-x", "--json=yes", "--", "-", "--help-me", "--quiet=1",
                           "--scenarios", "--seed=", "--=", "-h"])


@st.composite
def argument_lists(draw: st.DrawFn) -> list[str]:
    """One subcommand (or none, or an unknown one) with its options: each required one there
    nine times in ten, each other one half the time, in `--opt value` or `--opt=value` form;
    now and then an unknown option, a repeated one, or the order shuffled."""
    sub = draw(st.sampled_from([*OPTIONS, *OPTIONS, "", "bogus", "--version", "RUN"]))
    if sub not in OPTIONS:
        return [sub] if sub else []
    positional, options = OPTIONS[sub]
    words: list[list[str]] = []
    if positional is not None and draw(st.integers(0, 9)) > 0:
        words.append([draw(positional)])
    for flag, values, required in options:
        if not (draw(st.integers(0, 9)) > 0 if required else draw(st.booleans())):
            continue
        for _ in range(1 + (draw(st.integers(0, 9)) == 0)):  # sometimes twice
            if values is None:
                words.append([flag])
            elif draw(st.integers(0, 3)) == 0:
                words.append([f"{flag}={draw(values)}"])
            else:
                words.append([flag, draw(values)])
    if draw(st.integers(0, 5)) == 0:
        words.append([draw(UNKNOWN)])
    if draw(st.integers(0, 5)) == 0:
        words = draw(st.permutations(words))
    return [sub] + [w for group in words for w in group]


# ------------------------------------------------------------------- the long jobs, cut short


class LongJob(Exception):
    """Raised where a legitimately long job would start: its arguments have all been checked."""


class _SetEvent(asyncio.Event):
    """`serve`'s stop event, already set: the server stops as soon as it is serving."""

    def __init__(self) -> None:
        super().__init__()
        self.set()


@pytest.fixture(scope="module")
def dask_in_process() -> Iterator[Any]:
    from distributed import Client

    client = Client(processes=False, n_workers=1, threads_per_worker=1,
                    dashboard_address=None)
    try:
        yield client
    finally:
        client.close()


def _cached_report(real: Any, cache: Path) -> Any:
    """``write_report`` drawn once into ``cache`` (its first case only), then copied: the matrix
    is the same every time, and drawing its plots is the slowest thing a case could do; the
    command's own handling of the folder is what is fuzzed."""

    def write_report(results: Any, directory: str | Path, extra_sections: Any = (),
                     experiment_rows: Any = None) -> Path:
        if not (cache / "index.html").exists():
            real(results[:1], cache, extra_sections, experiment_rows=experiment_rows)
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for f in cache.iterdir():
            shutil.copyfile(f, d / f.name)
        return d / "index.html"

    return write_report


@pytest.fixture(scope="module")
def long_jobs_cut(dask_in_process: Any, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[None]:
    from meterseal.commands import serve
    from meterseal.verify import report
    from meterseal.verify.campaign import engine

    real_reachable = engine._reachable

    @contextlib.contextmanager
    def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
        if scheduler is not None:
            real_reachable(scheduler)  # loopback addresses only: refused at once
            raise LongJob("a campaign on a remote scheduler")
        yield dask_in_process

    real_run_campaign = engine.run_campaign

    def run_campaign(client: Any, scenarios: int, seed: int, **kw: Any) -> Any:
        if scenarios > HANDFUL:
            raise LongJob(f"a campaign of {scenarios} scenarios")
        return real_run_campaign(client, scenarios, seed, **kw)

    fake_asyncio = types.SimpleNamespace(run=asyncio.run, Event=_SetEvent,
                                         get_running_loop=asyncio.get_running_loop)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "dask_client", dask_client)
        mp.setattr(engine, "run_campaign", run_campaign)
        mp.setattr(report, "run_matrix", functools.cache(report.run_matrix))
        mp.setattr(report, "write_report", _cached_report(report.write_report,
                                                          tmp_path_factory.mktemp("report")))
        mp.setattr(serve, "asyncio", fake_asyncio)
        yield


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Files and folders the arguments name; the cases run in this folder too, so that a
    relative or default output (campaign.parquet, a report folder named " ") lands here."""
    root = tmp_path_factory.mktemp("fuzz-cli")
    (root / "good.toml").write_text(GOOD, encoding="utf-8")
    (root / "bad.toml").write_text("start = = 1\n", encoding="utf-8")
    (root / "a-dir").mkdir()
    (root / "a-file").write_text("not a folder", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        yield {"{GOOD}": str(root / "good.toml"), "{BAD}": str(root / "bad.toml"),
               "{DIR}": str(root / "a-dir"), "{FILE}": str(root / "a-file"), "{TMP}": str(root)}


def _fill(word: str, places: dict[str, str]) -> str:
    for k, v in places.items():
        word = word.replace(k, v)
    return word


def run_argv(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` in-process; a SystemExit (argparse's --help) is its exit status."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
    return code, out.getvalue(), err.getvalue()


def check_argv(argv: list[str], places: dict[str, str]) -> None:
    argv = [_fill(w, places) for w in argv]
    try:
        code, out, err = run_argv(argv)
    except LongJob as job:
        event(f"cut short: {str(job).split(' of ')[0]}")
        return
    check_outcome(code, out, err)
    if code in (0, 1) and argv and argv[0] != "--version":
        assert out.strip() or err.strip(), argv
    event(f"{argv[0] if argv else '(none)'}: exit {code}")


_COMMON: dict[str, Any] = {"deadline": None,
                           "suppress_health_check": [HealthCheck.too_slow,
                                                     HealthCheck.function_scoped_fixture]}


@settings(max_examples=200, derandomize=True, **_COMMON)
@given(argv=argument_lists())
def test_any_argument_list_ends_in_a_result_or_one_line(argv: list[str], places: dict[str, str],
                                                        long_jobs_cut: None) -> None:
    check_argv(argv, places)


@pytest.mark.slow
@settings(max_examples=10_000, **_COMMON)
@given(argv=argument_lists())
def test_many_argument_lists_end_in_a_result_or_one_line(argv: list[str],
                                                         places: dict[str, str],
                                                         long_jobs_cut: None) -> None:
    check_argv(argv, places)


def test_serve_refuses_a_bad_argument_before_it_listens(places: dict[str, str]) -> None:
    """Not cut short: the real `serve`, which must exit 2 before it would block."""
    for argv in (["serve", "--scenario", places["{GOOD}"], "--dlt645", "tcp://127.0.0.1:99999"],
                 ["serve", "--scenario", places["{BAD}"], "--dlt645", "tcp://127.0.0.1:0"],
                 ["serve", "--scenario", places["{GOOD}"], "--serial", "/dev/null:0"],
                 ["serve", "--scenario", places["{GOOD}"], "--dlt645", "udp://127.0.0.1:0"]):
        code, out, err = run_argv(argv)
        check_outcome(code, out, err)
        assert code == 2, (argv, out, err)
