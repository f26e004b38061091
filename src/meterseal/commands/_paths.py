"""Output paths the commands write: checked before any long work starts.

A result is written to a temporary file beside its target and renamed into place, so a
failure (a full device, a vanished folder) never leaves a half-written file and never destroys
an existing one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from meterseal.errors import UsageError


def write_target(path: str, what: str) -> Path:
    """The output file ``path`` of option ``what``, checked writable now (one line if not)."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{what}: directory {parent} does not exist")
    if target.is_dir():
        raise UsageError(f"{what}: {target} is a directory")
    if target.exists() and not target.is_file():
        raise UsageError(f"{what}: {target} exists and is not a regular file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{what}: cannot write in {parent} (permission denied)")
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"{what}: {target} is not writable")
    return target


def target_dir(path: str, what: str) -> Path:
    """An output folder: it may exist (as a folder) or be creatable."""
    d = Path(path)
    if d.exists() and not d.is_dir():
        raise UsageError(f"{what}: {d} exists and is not a directory")
    probe = d
    while not probe.exists():
        probe = probe.parent if str(probe.parent) else Path(".")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{what}: cannot write in {probe} (permission denied)")
    # Permission bits do not tell everything (root passes them; /proc and read-only mounts still
    # refuse): make and remove a folder where the output will go, before any long work.
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f".{d.name or 'out'}.", dir=probe))
    except OSError as exc:
        raise UsageError(f"{what}: cannot write in {probe} ({exc.strerror or exc})") from None
    return d


@contextlib.contextmanager
def atomic_write(target: Path, what: str, mode: str = "w", **kw: object) -> Iterator[IO]:  # type: ignore[type-arg]
    """Open a temporary file beside ``target``; on success rename it over ``target``.

    An OSError (a full device, say) becomes a UsageError naming the option; the temporary file
    is removed and the target is left as it was.
    """
    parent = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise UsageError(f"{what}: cannot write in {parent} ({exc.strerror})") from None
    try:
        os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, mode, **kw) as fh:  # type: ignore[call-overload]
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UsageError(f"{what}: could not write {target} ({exc.strerror or exc})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mode_for(target: Path) -> int:
    """The permissions a plain open() would have given (or the replaced file's own)."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
