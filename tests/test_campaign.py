"""`meterseal campaign`: the generator is pure, the adversarial timings land where aimed, the
results do not depend on the workers, failures replay, bad input is refused; and at scale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from meterseal.commands import main
from meterseal.hardware.boundaries import BOUNDARIES
from meterseal.hardware.profile import list_keys, resolve_profile
from meterseal.sim.kernel import Kernel
from meterseal.sim.scenario import CoverOp, load_scenario
from meterseal.sim.scenario_toml import to_toml
from meterseal.verify.campaign.adversaries import ADVERSARIAL_KINDS, JITTER_US
from meterseal.verify.campaign.engine import batch_size, dask_client, run_campaign
from meterseal.verify.campaign.generate import KINDS, PROBE_RAISED, draw
from meterseal.verify.campaign.rows import COLUMN_NAMES, SCHEMA, run_batch
from meterseal.verify.campaign.sampling import MS
from meterseal.verify.result import result_dict, simulate

SAMPLE = [draw(11, i) for i in range(400)]


def _rows(path: Path) -> list[dict]:  # type: ignore[type-arg]
    rows = pq.read_table(path).to_pylist()
    for r in rows:
        del r["runtime_s"]
    return rows


# ---- the generator ---------------------------------------------------------------------------


def test_draw_is_a_pure_function_of_seed_and_index() -> None:
    again = [draw(11, i) for i in reversed(range(400))][::-1]
    assert [d.scenario for d in again] == [d.scenario for d in SAMPLE]
    assert [d.kind for d in again] == [d.kind for d in SAMPLE]
    assert draw(12, 5).scenario != draw(11, 5).scenario


def test_draw_is_the_same_in_another_process_with_another_hash_seed() -> None:
    code = ("from meterseal.verify.campaign.generate import draw;"
            "from meterseal.sim.scenario_toml import to_toml;"
            "print('\\x00'.join(to_toml(draw(11, i).scenario) for i in range(0, 400, 7)))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    here = "\x00".join(to_toml(SAMPLE[i].scenario) for i in range(0, 400, 7))
    assert out == here + "\n"


def test_draws_cover_the_space_the_brief_names() -> None:
    kinds = {d.kind for d in SAMPLE}
    assert set(KINDS) <= kinds <= {*KINDS, PROBE_RAISED}
    profiles = [d.scenario.profile for d in SAMPLE]
    temps = [float(p["ambient.temperature_c"]) for p in profiles]
    assert min(temps) == -40.0 and max(temps) == 85.0
    tol = [float(p["supercap.tolerance"]) for p in profiles]
    assert min(tol) == -0.2 and max(tol) > 0.6 and all(-0.2 <= t <= 0.8 for t in tol)
    ageing = [float(p["supercap.ageing"]) for p in profiles]
    assert all(0.0 <= a <= 0.3 for a in ageing) and max(ageing) > 0.25
    assert {d.battery for d in SAMPLE} == {"good", "weak", "absent"}
    assert {p["supply.topology"] for p in profiles} == {"battery+supercap", "battery-first",
                                                        "supercap-only", "diode-or",
                                                        "battery-only"}
    assert {p["mcu.wake_mode"] for p in profiles} == {"interrupt", "polling"}
    assert {p["cover.bias"] for p in profiles} == {"static", "pulsed"}
    lengths = [o.for_us for d in SAMPLE for o in d.scenario.outages]
    assert min(lengths) < 80 * MS  # a flicker inside the PSU's bulk hold-up
    assert max(lengths) > 2 * 86_400_000_000  # multi-day
    for d in SAMPLE:  # the profile the scenario resolved is the one its overrides give
        assert d.scenario.profile == resolve_profile(dict(d.scenario.overrides))
    # Every key that changes recording behaviour is drawn away from its default somewhere; the
    # protocol faces' keys (address, passwords, keys, the vendor block, settlement instants for
    # broadcast time) change nothing the campaign judges.
    varied = {k for p in profiles for k in p if p[k] != resolve_profile({})[k]}
    untouched = {k.name for k in list_keys()} - varied
    assert untouched <= {"meter.address", "dlt645.password_level02",
                         "dlt645.max_password_tries_per_day", "cover.debounce_s",
                         "dlt645.vendor_prefix", "security.key", "security.lockout_h",
                         "security.factory_mode", "billing.settlement_day",
                         "billing.settlement_hour"}, untouched
    # A share of the boards sit on one of the profile's boundary equalities, named.
    edges = [d.scenario.name for d in SAMPLE if "[" in d.scenario.name]
    assert 0.05 * len(SAMPLE) < len(edges) < 0.2 * len(SAMPLE)
    names = {b.name for b in BOUNDARIES}
    assert all(n[n.index("[") + 1 : n.index("]")] in names for n in edges)


def _edges(d) -> set[int]:  # type: ignore[no-untyped-def]
    sc = d.scenario
    return {op.open_us for op in sc.cover} | {op.close_us for op in sc.cover if op.close_us}


def test_adversarial_timings_land_on_their_boundaries() -> None:
    seen = set()
    for d in SAMPLE:
        if d.kind in ("random", PROBE_RAISED):
            assert d.boundary_us is None
            continue
        seen.add(d.kind)
        p = d.scenario.profile
        assert d.boundary_us is not None and d.placed_us is not None
        if d.kind == "nvm-write-cut":
            assert d.placed_us in {f.at_us for f in d.scenario.faults}
            write_us = round(float(p["nvm.page_write_time_s"]) * 1e6)
            assert d.boundary_us < d.placed_us < d.boundary_us + write_us
            # Causality: what came before the cut is what the probe saw, so the cut lands
            # inside a page write in the final run too, and tears it.
            assert Kernel(d.scenario, trace=False).run().torn_writes >= 1
            continue
        assert d.placed_us in _edges(d), d.kind
        off = d.placed_us - d.boundary_us
        if d.kind in ("brownout", "watch-end"):
            assert abs(off) <= JITTER_US
        elif d.kind == "power-fail-window":
            assert -JITTER_US <= off <= round(float(p["supply.bulk_holdup_s"]) * 1e6) + JITTER_US
        elif d.kind == "restore-debounce":
            debounce_us = round(float(p["cover.debounce_s"]) * 1e6)
            reach = (debounce_us + 2 * round(float(p["cover.sample_period_s"]) * 1e6)
                     + round(float(p["cover.bounce_s"]) * 1e6) + JITTER_US)
            assert -reach <= off <= debounce_us
        else:  # nvm-write-cover
            write_us = round(float(p["nvm.page_write_time_s"]) * 1e6)
            assert 0 < off < write_us
    assert seen == set(ADVERSARIAL_KINDS)


def test_brownout_edges_are_aimed_with_a_probe_of_the_same_past() -> None:
    for d in SAMPLE:
        if d.kind not in ("brownout", "watch-end"):
            continue
        # Without the adversarial edge, the boundary is where the probe found it.
        # (the operation the edge closes stays open past it; what comes after does not matter)
        before = tuple(op if op.close_us is None or op.close_us < d.placed_us
                       else CoverOp(op.open_us, None)
                       for op in d.scenario.cover if op.open_us < d.placed_us)
        probe = d.scenario.__class__(
            name="probe", start=d.scenario.start, duration_us=d.scenario.duration_us,
            seed=d.scenario.seed, overrides=d.scenario.overrides,
            outages=d.scenario.outages, cover=before, faults=d.scenario.faults,
            loads=d.scenario.loads)
        log = Kernel(probe, trace=False).run()
        attr = "brownout_us" if d.kind == "brownout" else "watch_until_us"
        assert d.boundary_us in {getattr(o, attr) for o in log.outages}


def test_batch_size_depends_on_the_number_of_scenarios_only() -> None:
    assert batch_size(1) == 1
    assert batch_size(128) == 1
    assert batch_size(10_000) == 79
    assert batch_size(100_000) == 250


def test_a_batch_fills_every_column_of_the_schema() -> None:
    b = run_batch(11, 0, 12)
    assert set(b.columns) == set(COLUMN_NAMES) == set(SCHEMA.names)
    assert b.columns["index"] == list(range(12))
    assert all(e is None for e in b.columns["error"])
    for i, passed in enumerate(b.columns["passed"]):
        assert passed == all(b.columns[k][i] for k in ("I1", "I2", "I3", "I4", "I5", "I6"))
    assert {i for i, _t in b.failures} == {i for i, p in enumerate(b.columns["passed"]) if not p}


def test_a_scenario_that_raises_is_a_failing_row_with_its_toml(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from meterseal.verify.campaign import rows

    def boom(sc, trace=False):  # type: ignore[no-untyped-def]
        raise RuntimeError("kernel\nexploded")

    monkeypatch.setattr(rows, "simulate", boom)
    r, text = rows.run_one(11, 3)
    assert r["passed"] is False and r["error"] == "RuntimeError: kernel exploded"
    assert r["I1"] is None and r["kind"] == SAMPLE[3].kind
    assert text is not None and "RuntimeError: kernel exploded" in text
    assert load_scenario_text(text) == SAMPLE[3].scenario


def load_scenario_text(text: str):  # type: ignore[no-untyped-def]
    import tomllib

    from meterseal.sim.scenario import parse_scenario

    return parse_scenario(tomllib.loads(text))


def test_a_campaign_scenario_replays_from_its_file_to_the_same_result(tmp_path: Path,
                                                                      capsys) -> None:  # type: ignore[no-untyped-def]
    for d in (SAMPLE[i] for i in (3, 17, 42)):
        path = tmp_path / f"{d.index}.toml"
        path.write_text(to_toml(d.scenario), encoding="utf-8")
        assert load_scenario(path) == d.scenario
        code = main(["run", str(path), "--json"])
        replay = json.loads(capsys.readouterr().out)
        expected = result_dict(simulate(d.scenario, trace=False))
        assert replay == json.loads(json.dumps(expected))
        assert code == (0 if all(v == "pass" for v in expected["invariants"].values()) else 1)


# ---- on a real cluster -----------------------------------------------------------------------


def test_small_campaign_on_local_clusters_same_rows_with_one_and_two_workers(
        tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    n, seed = 48, 5
    with dask_client(workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        two = run_campaign(client, n, seed, batch=3)
    one_path = tmp_path / "one.parquet"
    code = main(["campaign", "--scenarios", str(n), "--seed", str(seed), "--workers", "1",
                 "--out", str(one_path), "--failures", str(tmp_path / "fail"), "--quiet"])
    printed = capsys.readouterr().out
    assert "violating" in printed and "undetectable openings by cause" in printed
    assert two.workers == 2 and two.table.num_rows == n
    assert two.table.column("index").to_pylist() == list(range(n))
    two_path = tmp_path / "two.parquet"
    pq.write_table(two.table, two_path)
    assert _rows(one_path) == _rows(two_path)  # other batches, other workers: same rows
    failing = [r for r in _rows(one_path) if not r["passed"]]
    assert code == (1 if failing else 0)
    files = sorted((tmp_path / "fail").glob("*.toml")) if failing else []
    assert len(files) == len(failing)
    for path, r in zip(files, failing, strict=True):  # each failing file replays to its row
        out = simulate(load_scenario(path), trace=False)
        assert not out.judgment.passed
        assert [f"{k}: {m}" for k, ms in out.judgment.problems.items() for m in ms] == \
            r["problems"]


def test_campaign_on_a_remote_scheduler_by_url(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import logging

    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR, host="127.0.0.1") as cluster:
        out = tmp_path / "remote.parquet"
        main(["campaign", "--scenarios", "20", "--seed", "5", "--scheduler",
              cluster.scheduler_address, "--out", str(out), "--failures",
              str(tmp_path / "f"), "--quiet"])
    assert "2 worker(s)" in capsys.readouterr().out.replace("\n", " ")
    local = run_batch(5, 0, 20).columns
    rows = _rows(out)
    assert [r["passed"] for r in rows] == local["passed"]
    assert [r["problems"] for r in rows] == local["problems"]


# ---- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, says", [
    (["--scenarios", "0", "--seed", "1"], "--scenarios"),
    (["--scenarios", "ten", "--seed", "1"], "--scenarios"),
    (["--scenarios", "5"], "--seed"),
    (["--scenarios", "5", "--seed", "-1"], "--seed"),
    (["--scenarios", "5", "--seed", "1", "--workers", "0"], "--workers"),
    (["--scenarios", "5", "--seed", "1", "--scheduler", "localhost"], "--scheduler"),
    (["--scenarios", "5", "--seed", "1", "--scheduler", "tcp://127.0.0.1:1"], "cannot reach"),
    (["--scenarios", "5", "--seed", "1", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
     "--workers"),
    (["--scenarios", "5", "--seed", "1", "--out", "/no/such/dir/x.parquet"], "--out"),
    (["--scenarios", "5", "--seed", "1", "--batch", "0"], "--batch"),
    (["--scenarios", "5", "--seed", "1", "--workers", "100000"], "--workers"),
    # Schemes Dask answered with a traceback (no TLS options, no in-process scheduler, no UCX).
    (["--scenarios", "1", "--seed", "1", "--scheduler", "tls://127.0.0.1:1"], "--scheduler"),
    (["--scenarios", "1", "--seed", "1", "--scheduler", "inproc://x"], "--scheduler"),
    (["--scenarios", "1", "--seed", "1", "--scheduler", "ucx://127.0.0.1:1"], "--scheduler"),
    (["--scenarios", "1", "--seed", "1", "--scheduler", "tcp://127.0.0.1"], "--scheduler"),
])
def test_bad_input_is_one_line_and_exit_2(argv, says, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["campaign", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and "Traceback" not in err


def test_failures_path_that_is_a_file_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["campaign", "--scenarios", "5", "--seed", "1", "--failures", str(f),
                 "--out", str(tmp_path / "o.parquet")]) == 2
    assert "--failures" in capsys.readouterr().err


# ---- at scale --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.scale
def test_campaign_of_100k_scenarios(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    n = 100_000
    t0 = time.perf_counter()
    out = tmp_path / "100k.parquet"
    code = main(["campaign", "--scenarios", str(n), "--seed", "2026", "--workers", "2",
                 "--out", str(out), "--failures", str(tmp_path / "failures"), "--quiet"])
    elapsed = time.perf_counter() - t0
    summary = capsys.readouterr().out
    table = pq.read_table(out)
    assert table.num_rows == n
    assert table.column("index").to_pylist() == list(range(n))
    assert table.column("error").null_count == n, "a scenario raised"
    failing = n - sum(table.column("passed").to_pylist())
    files = sorted((tmp_path / "failures").glob("*.toml")) if failing else []
    assert len(files) == failing
    print(f"{n} scenarios in {elapsed:.0f} s ({n / elapsed:.0f}/s), {failing} failing")
    assert code == 0, f"{failing} scenarios broke an invariant:\n{summary}"
