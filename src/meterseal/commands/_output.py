"""Writing to the user's terminal: text that cannot be printed (a full or closed stdout) is a
clear one-line error, and user-supplied text shown through Rich is escaped, never interpreted
as markup."""

from __future__ import annotations

import json
import sys
from typing import Any

from meterseal.errors import UsageError


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
