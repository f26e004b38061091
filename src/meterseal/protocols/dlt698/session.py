"""The DL/T 698.45 meter session: frames in, reply bytes out, against a meter model.

Everything that changes a link's state lives here, and the rules are these:

- **Association.** A link starts in the preset public association (reads work without a
  CONNECT, as meters on RS-485 answer them). CONNECT with no security gives a public
  association, with the meter's password an authorised one; a wrong password (or a meter locked
  for the day) gives result 1 and leaves the preset one. RELEASE goes back to the preset one.
  The transitions are the table ``TRANSITIONS``; nothing else moves ``state``.
- **Addressing.** Frames from a server (an echo, another meter) and frames for another address
  are ignored; a broadcast is not answered. Damaged frames never reach a session (the decoder
  drops them): their address cannot be trusted.
- **Segments.** An answer longer than the frame size the client can take (its CONNECT's receive
  size; 1024 bytes before one) goes in link segments, each sent when the client acknowledges
  the one before; a request in segments is acknowledged piece by piece and answered whole. Any
  unsegmented frame abandons a transfer in progress, so a client that gives up never wedges
  the link.
- **Reports.** A row whose report is due by follow report (reported by no one yet) rides on the
  next answer on any link, once; the master confirms with a REPORT-Response, which marks the
  rows confirmed.

Must not know: sockets, serial ports, threads, the simulator, how records are stored. Answers
come from answers.py; the meter's state (records, clock, password lockout) lives in the model,
so several links share one meter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

from meterseal.protocols.dlt698.access import (
    ActionRequest,
    ActionResponse,
    ActionResult,
    GetNextRequest,
    GetNextResponse,
    GetRecordRequest,
    GetRecordResponse,
    GetRequest,
    GetResponse,
    ReportNotification,
    ReportResponse,
    SetRequest,
    SetResponse,
    decode_apdu,
)
from meterseal.protocols.dlt698.answers import Answers
from meterseal.protocols.dlt698.apdu import FollowReport, ResultNormal
from meterseal.protocols.dlt698.axdr_time import DateTime
from meterseal.protocols.dlt698.catalog import FACTORY, MODE_ACTIVE, MODE_FOLLOW
from meterseal.protocols.dlt698.errors import CodecError, Dar
from meterseal.protocols.dlt698.frame import (
    DIR_BIT,
    FUNCTION_LINK,
    FUNCTION_USER_DATA,
    MAX_PREAMBLE,
    PRM_BIT,
    SCRAMBLE_BIT,
    SEGMENT_BIT,
    AddressType,
    Frame,
    Segment,
    SegmentType,
    ServerAddress,
    address_matches,
    encode,
    frame_overhead,
    split_apdu,
)
from meterseal.protocols.dlt698.model import MeterModel
from meterseal.protocols.dlt698.refs import Oad
from meterseal.protocols.dlt698.reports import Pending, ReportDesk, confirm, report_results
from meterseal.protocols.dlt698.services import (
    CONNECT_BAD_PASSWORD,
    CONNECT_OK,
    ERROR_UNREADABLE,
    ERROR_UNSUPPORTED,
    MECHANISM_NULL,
    MECHANISM_PASSWORD,
    MECHANISM_SYMMETRY,
    Association,
    ConnectRequest,
    ConnectResponse,
    ErrorResponse,
    LinkRequest,
    LinkResponse,
    ReleaseRequest,
    ReleaseResponse,
)
from meterseal.protocols.dlt698.values import civil

DEFAULT_FRAME: Final = 1024  # the frame size a client takes before it says otherwise
MAX_RECEIVE_FRAME: Final = 2048  # what this meter takes in one frame
MAX_REQUEST_APDU: Final = 8192  # a request in segments may not grow past this
FOLLOW_LIMIT: Final = 4  # rows one follow report carries; the rest ride on later answers
REPORT_LIMIT: Final = 4  # rows one active report carries, so that it fits one frame
CONNECT_SYMMETRIC_ERROR: Final = 2
CONNECT_SIGNATURE_ERROR: Final = 4


class State(Enum):
    PRESET = "preset public association"
    PUBLIC = "public association"
    AUTHORISED = "authorised association"


class Event(Enum):
    CONNECT_PUBLIC = "connect without security"
    CONNECT_PASSWORD = "connect with the right password"
    CONNECT_REFUSED = "connect refused"
    RELEASE = "release"


# Every association transition: from any state, the event decides.
TRANSITIONS: Final[dict[Event, State]] = {
    Event.CONNECT_PUBLIC: State.PUBLIC,
    Event.CONNECT_PASSWORD: State.AUTHORISED,
    Event.CONNECT_REFUSED: State.PRESET,
    Event.RELEASE: State.PRESET,
}


@dataclass(slots=True)
class _Outgoing:
    """An answer being sent in segments: the frame fields and the segments not yet sent."""

    control: int
    client: int
    segments: list[Segment]
    next: int  # index of the segment the client's next acknowledgement asks for


class Dlt698Session:
    """One link's conversation with a meter (implements the transports' FrameHandler).

    ``answers`` is shared by every link of one meter (it caches the record tables);
    ``preamble``: FE bytes before each answer (0..4).
    """

    CACHE_LIMIT = 256

    def __init__(
        self, model: MeterModel, *, answers: Answers | None = None,
        desk: ReportDesk | None = None, preamble: int = MAX_PREAMBLE,
    ) -> None:
        if not 0 <= preamble <= MAX_PREAMBLE:
            raise ValueError(f"preamble must be 0..{MAX_PREAMBLE} FE bytes, got {preamble}")
        self.answers = answers or Answers(model, desk)
        self.model = model
        self.state = State.PRESET
        self._preamble = preamble
        self._me = ServerAddress(bytes(model.address))
        self._client_frame = DEFAULT_FRAME
        self._outgoing: _Outgoing | None = None
        self._incoming: bytearray | None = None
        self._incoming_next = 0
        self._followed_unconfirmed: list[Pending] = []
        self._unconfirmed: dict[int, list[Pending]] = {}  # by PIID: rows pushed, not confirmed
        self._nothing_due: object = None
        self._link_piid = 0
        self._report_piid = 0
        self.logged_in = False
        self._cache: dict[bytes, bytes] = {}
        self._cache_version: object = None

    @property
    def desk(self) -> ReportDesk:
        return self.answers.desk

    def fire(self, event: Event) -> State:
        self.state = TRANSITIONS[event]
        return self.state

    # --- FrameHandler ------------------------------------------------------------------------

    def handle(self, frame: Frame) -> list[bytes]:
        """The bytes to send back for ``frame`` (none: stay silent)."""
        if frame.from_server or not address_matches(frame.server, self._me.address):
            return []
        if frame.function == FUNCTION_LINK:
            self._link_response(frame.data)
            return []
        if frame.function != FUNCTION_USER_DATA:
            return []
        broadcast = frame.server.type == AddressType.BROADCAST
        if frame.segmented:
            replies = self._segment(frame)
        else:
            self._outgoing = None  # a new request abandons an answer in segments
            self._incoming = None
            replies = self._apdu(frame, frame.data)
        return [] if broadcast else replies

    # --- the meter's side of a link to the master (login, active reports) ---------------------

    def link_request(self, kind: int, heartbeat_s: int) -> bytes:
        """A LINK-Request frame (login, heartbeat or logout) from the meter."""
        now_ms = self.model.clock()[0]
        t = civil(now_ms)
        # day of week 1 (Monday) .. 7 (Sunday), as the PyPI dlt698 package stamps its own
        at = DateTime(t.year, t.month, t.day, t.isoweekday(), t.hour, t.minute, t.second, 0)
        self._link_piid = (self._link_piid + 1) & 0x3F
        apdu = LinkRequest(self._link_piid, kind, heartbeat_s, at).to_bytes()
        return encode(Frame(DIR_BIT | FUNCTION_LINK, self._me, 0, apdu), self._preamble)

    def _link_response(self, apdu: bytes) -> None:
        try:
            answer = decode_apdu(apdu)
        except CodecError:
            return
        if isinstance(answer, LinkResponse):
            self.logged_in = (answer.result & 0x07) == 0

    def push_reports(self) -> list[bytes]:
        """A REPORT-Notification frame with the rows due by active report that are not already
        waiting for this master's confirmation (at most REPORT_LIMIT rows); the rows are marked
        reported."""
        tables = self.answers.tables()
        waiting = {(p.event.oi, p.seq) for sent in self._unconfirmed.values() for p in sent}
        due = [
            p for p in self.desk.pending(tables, MODE_ACTIVE) if (p.event.oi, p.seq) not in waiting
        ][:REPORT_LIMIT]
        if not due:
            return []
        self._report_piid = self._report_piid % 0x3F + 1  # 1..63: 0 stays the follow report's
        for p in due:
            self.desk.mark(p.event.oi, p.seq, p.ends)
        self._unconfirmed[self._report_piid] = due
        apdu = ReportNotification(self._report_piid, report_results(tables, due)).to_bytes()
        return [encode(Frame(DIR_BIT | FUNCTION_USER_DATA, self._me, 0, apdu), self._preamble)]

    def reports_waiting(self) -> int:
        """Rows pushed on this link and not yet confirmed."""
        return sum(len(sent) for sent in self._unconfirmed.values())

    def forget_unconfirmed(self) -> None:
        """Give up waiting for confirmations: the rows are due again (a retry)."""
        self._unconfirmed.clear()

    # --- segments ----------------------------------------------------------------------------

    def _segment(self, frame: Frame) -> list[bytes]:
        try:
            seg = frame.segment()
        except CodecError:
            return []
        if seg.type == SegmentType.ACK:
            return self._next_segment(seg.sequence)
        self._outgoing = None
        if seg.type == SegmentType.FIRST:
            self._incoming, self._incoming_next = bytearray(), 0
        if self._incoming is None or seg.sequence != self._incoming_next:
            self._incoming = None
            return []
        self._incoming += seg.data
        self._incoming_next += 1
        if len(self._incoming) > MAX_REQUEST_APDU:
            self._incoming = None
            return []
        if seg.type != SegmentType.LAST:
            ack = Segment(seg.sequence, SegmentType.ACK).to_bytes()
            return [self._frame(frame, ack, segment=True)]
        apdu, self._incoming = bytes(self._incoming), None
        return self._apdu(frame, apdu)

    def _next_segment(self, acked: int) -> list[bytes]:
        out = self._outgoing
        if out is None or acked + 1 != out.next or out.next >= len(out.segments):
            return []
        seg = out.segments[out.next]
        out.next += 1
        if out.next >= len(out.segments):
            self._outgoing = None
        raw = encode(
            Frame(out.control | SEGMENT_BIT, self._me, out.client, seg.to_bytes()), self._preamble
        )
        return [raw]

    def _frame(self, request: Frame, data: bytes, *, segment: bool = False) -> bytes:
        control = DIR_BIT | PRM_BIT | FUNCTION_USER_DATA | (request.control & SCRAMBLE_BIT)
        if segment:
            control |= SEGMENT_BIT
        return encode(Frame(control, self._me, request.client, data), self._preamble)

    def _send(self, request: Frame, apdu: bytes) -> list[bytes]:
        """``apdu`` as one frame, or as the first of its segments."""
        room = self._client_frame - frame_overhead(self._me)
        if len(apdu) <= room:
            return [self._frame(request, apdu)]
        segments = split_apdu(apdu, max(1, room - 2))
        control = DIR_BIT | PRM_BIT | FUNCTION_USER_DATA | (request.control & SCRAMBLE_BIT)
        self._outgoing = _Outgoing(control, request.client, segments, 1)
        return [self._frame(request, segments[0].to_bytes(), segment=True)]

    # --- APDUs -------------------------------------------------------------------------------

    def _apdu(self, frame: Frame, apdu: bytes) -> list[bytes]:
        if not apdu:
            return []
        if not frame.client_started:
            self._server_started(apdu)
            return []
        answer = self._cached(apdu)
        if answer is None:
            answer = self.answer(apdu)
        return [] if answer is None else self._send(frame, answer)

    def _server_started(self, apdu: bytes) -> None:
        """A frame of an exchange the meter started: the master's REPORT-Response."""
        try:
            request = decode_apdu(apdu)
        except CodecError:
            return
        if isinstance(request, ReportResponse):
            self._report_response(request)

    def answer(self, apdu: bytes) -> bytes | None:
        """The APDU answering ``apdu`` (a client's request), or None for no answer."""
        piid = apdu[2] if len(apdu) > 2 else (apdu[1] if len(apdu) > 1 else 0)
        try:
            request = decode_apdu(apdu)
        except CodecError:
            kind = ERROR_UNREADABLE if apdu[0] in _REQUEST_TAGS else ERROR_UNSUPPORTED
            return ErrorResponse(_piid_acd(piid), kind).to_bytes()
        handler = _HANDLERS.get(type(request))
        if handler is None:
            return None  # an answer or a notification sent to a meter: not ours to answer
        return handler(self, request)

    # --- the answers -------------------------------------------------------------------------

    def _connect(self, request: ConnectRequest) -> bytes:
        result = CONNECT_OK
        if request.mechanism == MECHANISM_NULL:
            self.fire(Event.CONNECT_PUBLIC)
        elif request.mechanism == MECHANISM_PASSWORD and self.answers.check_password(
            request.password
        ):
            self.fire(Event.CONNECT_PASSWORD)
        else:
            result = {
                MECHANISM_PASSWORD: CONNECT_BAD_PASSWORD,
                MECHANISM_SYMMETRY: CONNECT_SYMMETRIC_ERROR,
            }.get(request.mechanism, CONNECT_SIGNATURE_ERROR)
            self.fire(Event.CONNECT_REFUSED)
        asked = request.association
        # What is granted never exceeds what was asked: frames no longer than the client takes
        # (receive) or sends, APDUs no longer than its own, the conformance it stated.
        send = max(64, min(asked.receive_frame or DEFAULT_FRAME, DEFAULT_FRAME * 8))
        if result == CONNECT_OK:
            self._client_frame = send
        granted = Association(
            version=asked.version, protocol=asked.protocol, function=asked.function,
            send_frame=send, receive_frame=min(asked.send_frame, MAX_RECEIVE_FRAME),
            window=1, max_apdu=min(asked.max_apdu, MAX_REQUEST_APDU), timeout_s=asked.timeout_s,
        )
        return ConnectResponse(_piid_acd(request.piid), FACTORY, granted, result).to_bytes()

    def _release(self, request: ReleaseRequest) -> bytes:
        self.fire(Event.RELEASE)
        self._client_frame = DEFAULT_FRAME
        piid = _piid_acd(request.piid)
        return ReleaseResponse(piid, 0, self._follow(), request.time_tag).to_bytes()

    def _get(self, request: GetRequest) -> bytes:
        results = []
        for oad in request.oads:
            value = self.answers.get(oad)
            results.append(
                ResultNormal(oad, dar=value) if isinstance(value, int) else ResultNormal(oad, value)
            )
        piid = _piid_acd(request.piid)
        response = GetResponse(piid, tuple(results), request.as_list, self._follow(),
                               request.time_tag)
        return response.to_bytes()

    def _get_record(self, request: GetRecordRequest) -> bytes:
        results = tuple(self.answers.get_record(q) for q in request.records)
        response = GetRecordResponse(
            _piid_acd(request.piid), results, request.as_list, self._follow(), request.time_tag
        )
        return response.to_bytes()

    def _get_next(self, request: GetNextRequest) -> bytes:
        return GetNextResponse(
            _piid_acd(request.piid), True, request.block, Dar.NOT_IN_SEGMENT_TRANSFER
        ).to_bytes()

    def _set(self, request: SetRequest) -> bytes:
        # Nothing of this meter is writable over DL/T 698.45 (its clock is set by DL/T 645
        # broadcast time); refusing is the honest answer.
        return SetResponse(_piid_acd(request.piid), request.oad, Dar.READ_WRITE_DENIED).to_bytes()

    def _action(self, request: ActionRequest) -> bytes:
        authorised = self.state == State.AUTHORISED
        results = tuple(
            ActionResult(omd, self.answers.action(omd, authorised)) for omd, _value in request.calls
        )
        return ActionResponse(
            _piid_acd(request.piid), results, request.as_list, self._follow()
        ).to_bytes()

    def _report_response(self, request: ReportResponse) -> None:
        """The master confirms rows: those pushed under its PIID, else those followed."""
        sent = self._unconfirmed.pop(request.piid, None)
        if sent is None:
            sent, self._followed_unconfirmed = self._followed_unconfirmed, []
        confirm(self.desk, sent, request.oads)

    # --- follow reports and the answer cache --------------------------------------------------

    def _due(self) -> list[Pending]:
        """Rows due by follow report: not yet reported by anyone."""
        version = self.answers.version()
        if version == self._nothing_due:
            return []
        due = self.desk.pending(self.answers.tables(), MODE_FOLLOW)
        if not due:
            self._nothing_due = version
        return due

    def _follow(self) -> FollowReport:
        """The follow report to ride on this answer: rows not yet reported (at most
        FOLLOW_LIMIT), marked reported; a REPORT-Response confirms them."""
        due = self._due()[:FOLLOW_LIMIT]
        if not due:
            return None
        for p in due:
            self.desk.mark(p.event.oi, p.seq, p.ends)
        self._followed_unconfirmed += due
        return report_results(self.answers.tables(), due)

    def _cached(self, apdu: bytes) -> bytes | None:
        """The answer to a repeated GET (the same request under another PIID) while the image
        and the desk are unchanged and no follow report is due; None: not from the cache."""
        if len(apdu) < 5 or apdu[0] != 0x05 or apdu[1] not in (1, 3) or apdu[-1] != 0:
            return None  # not GET Normal/Record, or a time tag rides on it
        version = self.answers.version()
        if version != self._cache_version:
            self._cache.clear()
            self._cache_version = version
        if self._due():
            return None
        key = apdu[:2] + apdu[3:]
        body = self._cache.get(key)
        if body is not None:
            return bytes((0x85, apdu[1], _piid_acd(apdu[2]))) + body
        answer = self.answer(apdu)
        if answer is not None and answer[:2] == bytes((0x85, apdu[1])) and self._cacheable(apdu):
            if len(self._cache) >= self.CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = answer[3:]
        return answer

    def _cacheable(self, apdu: bytes) -> bool:
        if apdu[1] == 3:
            # records change only with the image or the desk, but for the clock logs
            return self.answers.cacheable(Oad(int.from_bytes(apdu[3:5], "big"), 2))
        try:
            request = decode_apdu(apdu)
        except CodecError:
            return False
        return isinstance(request, GetRequest) and self.answers.cacheable(request.oads[0])


def _piid_acd(piid: int) -> int:
    """The answer's PIID-ACD: the request's service number and priority (bit 7), no access
    demand (bit 6)."""
    return piid & 0xBF


_REQUEST_TAGS: Final = frozenset((0x02, 0x03, 0x05, 0x06, 0x07, 0x08))  # services it reads

_HANDLERS: Final = {
    ReportResponse: Dlt698Session._report_response,
    ConnectRequest: Dlt698Session._connect,
    ReleaseRequest: Dlt698Session._release,
    GetRequest: Dlt698Session._get,
    GetRecordRequest: Dlt698Session._get_record,
    GetNextRequest: Dlt698Session._get_next,
    SetRequest: Dlt698Session._set,
    ActionRequest: Dlt698Session._action,
}
