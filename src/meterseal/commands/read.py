"""`meterseal read --dlt645 URL [--address A] [--json]`: the head-end reader for one meter."""

from __future__ import annotations

import argparse
import math

from meterseal.commands._links import TcpTarget, parse_link
from meterseal.commands._output import emit
from meterseal.errors import UsageError

MAX_TIMEOUT_S = 3600.0  # an answer later than an hour is no answer on any bus

def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    read = sub.add_parser(
        "read", help="the head-end reader: read a meter's cover-open records over DL/T 645"
    )
    read.add_argument(
        "--dlt645", required=True, metavar="tcp://HOST:PORT|serial:DEV[:BAUD]",
        help="where the meter answers",
    )
    read.add_argument("--address", metavar="A", help="12-digit meter address (default: ask it)")
    read.add_argument("--json", action="store_true", help="print the reading as JSON")
    read.add_argument("--timeout", type=float, default=3.0, metavar="S",
                      help="seconds to wait for each answer (default 3)")
    read.add_argument("--utc-offset", type=float, default=8.0, metavar="H",
                      help="the meter's local standard time offset, for printing (default 8)")
    read.set_defaults(func=cmd_read)


def cmd_read(args: argparse.Namespace) -> int:
    from meterseal.headend.reader import Reader, ReadError, format_reading, reading_json
    from meterseal.protocols.dlt645.client import Dlt645Client
    from meterseal.protocols.dlt645.errors import Dlt645Error
    from meterseal.protocols.dlt645.frame import address_from_string

    if not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT_S):
        raise UsageError(f"--timeout: need seconds above 0 and at most {MAX_TIMEOUT_S:g}, "
                         f"got {args.timeout:g}")
    if not (math.isfinite(args.utc_offset) and -12 <= args.utc_offset <= 14):
        raise UsageError(f"--utc-offset: need hours from -12 to +14, got {args.utc_offset:g}")
    target = parse_link(args.dlt645)
    try:
        address = address_from_string(args.address) if args.address else None
    except ValueError as exc:
        raise UsageError(f"--address: {exc}") from None
    try:
        if isinstance(target, TcpTarget):
            client = Dlt645Client.tcp(target.host, target.port, timeout_s=args.timeout,
                                      connect_timeout_s=args.timeout)
        else:
            client = Dlt645Client.serial(target.device, baudrate=target.baudrate,
                                         timeout_s=args.timeout)
    except Dlt645Error as exc:
        raise UsageError(str(exc)) from None
    with client:
        try:
            reading = Reader(client, address=address, utc_offset_h=args.utc_offset).read()
        except (Dlt645Error, ReadError) as exc:
            raise UsageError(str(exc)) from None
    emit(reading_json(reading) if args.json else format_reading(reading))
    return 0
