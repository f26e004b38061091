"""`meterseal serve --scenario S [--dlt645 tcp://HOST:PORT] [--serial DEV[:BAUD]]`.

Runs the scenario, then serves the meter it leaves behind over DL/T 645 on TCP and/or a serial
port until Ctrl-C or SIGTERM, both links sharing one meter.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal

from meterseal.commands._links import (
    DEFAULT_BAUD,
    DEFAULT_TCP,
    SerialTarget,
    TcpTarget,
    parse_serial,
    parse_tcp,
)
from meterseal.errors import UsageError


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
                raise UsageError(str(exc)) from None
            _say(f"DL/T 645 listening on tcp://{tcp.host}:{server.port}")
        if serial_target is not None:
            try:
                from meterseal.protocols.dlt645.serial import Dlt645SerialServer
            except ImportError:
                raise UsageError("--serial needs pyserial: pip install pyserial") from None
            serial_server = Dlt645SerialServer(
                serial_target.device, Dlt645Session(meter), baudrate=serial_target.baudrate
            )
            try:
                serial_server.start()
            except LinkError as exc:
                raise UsageError(str(exc)) from None
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


