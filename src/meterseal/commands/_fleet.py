"""`meterseal serve --fleet DIR`: a fleet directory's meters behind bus gateways.

Builds, per gateway named in the manifests, a router whose sessions are made on first use (a
meter's image is read and its journal recovered only when the head-end first asks it), each
meter answering with its maker's face; starts the gateways on consecutive ports (or free ones);
writes the endpoints file a collector reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from meterseal.commands._links import TcpTarget
from meterseal.errors import UsageError
from meterseal.headend.endpoints import Gateway, endpoints_text
from meterseal.protocols.dlt645.errors import LinkError
from meterseal.protocols.dlt645.gateway import Dlt645Gateway
from meterseal.protocols.dlt645.handler import FrameHandler
from meterseal.protocols.dlt645.maker import MakerFace
from meterseal.protocols.dlt645.router import BusRouter, BusTiming
from meterseal.protocols.dlt645.session import Dlt645Session
from meterseal.sim.fleetdir import Fleet, FleetError, MeterFile, load_fleet
from meterseal.sim.live import address_wire


class LazySessions(Mapping[bytes, FrameHandler]):
    """Address -> the meter's session, built when first asked for."""

    def __init__(self, files: list[MeterFile]) -> None:
        self._files = {address_wire(f.address): f for f in files}
        self._built: dict[bytes, FrameHandler] = {}

    def __getitem__(self, key: bytes) -> FrameHandler:
        session = self._built.get(key)
        if session is None:
            f = self._files[key]
            meter = f.build()
            session = MakerFace(Dlt645Session(meter), meter.address, f.manufacturer)
            self._built[key] = session
        return session

    def preload(self) -> None:
        """Build every meter now (a corrupt image shows at start, not at the first question)."""
        for key in self._files:
            self[key]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, key: object) -> bool:
        return key in self._files


def open_fleet(path: str) -> Fleet:
    try:
        return load_fleet(path)
    except FleetError as exc:
        raise UsageError(f"--fleet: {exc}") from None


async def start_gateways(fleet: Fleet, tcp: TcpTarget, timing: BusTiming | None,
                         preload: bool = False) -> list[Dlt645Gateway]:
    """One gateway per bus of the fleet, started; ports PORT, PORT+1, … (0: free ones)."""
    gateways: list[Dlt645Gateway] = []
    try:
        for i, (name, files) in enumerate(fleet.gateways().items()):
            port = tcp.port + i if tcp.port else 0
            sessions = LazySessions(files)
            if preload:
                try:
                    sessions.preload()
                except FleetError as exc:
                    raise UsageError(f"--fleet: {exc}") from None
            gw = Dlt645Gateway(BusRouter(sessions), tcp.host, port, timing=timing,
                               max_clients=1024, name=name)
            await gw.start()
            gateways.append(gw)
    except LinkError as exc:
        for gw in gateways:
            await gw.close()
        raise UsageError(str(exc)) from None
    return gateways


def write_endpoints(path: Path, fleet: Fleet, gateways: list[Dlt645Gateway]) -> None:
    by_name = fleet.gateways()
    listed = [
        Gateway(gw.name, gw.url, tuple(f.address for f in by_name[gw.name]),
                by_name[gw.name][0].utc_offset_h)
        for gw in gateways
    ]
    try:
        path.write_text(endpoints_text(listed), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--endpoints-out: cannot write {path}: {exc.strerror}") from None
