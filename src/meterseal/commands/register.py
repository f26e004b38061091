"""`meterseal register --fleet DIR [--db URL] [--json]`: load the utility's register — customers,
meter models and work orders, the CSV files in DIR/utility/ — into the store, replacing the one
it had. The analytics (`meterseal suspects`, the dashboard) read it beside the meters' records.

A file that is not what docs/headend.md says, or a store that cannot be used: one line, exit 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from meterseal.commands._output import emit, emit_json
from meterseal.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from meterseal.headend.store import DEFAULT_URL

    p = sub.add_parser("register", help="load a fleet's utility register (customers, meter"
                       " models, work orders) into the store")
    p.add_argument("--fleet", required=True, metavar="DIR",
                   help="a fleet directory; its utility/*.csv files are read (never truth/)")
    p.add_argument("--db", default=DEFAULT_URL, metavar="URL",
                   help=f"the store: sqlite:///PATH or postgresql://… (default {DEFAULT_URL})")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(func=cmd_register)


def cmd_register(args: argparse.Namespace) -> int:
    from meterseal.headend.register import RegisterError, load_register, read_register
    from meterseal.headend.store import Store, StoreError

    try:
        reg = read_register(Path(args.fleet))
    except RegisterError as exc:
        raise UsageError(f"register: {exc}") from None
    try:
        store = Store.open(args.db)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    try:
        counts = load_register(store, reg)
    finally:
        store.close()
    if args.json:
        emit_json(counts)
    else:
        emit(f"registered {counts['customer']} customers, {counts['meter_model']} meter models,"
             f" {counts['work_order']} work orders")
    return 0
