"""`meterseal serve --scenario S [--dlt645 tcp://HOST:PORT] [--serial DEV[:BAUD]]` and
`meterseal serve --fleet DIR [--dlt645 tcp://HOST:PORT] [--bus-baud B] [--endpoints-out FILE]`.

Runs the scenario, then serves the meter it leaves behind over DL/T 645 on TCP and/or a serial
port until Ctrl-C or SIGTERM, both links sharing one meter; or serves a fleet directory's meters
behind one bus gateway per bus (docs/fleet.md), many addresses per endpoint.
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
    what = serve.add_mutually_exclusive_group(required=True)
    what.add_argument("--scenario", metavar="S.toml", help="scenario TOML file")
    what.add_argument("--fleet", metavar="DIR",
                      help="a fleet directory (docs/fleet.md): serve every meter behind its bus")
    serve.add_argument(
        "--dlt645", metavar="tcp://HOST:PORT",
        help=f"serve DL/T 645 over TCP (default {DEFAULT_TCP} unless --serial is given; port 0"
        " picks a free one)",
    )
    serve.add_argument(
        "--serial", metavar="DEV[:BAUD]",
        help=f"also (or only) serve DL/T 645 on a serial port, 8E1, {DEFAULT_BAUD} baud by default",
    )
    serve.add_argument("--bus-baud", type=int, metavar="B",
                       help="--fleet: play each bus's wire time at B baud 8E1 (default: off)")
    serve.add_argument("--preload", action="store_true",
                       help="--fleet: build every meter before listening (default: on first use)")
    serve.add_argument("--endpoints-out", metavar="FILE",
                       help="--fleet: write the endpoints file `meterseal collect` reads")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from meterseal.sim.live import LiveMeter
    from meterseal.sim.scenario import load_scenario

    if args.fleet is not None:
        return _serve_fleet(args)
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
    from meterseal.protocols.dlt645.maker import MakerFace
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
                lambda: MakerFace(Dlt645Session(meter), meter.address), tcp.host, tcp.port,
                max_clients=1024,
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
                serial_target.device, MakerFace(Dlt645Session(meter), meter.address),
                baudrate=serial_target.baudrate,
            )
            try:
                serial_server.start()
            except LinkError as exc:
                raise UsageError(str(exc)) from None
            _say(f"DL/T 645 on serial:{serial_target.device} {serial_target.baudrate} 8E1")
        await _until_stopped()
    finally:
        if server is not None:
            await server.close()
        if serial_server is not None:
            serial_server.stop()
    _say("stopped")
    return 0


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    _say("serving; Ctrl-C stops")
    await stop.wait()


def _serve_fleet(args: argparse.Namespace) -> int:
    from meterseal.commands._fleet import open_fleet
    from meterseal.protocols.dlt645.router import BusTiming

    if args.serial:
        raise UsageError("--serial serves one meter: use it with --scenario, not --fleet")
    tcp = parse_tcp(args.dlt645 or DEFAULT_TCP)
    timing = None
    if args.bus_baud is not None:
        if not 300 <= args.bus_baud <= 115200:
            raise UsageError(f"--bus-baud: 300..115200, got {args.bus_baud}")
        timing = BusTiming(args.bus_baud)
    fleet = open_fleet(args.fleet)
    return asyncio.run(_serve_gateways(fleet, tcp, timing, args))


async def _serve_gateways(fleet, tcp: TcpTarget, timing, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from meterseal.commands._fleet import start_gateways, write_endpoints

    endpoints_out = args.endpoints_out
    gateways = await start_gateways(fleet, tcp, timing, args.preload)
    gc.collect()
    gc.freeze()  # the meters stay for good: keep the garbage collector from walking them
    try:
        _say(f"fleet {fleet.name!r}: {len(fleet.meters)} meters on {len(gateways)} gateways"
             + (f", bus timing {timing.baud} baud 8E1" if timing else ""))
        for gw in gateways:
            _say(f"gateway {gw.name}: {len(gw.router)} meters on {gw.url}")
        if endpoints_out:
            write_endpoints(Path(endpoints_out), fleet, gateways)
            _say(f"endpoints written to {endpoints_out}")
        await _until_stopped()
    finally:
        for gw in gateways:
            await gw.close()
    _say("stopped")
    return 0


def _say(text: str) -> None:
    print(f"meterseal serve: {text}", flush=True)


