"""Writing to the user's terminal: text that cannot be printed (a full or closed stdout) is a
clear one-line error, and user-supplied text shown through Rich is escaped, never interpreted
as markup."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from meterseal.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


def emit(text: str) -> None:
    """Write ``text`` (and a newline) to stdout; a write that fails is a UsageError."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except OSError as exc:
        raise UsageError(f"stdout: could not write the output ({exc.strerror or exc})") from None


def emit_json(data: Any) -> None:
    emit(json.dumps(data, indent=2, ensure_ascii=False))


def plain(text: object) -> str:
    """User text as Rich shows it literally (no markup, no links)."""
    from rich.markup import escape

    return escape(str(text))


def count_bar(label: str, *, quiet: bool, console: Console | None = None,
              rate: bool = False) -> Progress:
    """A long job's Rich bar: its label, done of total, elapsed and remaining time (and a
    ``rate`` task field shown beside the count, when asked). Rich is imported only here, when a
    bar is wanted."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns: list[ProgressColumn] = [TextColumn(f"[bold]{label}[/bold]"), BarColumn(),
                                     MofNCompleteColumn()]
    if rate:
        columns.append(TextColumn("{task.fields[rate]}"))
    columns += [TimeElapsedColumn(), TimeRemainingColumn()]
    return Progress(*columns, console=console, disable=quiet)
