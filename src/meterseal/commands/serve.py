"""`meterseal serve --scenario S [--dlt645 tcp://HOST:PORT] [--dlt698 tcp://HOST:PORT]
[--serial DEV[:BAUD]] [--report-to tcp://HOST:PORT]` and
`meterseal serve --fleet DIR [--dlt645 tcp://HOST:PORT] [--bus-baud B] [--endpoints-out FILE]`.

Runs the scenario, then serves the meter it leaves behind until Ctrl-C or SIGTERM: DL/T 645
and/or DL/T 698.45 over TCP, both protocols on a serial port (a dual-protocol meter's RS-485),
and — with --report-to — its communication module dialling the master to push active reports.
Every link shares one meter (one NVM image, one clock, one password lockout). Or serves a fleet
directory's meters behind one bus gateway per bus (docs/fleet.md), many addresses per endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        help="run a scenario, then serve the meter it leaves behind (DL/T 645, DL/T 698.45)",
    )
    what = serve.add_mutually_exclusive_group(required=True)
    what.add_argument("--scenario", metavar="S.toml", help="scenario TOML file")
    what.add_argument("--fleet", metavar="DIR",
                      help="a fleet directory (docs/fleet.md): serve every meter behind its bus")
    serve.add_argument(
        "--dlt645", metavar="tcp://HOST:PORT",
        help=f"serve DL/T 645 over TCP (default {DEFAULT_TCP} when nothing else is asked for;"
        " port 0 picks a free one)",
    )
    serve.add_argument(
        "--dlt698", metavar="tcp://HOST:PORT", help="serve DL/T 698.45 over TCP (port 0: free)",
    )
    serve.add_argument(
        "--serial", metavar="DEV[:BAUD]",
        help=f"also serve both protocols on a serial port, 8E1, {DEFAULT_BAUD} baud by default",
    )
    serve.add_argument(
        "--report-to", metavar="tcp://HOST:PORT",
        help="the DL/T 698.45 master the meter's module dials to push its active reports",
    )
    serve.add_argument(
        "--image", metavar="FILE",
        help="--scenario: keep the meter's NVM in FILE across restarts (created from the"
        " scenario's run when absent, written atomically on every change): a restart is a"
        " reboot of the same meter",
    )
    serve.add_argument("--bus-baud", type=int, metavar="B",
                       help="--fleet: play each bus's wire time at B baud 8E1 (default: off)")
    serve.add_argument("--preload", action="store_true",
                       help="--fleet: build every meter before listening (default: on first use)")
    serve.add_argument("--endpoints-out", metavar="FILE",
                       help="--fleet: write the endpoints file `meterseal collect` reads")
    serve.set_defaults(func=cmd_serve)


@dataclass(frozen=True, slots=True)
class Plan:
    dlt645: TcpTarget | None
    dlt698: TcpTarget | None
    serial: SerialTarget | None
    report_to: TcpTarget | None


def _plan(args: argparse.Namespace) -> Plan:
    plan = Plan(
        parse_tcp(args.dlt645) if args.dlt645 else None,
        parse_tcp(args.dlt698, "--dlt698") if args.dlt698 else None,
        parse_serial(args.serial) if args.serial else None,
        parse_tcp(args.report_to, "--report-to") if args.report_to else None,
    )
    if not (plan.dlt645 or plan.dlt698 or plan.serial):
        plan = Plan(parse_tcp(DEFAULT_TCP), None, None, plan.report_to)
    return plan


def cmd_serve(args: argparse.Namespace) -> int:
    from meterseal.sim.live import LiveMeter
    from meterseal.sim.scenario import load_scenario

    if args.fleet is not None:
        return _serve_fleet(args)
    plan = _plan(args)
    sc = load_scenario(args.scenario)
    meter = LiveMeter.from_scenario(sc)
    if args.image is not None:
        _keep_image(meter, Path(args.image))
    # What the run left in memory stays for good: keep the collector from walking it again
    # (full collections would otherwise show as latency spikes in a long-running server).
    gc.collect()
    gc.freeze()
    return asyncio.run(_serve(meter, plan))


class _Faces:
    """The sessions of one meter: DL/T 645's, and DL/T 698.45's sharing one answer cache and
    one report desk."""

    def __init__(self, meter: Any) -> None:
        from meterseal.protocols.dlt698.answers import Answers
        from meterseal.protocols.dlt698.reports import ReportDesk

        self.meter = meter
        self.answers = Answers(meter, ReportDesk())

    def dlt645(self) -> Any:
        from meterseal.protocols.dlt645.maker import MakerFace
        from meterseal.protocols.dlt645.session import Dlt645Session

        # Our meters answer the manufacturer number (and our identifiers behind it).
        session = Dlt645Session(self.meter, vendor_prefix=self.meter.vendor_prefix)
        return MakerFace(session, self.meter.address)

    def dlt698(self) -> Any:
        from meterseal.protocols.dlt698.session import Dlt698Session

        return Dlt698Session(self.meter, answers=self.answers)


async def _serve(meter: Any, plan: Plan) -> int:
    img = meter.image()
    _say(
        f"meter {meter.address_digits} after {meter.scenario.name!r}: {img.cover_count()}"
        f" cover-open (all-time {img.cover_total}), {img.power_down_count()} power-down;"
        f" clock {meter.clock_datetime().isoformat(timespec='seconds')};"
        f" programming key {'pressed' if meter.programming_key_pressed() else 'not pressed'}"
    )
    faces = _Faces(meter)
    async with AsyncExitStack() as stack:
        await _start_tcp(stack, plan, faces)
        _start_serial(stack, plan, faces)
        await _start_reports(stack, plan, faces)
        await _until_stopped()
    _say("stopped")
    return 0


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    _say("serving; Ctrl-C stops")
    await stop.wait()


async def _start_tcp(stack: AsyncExitStack, plan: Plan, faces: _Faces) -> None:
    from meterseal.protocols.dlt645.errors import LinkError as LinkError645
    from meterseal.protocols.dlt645.tcp import Dlt645TcpServer
    from meterseal.protocols.dlt698.errors import LinkError as LinkError698
    from meterseal.protocols.dlt698.tcp import Dlt698TcpServer

    servers: list[tuple[str, TcpTarget, Any]] = []
    if plan.dlt645 is not None:
        servers.append(("DL/T 645", plan.dlt645, Dlt645TcpServer(
            faces.dlt645, plan.dlt645.host, plan.dlt645.port, max_clients=1024
        )))
    if plan.dlt698 is not None:
        servers.append(("DL/T 698.45", plan.dlt698, Dlt698TcpServer(
            faces.dlt698, plan.dlt698.host, plan.dlt698.port, max_clients=1024
        )))
    for name, target, server in servers:
        try:
            await server.start()
        except (LinkError645, LinkError698) as exc:
            raise UsageError(str(exc)) from None
        stack.push_async_callback(server.close)
        _say(f"{name} listening on tcp://{target.host}:{server.port}")


def _start_serial(stack: AsyncExitStack, plan: Plan, faces: _Faces) -> None:
    target = plan.serial
    if target is None:
        return
    try:
        from meterseal.protocols.line import Dlt645Face, Dlt698Face, LineServer, LinkError
    except ImportError:
        raise UsageError("--serial needs pyserial: pip install pyserial") from None
    name = f"serial:{target.device}"
    line = LineServer(
        target.device, [Dlt645Face(faces.dlt645(), name), Dlt698Face(faces.dlt698(), name)],
        baudrate=target.baudrate,
    )
    try:
        line.start()
    except LinkError as exc:
        raise UsageError(str(exc)) from None
    stack.callback(line.stop)
    _say(f"DL/T 645 and DL/T 698.45 on serial:{target.device} {target.baudrate} 8E1")


async def _start_reports(stack: AsyncExitStack, plan: Plan, faces: _Faces) -> None:
    target = plan.report_to
    if target is None:
        return
    from meterseal.protocols.dlt698.dialout import ReportLink

    link = ReportLink(faces.dlt698(), target.host, target.port)
    link.start()
    stack.push_async_callback(link.close)
    _say(f"DL/T 698.45 active reports to tcp://{target.host}:{target.port}")


def _keep_image(meter: Any, path: Path) -> None:
    """Reboot ``meter`` from the image in ``path`` if there is one, and keep it there."""
    if path.is_dir() or not path.parent.is_dir():
        raise UsageError(f"--image {path}: not a file in an existing directory")
    try:
        if path.exists():
            meter.reboot_from(path)
            _say(f"rebooted from {path}")
        else:
            meter.persist_to(path)
            _say(f"NVM kept in {path}")
    except (OSError, ValueError) as exc:
        raise UsageError(f"--image {path}: {exc}") from None


def _serve_fleet(args: argparse.Namespace) -> int:
    from meterseal.commands._fleet import open_fleet
    from meterseal.protocols.dlt645.router import BusTiming

    if args.serial or args.dlt698 or args.report_to or args.image:
        raise UsageError("--serial, --dlt698, --report-to and --image serve one meter: use"
                         " them with --scenario, not --fleet")
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
