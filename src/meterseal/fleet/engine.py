"""Running a fleet's twins on Dask: the batches, the progress callback, the meters' files.

The plan is drawn once, here in the caller; the meters are cut into batches of consecutive
meters whose size depends on the number of meters only, and each batch runs on a worker, which
writes its meters' images and manifests straight into the fleet directory (the local cluster
shares this machine's disk) and sends back a few numbers per meter. A meter's files are a
function of its plan alone, so the directory is the same, byte for byte, whatever ran it.

Must not know: how the client was made (a LocalCluster or a scheduler: the caller's), the
utility's and the truth's files (files.py), the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from meterseal.fleet.plan import FleetSpec, MeterPlan, Plan
from meterseal.fleet.twin import MeterDone, run_meter

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["FleetRun", "batch_size", "run_batch", "run_fleet"]

MAX_BATCH: Final = 50
TARGET_BATCHES: Final = 128


def batch_size(n: int) -> int:
    """Meters per task: about TARGET_BATCHES tasks (balance), at most MAX_BATCH meters each
    (about half a second of work, enough to amortise the scheduler). A function of n alone."""
    return max(1, min(MAX_BATCH, -(-n // TARGET_BATCHES)))


def run_batch(spec: FleetSpec, plans: tuple[MeterPlan, ...], meters_dir: str,
              ) -> list[MeterDone]:
    """One task: the twins of ``plans``, written into ``meters_dir``."""
    return [run_meter(spec, p, Path(meters_dir))[1] for p in plans]


@dataclass(frozen=True, slots=True)
class FleetRun:
    done: tuple[MeterDone, ...]  # by address
    workers: int


def run_fleet(client: Client, plan: Plan, meters_dir: Path, *,
              on_batch: Callable[[int], Any] | None = None) -> FleetRun:
    """Every meter of ``plan`` on the client's cluster; ``on_batch(n)`` as each batch of n
    meters is written."""
    from distributed import as_completed

    meters = plan.meters
    size = batch_size(len(meters))
    client.wait_for_workers(1, timeout=60)
    workers = len(client.scheduler_info().get("workers", {}))
    spec = client.scatter(plan.spec, broadcast=True)
    futures = [client.submit(run_batch, spec, meters[lo:lo + size], str(meters_dir), pure=False)
               for lo in range(0, len(meters), size)]
    done: list[MeterDone] = []
    for fut in as_completed(futures):
        batch: list[MeterDone] = fut.result()
        fut.release()
        done.extend(batch)
        if on_batch is not None:
            on_batch(len(batch))
    return FleetRun(tuple(sorted(done, key=lambda d: d.address)), workers)
