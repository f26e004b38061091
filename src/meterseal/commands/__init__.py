"""The `meterseal` command line: one module per subcommand, and the dispatcher that runs them.

Each subcommand module offers `add_parser(sub)` (its options) and sets `func` to its entry point;
work is delegated to the libraries, which never import this package. Every error a user can
cause ends here as one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from meterseal.commands import (
    campaign,
    collect,
    dashboard,
    fleet,
    parts,
    read,
    register,
    run,
    serve,
    size,
    suspects,
    verify,
)
from meterseal.errors import EXIT_INTERRUPTED, EXIT_USAGE, UsageError, one_line
from meterseal.hardware.profile import ProfileError
from meterseal.sim.scenario import ScenarioError

SUBCOMMANDS = (run, verify, campaign, size, parts, fleet, serve, read, collect, register, suspects,
               dashboard)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sub = self.prog.removeprefix("meterseal").strip()
        raise UsageError(f"{sub}: {message}" if sub else message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="meterseal", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    sub.required = True
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args))
    except (UsageError, ScenarioError, ProfileError) as exc:
        print(f"meterseal: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("meterseal: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
