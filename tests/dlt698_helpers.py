"""Shared helpers of the DL/T 698.45 tests: an in-memory link to a session (our client drives a
session without sockets), a `meterseal serve` subprocess that reports each protocol's port,
the PyPI dlt698 peer's client for one meter, and its master station listening for reports."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meterseal.protocols.dlt698.client import Dlt698Client
from meterseal.protocols.dlt698.frame import FrameDecoder, ServerAddress
from meterseal.protocols.dlt698.handler import dispatch
from tests.dlt645_helpers import ADDRESS, ROOT, SCENARIO

SERVER = ServerAddress.of(ADDRESS)
WIRE_ADDRESS = SERVER.address
PASSWORD = "123456"  # the profile's level-02 password as six hex digits


class SessionLink:
    """A Link (as the clients use) whose far end is a sans-I/O session, in memory."""

    name = "memory"

    def __init__(self, session: Any) -> None:
        self.session = session
        self._decoder = FrameDecoder()
        self._pending = bytearray()

    def write(self, data: bytes) -> None:
        self._pending += b"".join(dispatch(self.session, self._decoder.feed(data)))

    def read(self, timeout_s: float) -> bytes:
        out, self._pending = bytes(self._pending), bytearray()
        return out

    def discard_input(self) -> None:
        self._pending.clear()

    def close(self) -> None:
        pass


def memory_client(session: Any, **options: Any) -> Dlt698Client:
    options.setdefault("server", SERVER)
    return Dlt698Client(SessionLink(session), timeout_s=0.5, **options)


# --------------------------------------------------------------------------- serve subprocess


@dataclass
class Served:
    proc: subprocess.Popen[str]
    ports: dict[str, int]
    lines: list[str] = field(default_factory=list)


@contextlib.contextmanager
def serve698(
    scenario: Path = SCENARIO, *, dlt698: bool = True, dlt645: bool = False,
    serial: str | None = None, report_to: int | None = None, extra: tuple[str, ...] = (),
) -> Iterator[Served]:
    """Run `meterseal serve` as a real subprocess; yield once it serves; SIGTERM it after.
    ``ports`` maps "DL/T 645" / "DL/T 698.45" to the TCP port each listens on."""
    cmd = [sys.executable, "-m", "meterseal", "serve", "--scenario", str(scenario)]
    if dlt698:
        cmd += ["--dlt698", "tcp://127.0.0.1:0"]
    if dlt645:
        cmd += ["--dlt645", "tcp://127.0.0.1:0"]
    if serial is not None:
        cmd += ["--serial", serial]
    if report_to is not None:
        cmd += ["--report-to", f"tcp://127.0.0.1:{report_to}"]
    cmd += list(extra)
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    served = Served(proc, {})
    deadline = time.monotonic() + 30
    try:
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"meterseal serve exited early: {''.join(served.lines)}")
            served.lines.append(line)
            m = re.search(r"(DL/T [0-9.]+) listening on tcp://127\.0\.0\.1:(\d+)", line)
            if m:
                served.ports[m.group(1)] = int(m.group(2))
            if "serving;" in line:
                break
        else:
            raise AssertionError(f"meterseal serve did not start: {''.join(served.lines)}")
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                out, _ = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            served.lines.extend(out.splitlines(keepends=True))


# ------------------------------------------------------------------------- the dlt698 peer


def peer_client(port: int | None = None, *, serial: str | None = None,
                receive_frame: int | None = None) -> Any:
    """The PyPI dlt698 client, associated (public) with our meter over TCP or a serial
    device."""
    import dlt698 as d
    from dlt698 import _native as n

    params = d.SessionOptions().parameters
    if receive_frame is not None:
        params.receive_frame_bytes = receive_frame
        params.send_frame_bytes = receive_frame
    protocol = d.SessionOptions(
        server=n.ServerAddress(bytes=WIRE_ADDRESS, type=n.AddressType.single),
        parameters=params, request_timeout=5.0,
    )
    client = d.Client(d.ClientOptions(login_timeout=5.0, protocol=protocol))
    if serial is not None:
        client.open_serial(serial, 2400, d.ConnectionProfile.local_public)
    else:
        assert port is not None
        client.connect_tcp("127.0.0.1", port, d.ConnectionProfile.local_public)
    return client


class PeerMaster:
    """The dlt698 package's own engine as a master station: it listens, takes the meter's
    login, associates (CONNECT) and keeps every REPORT-Notification it receives (its engine
    answers each with a REPORT-Response)."""

    def __init__(self) -> None:
        self.reports: list[Any] = []
        self.port = 0
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeerMaster:
        self._thread.start()
        assert self._ready.wait(10), "the peer master did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def rows(self, oi: int) -> list[list[Any]]:
        out = []
        for note in list(self.reports):
            for rec in note.payload:
                if rec.attribute.oi == oi and not isinstance(rec.result, int):
                    out += [list(row) for row in rec.result]
        return out

    def _run(self) -> None:
        import dlt698 as d
        from dlt698 import _native as n
        from dlt698.expert import Endpoint

        options = d.SessionOptions(
            role=n.Role.client,
            server=n.ServerAddress(bytes=WIRE_ADDRESS, type=n.AddressType.single),
        )
        endpoint = Endpoint(options)  # an Engine must live on the thread that polls it
        self.port = endpoint.engine.listen(
            "127.0.0.1", 0, d.ConnectionProfile.remote_public, 4, n.Role.client
        )
        self._ready.set()
        hooked: set[int] = set()
        try:
            while not self._stop.is_set():
                for done in endpoint.poll(0.01):
                    if done.kind == "state" and done.connection not in hooked:
                        session = endpoint.engine.session_at(done.connection)
                        session.set_report_handler(self._keep)
                        hooked.add(done.connection)
                        endpoint.engine.connect(done.connection)
        finally:
            endpoint.close()

    def _keep(self, note: Any) -> bool:
        self.reports.append(note)
        return True
