"""`meterseal read --dlt645 URL | --dlt698 URL [--address A] [--json] [--key HEX]`: the head-end
reader for one meter, over either of its faces; both print the same reading. With the meter's
key, it also verifies the record chain (DL/T 645 `04 80 AC`, DL/T 698.45 FFAC) and exits 1
when a record fails."""

from __future__ import annotations

import argparse
import json
import math

from meterseal.commands._links import SerialTarget, TcpTarget, parse_link
from meterseal.commands._output import emit
from meterseal.errors import UsageError

MAX_TIMEOUT_S = 3600.0  # an answer later than an hour is no answer on any bus


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    read = sub.add_parser(
        "read",
        help="the head-end reader: read a meter's cover-open records over DL/T 645 or 698.45",
    )
    face = read.add_mutually_exclusive_group(required=True)
    face.add_argument(
        "--dlt645", metavar="tcp://HOST:PORT|serial:DEV[:BAUD]",
        help="where the meter answers DL/T 645",
    )
    face.add_argument(
        "--dlt698", metavar="tcp://HOST:PORT|serial:DEV[:BAUD]",
        help="where the meter answers DL/T 698.45",
    )
    read.add_argument("--address", metavar="A", help="12-digit meter address (default: ask it)")
    read.add_argument("--json", action="store_true", help="print the reading as JSON")
    read.add_argument("--timeout", type=float, default=3.0, metavar="S",
                      help="seconds to wait for each answer (default 3)")
    read.add_argument("--utc-offset", type=float, default=8.0, metavar="H",
                      help="the meter's local standard time offset, for printing (default 8)")
    read.add_argument("--key", metavar="HEX",
                      help="the meter's 128-bit key (32 hex digits): verify its record chain "
                           "and name every record that fails (either face; exit 1 if any)")
    read.add_argument("--expect-head", type=int, default=0, metavar="N",
                      help="with --key: the chain head seen at an earlier read, so that records "
                           "removed from the end are caught too")
    read.set_defaults(func=cmd_read)


def _check(args: argparse.Namespace) -> None:
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT_S):
        raise UsageError(f"--timeout: need seconds above 0 and at most {MAX_TIMEOUT_S:g}, "
                         f"got {args.timeout:g}")
    if not (math.isfinite(args.utc_offset) and -12 <= args.utc_offset <= 14):
        raise UsageError(f"--utc-offset: need hours from -12 to +14, got {args.utc_offset:g}")
    if args.key is not None:
        try:
            key = bytes.fromhex(args.key)
        except ValueError:
            key = b""
        if len(key) != 16:
            raise UsageError(f"--key: need 32 hex digits (the meter's 128-bit key), got "
                             f"{args.key!r}")
        args.key_bytes = key
    if args.expect_head < 0 or (args.expect_head and args.key is None):
        raise UsageError("--expect-head: a chain head (0 or more), and only with --key")


def cmd_read(args: argparse.Namespace) -> int:
    from meterseal.headend.reader import format_reading, reading_json

    _check(args)
    if args.dlt698:
        reading, verdict = _read698(args, parse_link(args.dlt698, "--dlt698"))
    else:
        reading, verdict = _read645(args, parse_link(args.dlt645))
    if verdict is None:
        emit(reading_json(reading) if args.json else format_reading(reading))
        return 0
    from meterseal.headend.chainread import format_verdict, verdict_json

    if args.json:
        emit(json.dumps({**reading.to_json(), "chain": verdict_json(verdict)}, indent=2,
                        ensure_ascii=False))
    else:
        emit(format_reading(reading) + "\n" + format_verdict(verdict))
    return 0 if verdict.clean else 1


def _read645(args: argparse.Namespace, target: TcpTarget | SerialTarget):  # type: ignore[no-untyped-def]
    from meterseal.headend.chainread import ChainReadError, check_meter_chain
    from meterseal.headend.reader import Reader, ReadError
    from meterseal.protocols.dlt645.client import Dlt645Client
    from meterseal.protocols.dlt645.errors import Dlt645Error
    from meterseal.protocols.dlt645.frame import address_from_string

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
            if args.key is None:
                return reading, None
            me = address_from_string(reading.address)
            return reading, check_meter_chain(client, me, args.key_bytes, args.expect_head)
        except (Dlt645Error, ReadError, ChainReadError) as exc:
            raise UsageError(str(exc)) from None


def _read698(args: argparse.Namespace, target: TcpTarget | SerialTarget):  # type: ignore[no-untyped-def]
    from meterseal.headend.chainread import ChainReadError
    from meterseal.headend.chainread698 import check_meter_chain698
    from meterseal.headend.reader import ReadError
    from meterseal.headend.reader698 import Reader698
    from meterseal.protocols.dlt698.client import Dlt698Client
    from meterseal.protocols.dlt698.errors import Dlt698Error
    from meterseal.protocols.dlt698.frame import ServerAddress

    if args.address is not None:
        try:
            ServerAddress.of(args.address)
        except ValueError as exc:
            raise UsageError(f"--address: {exc}") from None
        if len(args.address.strip()) != 12:
            raise UsageError(f"--address: {args.address!r} must have 12 digits, as printed")
    try:
        if isinstance(target, TcpTarget):
            client = Dlt698Client.tcp(target.host, target.port, timeout_s=args.timeout,
                                      connect_timeout_s=args.timeout)
        else:
            client = Dlt698Client.serial(target.device, baudrate=target.baudrate,
                                         timeout_s=args.timeout)
    except Dlt698Error as exc:
        raise UsageError(str(exc)) from None
    with client:
        try:
            reading = Reader698(client, address=args.address,
                                utc_offset_h=args.utc_offset).read()
            if args.key is None:
                return reading, None
            client.connect()  # the reading released its association
            verdict = check_meter_chain698(client, args.key_bytes, args.expect_head)
            client.release()
            return reading, verdict
        except (Dlt698Error, ReadError, ChainReadError) as exc:
            raise UsageError(str(exc)) from None
