"""DL/T 698.45 client side: associate with a meter over TCP or serial, ask, wait for its answer.

Owns: the request/answer exchange — numbering requests (PIID), sending with a wake-up preamble,
decoding what comes back, acknowledging the link segments of a long answer and joining them,
picking the answer to this request out of echoes, other meters' frames and noise, keeping the
follow reports that ride on answers, and the timeout that becomes :class:`MeterNotAnswering`.
The byte pipes are DL/T 645's links (protocols/dlt645/client.py): the same TCP socket or serial
port carries either protocol.

Must not know: what the data means (the head-end decodes it with the catalogue), the meter side.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from meterseal.protocols.dlt645 import errors as e645
from meterseal.protocols.dlt645.client import Link, SerialLink, TcpLink
from meterseal.protocols.dlt698.access import (
    ActionRequest,
    ActionResponse,
    Apdu,
    GetRecordRequest,
    GetRecordResponse,
    GetRequest,
    GetResponse,
    ReportResponse,
    decode_apdu,
)
from meterseal.protocols.dlt698.apdu import GetRecord, ResultNormal, ResultRecord
from meterseal.protocols.dlt698.axdr import Data, Integer
from meterseal.protocols.dlt698.errors import (
    CodecError,
    LinkError,
    MeterNotAnswering,
    MeterRefused,
    dar_name,
)
from meterseal.protocols.dlt698.frame import (
    FUNCTION_USER_DATA,
    MAX_PREAMBLE,
    PRM_BIT,
    SEGMENT_BIT,
    AddressType,
    Frame,
    FrameDecoder,
    Segment,
    SegmentType,
    ServerAddress,
    encode,
)
from meterseal.protocols.dlt698.refs import Oad, Omd
from meterseal.protocols.dlt698.services import (
    CONNECT_OK,
    MECHANISM_NULL,
    MECHANISM_PASSWORD,
    Association,
    ConnectRequest,
    ConnectResponse,
    ReleaseRequest,
)

WILDCARD: ServerAddress = ServerAddress(b"\xaa" * 6, AddressType.WILDCARD)
CLIENT_ADDRESS = 0x10  # a master station's client address
NO_PARAMETER: Data = Integer(0)  # what a reset method takes


@contextmanager
def _link_errors() -> Iterator[None]:
    try:
        yield
    except e645.LinkError as exc:
        raise LinkError(str(exc)) from exc


class Dlt698Client:
    """Ask one meter over one link; one request at a time.

    ``server``: whom to address (default: the wildcard AA×6, whoever is on the line);
    ``timeout_s`` bounds the wait for each answer; ``preamble`` FE bytes lead each request.
    """

    def __init__(
        self, link: Link, *, server: ServerAddress = WILDCARD, client: int = CLIENT_ADDRESS,
        timeout_s: float = 2.0, preamble: int = MAX_PREAMBLE,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self._link = link
        self.server = server
        self._client = client
        self._timeout_s = timeout_s
        self._preamble = preamble
        self._piid = 0
        self.association: ConnectResponse | None = None
        self.follow_reports: list[ResultRecord | ResultNormal] = []

    @classmethod
    def tcp(cls, host: str, port: int, *, connect_timeout_s: float = 5.0,
            **options: object) -> Dlt698Client:
        """Connect over TCP; :class:`LinkError` if the meter is unreachable."""
        with _link_errors():
            link = TcpLink(host, port, connect_timeout_s=connect_timeout_s)
        return cls(link, **options)  # type: ignore[arg-type]

    @classmethod
    def serial(cls, port: str, *, baudrate: int = 2400, **options: object) -> Dlt698Client:
        """Open a serial port (8E1); :class:`LinkError` if it cannot be opened."""
        with _link_errors():
            link = SerialLink(port, baudrate=baudrate)
        return cls(link, **options)  # type: ignore[arg-type]

    @property
    def link(self) -> Link:
        return self._link

    def next_piid(self) -> int:
        self._piid = (self._piid + 1) & 0x3F
        return self._piid

    # --- the exchange ------------------------------------------------------------------------

    def send(self, data: bytes, *, control: int = PRM_BIT | FUNCTION_USER_DATA) -> None:
        frame = Frame(control, self.server, self._client, data)
        with _link_errors():
            self._link.write(encode(frame, self._preamble))

    def request(self, apdu: Apdu, *, timeout_s: float | None = None) -> Apdu:
        """Send ``apdu`` and return the meter's answer to it (the APDU with its PIID)."""
        wait_s = self._timeout_s if timeout_s is None else timeout_s
        with _link_errors():
            self._link.discard_input()
        self.send(apdu.to_bytes())
        piid = getattr(apdu, "piid", 0) & 0x3F
        decoder = FrameDecoder()
        deadline = time.monotonic() + wait_s
        pieces: bytearray | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MeterNotAnswering(
                    f"meter {self.server.digits} on {self._link.name} did not answer within"
                    f" {wait_s:g} s: check the address, the link and the baud rate"
                )
            with _link_errors():
                chunk = self._link.read(remaining)
            for frame in decoder.feed(chunk):
                if not frame.from_server or frame.function != FUNCTION_USER_DATA:
                    continue
                if frame.segmented:
                    pieces = self._segment(frame, pieces)
                    if pieces is None or not frame.segment().type == SegmentType.LAST:
                        continue
                    data, pieces = bytes(pieces), None
                else:
                    data = frame.data
                answer = self._match(data, piid)
                if answer is not None:
                    return answer

    def _segment(self, frame: Frame, pieces: bytearray | None) -> bytearray | None:
        """Collect one segment of a long answer and acknowledge it."""
        try:
            seg = frame.segment()
        except CodecError:
            return pieces
        if seg.type == SegmentType.FIRST:
            pieces = bytearray()
        if pieces is None or seg.type == SegmentType.ACK:
            return pieces
        pieces += seg.data
        if seg.type != SegmentType.LAST:
            ack = Segment(seg.sequence, SegmentType.ACK).to_bytes()
            self.send(ack, control=PRM_BIT | SEGMENT_BIT | FUNCTION_USER_DATA)
        return pieces

    def _match(self, data: bytes, piid: int) -> Apdu | None:
        try:
            answer = decode_apdu(data)
        except CodecError:
            return None
        if (getattr(answer, "piid", -1) & 0x3F) != piid:
            return None  # a late answer to an earlier request
        follow = getattr(answer, "follow_report", None)
        if follow:
            self.follow_reports.extend(follow)
        return answer

    # --- services ----------------------------------------------------------------------------

    def connect(self, password: str | None = None, association: Association | None = None
                ) -> ConnectResponse:
        """Associate (public, or with the meter's password); MeterRefused if refused."""
        mechanism = MECHANISM_PASSWORD if password else MECHANISM_NULL
        request = ConnectRequest(self.next_piid(), association or Association(), mechanism,
                                 password or "")
        answer = self.request(request)
        if not isinstance(answer, ConnectResponse):
            raise MeterRefused(f"the meter answered CONNECT with {type(answer).__name__}", 255)
        if answer.result != CONNECT_OK:
            raise MeterRefused(
                f"meter {self.server.digits} refused the association (result {answer.result}"
                f"{': wrong password' if answer.result == 1 else ''})", answer.result,
            )
        self.association = answer
        return answer

    def release(self) -> None:
        self.request(ReleaseRequest(self.next_piid()))
        self.association = None

    def get_results(self, oads: list[Oad]) -> tuple[ResultNormal, ...]:
        answer = self.request(GetRequest(self.next_piid(), tuple(oads), len(oads) != 1))
        if not isinstance(answer, GetResponse) or len(answer.results) != len(oads):
            raise MeterRefused(f"the meter answered GET with {type(answer).__name__}", 255)
        return answer.results

    def get(self, oad: Oad) -> Data:
        """One attribute's value; MeterRefused carrying the DAR if the meter has none."""
        (result,) = self.get_results([oad])
        if result.data is None:
            raise MeterRefused(f"meter refused to read {oad}: {dar_name(result.dar)}", result.dar)
        return result.data

    def get_record(self, query: GetRecord) -> ResultRecord:
        answer = self.request(GetRecordRequest(self.next_piid(), (query,)))
        if not isinstance(answer, GetRecordResponse):
            raise MeterRefused(f"the meter answered GET-Record with {type(answer).__name__}", 255)
        result = answer.results[0]
        if result.rows is None:
            raise MeterRefused(
                f"meter refused the records of {query.oad}: {dar_name(result.dar)}", result.dar
            )
        return result

    def action(self, omd: Omd, parameter: Data = NO_PARAMETER) -> int:
        """Run a method; its DAR (0: done)."""
        answer = self.request(ActionRequest(self.next_piid(), ((omd, parameter),)))
        if not isinstance(answer, ActionResponse) or not answer.results:
            raise MeterRefused(f"the meter answered ACTION with {type(answer).__name__}", 255)
        return answer.results[0].dar

    def confirm_reports(self, oads: tuple[Oad, ...]) -> None:
        """Confirm the follow reports received (a REPORT-Response; the meter sends nothing
        back)."""
        self.send(ReportResponse(0, oads).to_bytes())

    def close(self) -> None:
        self._link.close()

    def __enter__(self) -> Dlt698Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
