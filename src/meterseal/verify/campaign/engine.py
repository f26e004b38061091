"""Running a campaign on Dask: the cluster, the batches, the progress bar, the results files.

Owns where the work runs — a ``distributed.LocalCluster`` of worker processes by default (one
thread each: the simulator is pure Python, so processes, not threads, give parallelism), or a
remote scheduler given by URL (its workers must have meterseal installed) — and how it is cut:
batches of consecutive indices whose size depends on the number of scenarios only, never on the
workers, so the results are the same whatever runs them. It gathers the batches' rows into one
Arrow table sorted by index, writes it to Parquet, and writes each failing scenario's TOML.
What a row holds is rows.py's business; what a scenario is, generate.py's.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from meterseal.verify.campaign.rows import SCHEMA, Batch, run_batch

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "CampaignError",
    "CampaignResult",
    "batch_size",
    "dask_client",
    "default_workers",
    "run_campaign",
    "write_failures",
    "write_parquet",
]

MAX_BATCH = 250
TARGET_BATCHES = 128


class CampaignError(ValueError):
    """A campaign that cannot run as asked (an unreachable scheduler, no workers)."""


def batch_size(n: int) -> int:
    """Scenarios per task: enough tasks to balance any cluster (about TARGET_BATCHES), each
    large enough (up to MAX_BATCH ≈ 1 s of work) to amortise the scheduler's per-task cost.
    A function of ``n`` alone."""
    return max(1, min(MAX_BATCH, -(-n // TARGET_BATCHES)))


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A Dask client: on a fresh LocalCluster of ``workers`` processes (default: all cores), or
    connected to the scheduler at ``scheduler`` (``tcp://HOST:PORT``). Closed on exit."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        _reachable(scheduler)
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise CampaignError(f"--scheduler {scheduler}: cannot reach the Dask scheduler "
                                f"({exc.__class__.__name__})") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or default_workers()
    try:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
    except (OSError, RuntimeError, TimeoutError) as exc:
        raise CampaignError(f"cannot start a local Dask cluster of {n} workers "
                            f"({exc.__class__.__name__}: {exc})") from None
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _reachable(scheduler: str) -> None:
    """Fail fast, in one line, when nothing listens at a tcp:// scheduler address (Dask's own
    client would retry for its whole timeout first)."""
    if not scheduler.startswith("tcp://"):
        return
    host, _, port = scheduler[len("tcp://"):].rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise CampaignError(f"--scheduler {scheduler}: expected tcp://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=5.0).close()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise CampaignError(f"--scheduler {scheduler}: cannot reach the Dask scheduler "
                            f"({reason})") from None


@dataclass(frozen=True, slots=True)
class CampaignResult:
    seed: int
    scenarios: int
    table: pa.Table  # one row per scenario, sorted by index, SCHEMA
    failures: tuple[tuple[int, str], ...]  # (index, TOML) of each failing scenario, by index
    elapsed_s: float  # wall time from the first task submitted to the last row gathered
    workers: int

    @property
    def failed(self) -> int:
        """Scenarios that broke an invariant or raised."""
        return self.table.num_rows - sum(1 for p in self.table.column("passed").to_pylist() if p)

    @property
    def rate(self) -> float:
        return self.scenarios / self.elapsed_s if self.elapsed_s > 0 else float("inf")


def run_campaign(
    client: Client,
    scenarios: int,
    seed: int,
    *,
    batch: int | None = None,
    on_batch: Callable[[int], Any] | None = None,
) -> CampaignResult:
    """Run scenarios 0..scenarios-1 of campaign ``seed`` on the client's cluster.

    ``on_batch(n)`` is called as each batch of ``n`` scenarios comes back (a progress bar).
    """
    from distributed import as_completed

    if scenarios < 1:
        raise CampaignError("--scenarios: need at least one scenario")
    size = batch or batch_size(scenarios)
    bounds = [(lo, min(scenarios, lo + size)) for lo in range(0, scenarios, size)]
    try:
        client.wait_for_workers(1, timeout=60)
    except TimeoutError:
        raise CampaignError("the Dask cluster has no workers (none joined within 60 s)") from None
    n_workers = len(client.scheduler_info().get("workers", {}))
    t0 = time.perf_counter()
    futures = [client.submit(run_batch, seed, lo, hi, pure=False) for lo, hi in bounds]
    batches: list[Batch] = []
    for fut in as_completed(futures):
        b: Batch = fut.result()
        batches.append(b)
        fut.release()
        if on_batch is not None:
            on_batch(len(b))
    elapsed = time.perf_counter() - t0
    batches.sort(key=lambda b: b.lo)
    table = pa.concat_tables([pa.Table.from_pydict(b.columns, schema=SCHEMA) for b in batches])
    failures = tuple(f for b in batches for f in b.failures)
    return CampaignResult(seed, scenarios, table, failures, elapsed, n_workers)


def write_parquet(result: CampaignResult, where: str | Path | BinaryIO) -> None:
    """The results as Parquet, to a path or an open binary file."""
    meta = {b"meterseal.campaign.seed": str(result.seed).encode(),
            b"meterseal.campaign.scenarios": str(result.scenarios).encode()}
    table = result.table.replace_schema_metadata({**(result.table.schema.metadata or {}), **meta})
    pq.write_table(table, where)


def failure_path(directory: Path, seed: int, index: int) -> Path:
    return directory / f"campaign-{seed}-{index:07d}.toml"


def write_failures(result: CampaignResult, directory: str | Path) -> list[Path]:
    """One TOML file per failing scenario (nothing, not even the folder, when none failed)."""
    if not result.failures:
        return []
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, text in result.failures:
        p = failure_path(d, result.seed, index)
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths
