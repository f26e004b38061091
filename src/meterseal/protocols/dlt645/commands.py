"""The `meterseal serve` and `meterseal read` commands: the DL/T 645 meter face and its reader.

Owns the two subcommands' options, the link strings they take (tcp://HOST:PORT,
serial:DEV[:BAUD]), starting and stopping the servers (Ctrl-C and SIGTERM stop them cleanly)
and turning every failure a user can cause into one line and exit status 2 (UsageError).

Must not know: what the meter answers (session.py), how records are decoded (the head-end
reader), the simulator beyond building a LiveMeter from a scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import signal
import sys
from dataclasses import dataclass

DEFAULT_TCP = "tcp://127.0.0.1:8645"
DEFAULT_BAUD = 2400


@dataclass(frozen=True, slots=True)
class TcpTarget:
    host: str
    port: int

    def __str__(self) -> str:
        return f"tcp://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SerialTarget:
    device: str
    baudrate: int

    def __str__(self) -> str:
        return f"serial:{self.device}:{self.baudrate}"


def _usage(message: str) -> Exception:
    from meterseal.cli import UsageError

    return UsageError(message)


def parse_tcp(text: str, what: str = "--dlt645") -> TcpTarget:
    m = re.fullmatch(r"tcp://(\[[^\]]+\]|[^:/]+):(\d{1,5})", text.strip())
    if m is None or not 0 <= int(m.group(2)) <= 65535:
        raise _usage(f"{what}: {text!r} is not tcp://HOST:PORT (e.g. {DEFAULT_TCP})")
    return TcpTarget(m.group(1).strip("[]"), int(m.group(2)))


def parse_serial(text: str, what: str = "--serial") -> SerialTarget:
    """DEV or DEV:BAUD (a leading 'serial:' is accepted)."""
    body = text.strip()
    body = body.removeprefix("serial:")
    m = re.fullmatch(r"(.+?)(?::(\d+))?", body)
    if not body or m is None:
        raise _usage(f"{what}: {text!r} is not DEV[:BAUD] (e.g. /dev/ttyUSB0:2400)")
    baud = int(m.group(2)) if m.group(2) else DEFAULT_BAUD
    if baud <= 0:
        raise _usage(f"{what}: baud rate {baud} must be positive")
    return SerialTarget(m.group(1), baud)


def parse_link(text: str) -> TcpTarget | SerialTarget:
    if text.strip().startswith("tcp://"):
        return parse_tcp(text)
    if text.strip().startswith("serial:"):
        return parse_serial(text, "--dlt645")
    raise _usage(
        f"--dlt645: {text!r} is neither tcp://HOST:PORT nor serial:DEV[:BAUD]"
        " (e.g. tcp://127.0.0.1:8645 or serial:/dev/ttyUSB0:2400)"
    )


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser(
        "serve",
        help="run a scenario, then serve the meter it leaves behind (DL/T 645, TCP or serial)",
    )
    serve.add_argument("--scenario", required=True, metavar="S.toml", help="scenario TOML file")
    serve.add_argument(
        "--dlt645", metavar="tcp://HOST:PORT",
        help=f"serve DL/T 645 over TCP (default {DEFAULT_TCP} unless --serial is given; port 0"
        " picks a free one)",
    )
    serve.add_argument(
        "--serial", metavar="DEV[:BAUD]",
        help=f"also (or only) serve DL/T 645 on a serial port, 8E1, {DEFAULT_BAUD} baud by default",
    )
    serve.set_defaults(func=cmd_serve)

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


# --------------------------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    from meterseal.sim.live import LiveMeter
    from meterseal.sim.scenario import load_scenario

    tcp = parse_tcp(args.dlt645) if args.dlt645 else None
    serial_target = parse_serial(args.serial) if args.serial else None
    if tcp is None and serial_target is None:
        tcp = parse_tcp(DEFAULT_TCP)
    sc = load_scenario(args.scenario)
    meter = LiveMeter.from_scenario(sc)
    # What the run left in memory stays for good: keep the collector from walking it again
    # (full collections would otherwise show as latency spikes in a long-running server).
    gc.collect()
    gc.freeze()
    return asyncio.run(_serve(meter, tcp, serial_target))


async def _serve(meter, tcp: TcpTarget | None, serial_target: SerialTarget | None) -> int:  # type: ignore[no-untyped-def]
    from meterseal.protocols.dlt645.errors import LinkError
    from meterseal.protocols.dlt645.session import Dlt645Session
    from meterseal.protocols.dlt645.tcp import Dlt645TcpServer

    img = meter.image()
    _say(
        f"meter {meter.address_digits} after {meter.scenario.name!r}: {img.cover_count()}"
        f" cover-open (all-time {img.cover_total}), {img.power_down_count()} power-down;"
        f" clock {meter.clock_datetime().isoformat(timespec='seconds')};"
        f" programming key {'pressed' if meter.programming_key_pressed() else 'not pressed'}"
    )
    server = None
    serial_server = None
    try:
        if tcp is not None:
            server = Dlt645TcpServer(
                lambda: Dlt645Session(meter), tcp.host, tcp.port, max_clients=1024
            )
            try:
                await server.start()
            except LinkError as exc:
                raise _usage(str(exc)) from None
            _say(f"DL/T 645 listening on tcp://{tcp.host}:{server.port}")
        if serial_target is not None:
            try:
                from meterseal.protocols.dlt645.serial import Dlt645SerialServer
            except ImportError:
                raise _usage("--serial needs pyserial: pip install pyserial") from None
            serial_server = Dlt645SerialServer(
                serial_target.device, Dlt645Session(meter), baudrate=serial_target.baudrate
            )
            try:
                serial_server.start()
            except LinkError as exc:
                raise _usage(str(exc)) from None
            _say(f"DL/T 645 on serial:{serial_target.device} {serial_target.baudrate} 8E1")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        _say("serving; Ctrl-C stops")
        await stop.wait()
    finally:
        if server is not None:
            await server.close()
        if serial_server is not None:
            serial_server.stop()
    _say("stopped")
    return 0


def _say(text: str) -> None:
    print(f"meterseal serve: {text}", flush=True)


# --------------------------------------------------------------------------------- read


def cmd_read(args: argparse.Namespace) -> int:
    from meterseal.headend.reader import Reader, ReadError, format_reading, reading_json
    from meterseal.protocols.dlt645.client import Dlt645Client
    from meterseal.protocols.dlt645.errors import Dlt645Error
    from meterseal.protocols.dlt645.frame import address_from_string

    if args.timeout <= 0:
        raise _usage(f"--timeout must be positive, got {args.timeout:g}")
    target = parse_link(args.dlt645)
    try:
        address = address_from_string(args.address) if args.address else None
    except ValueError as exc:
        raise _usage(f"--address: {exc}") from None
    try:
        if isinstance(target, TcpTarget):
            client = Dlt645Client.tcp(target.host, target.port, timeout_s=args.timeout,
                                      connect_timeout_s=args.timeout)
        else:
            client = Dlt645Client.serial(target.device, baudrate=target.baudrate,
                                         timeout_s=args.timeout)
    except Dlt645Error as exc:
        raise _usage(str(exc)) from None
    with client:
        try:
            reading = Reader(client, address=address, utc_offset_h=args.utc_offset).read()
        except (Dlt645Error, ReadError) as exc:
            raise _usage(str(exc)) from None
    sys.stdout.write((reading_json(reading) if args.json else format_reading(reading)) + "\n")
    return 0
