"""The journal's page codec: how each record half is laid out in its own NVM page.

Owns the page format of meters in the field: which tag each record kind is written under, its
payload fields in byte order, where the chain trailer sits, and the CRC that closes the page. It
does not know what a record means (records.py), where a page lives (layout.py), how it is written
or recovered (journal.py, image.py), nor what the trailer holds (chain.py).

Page: tag (1) | payload, little-endian fixed widths | [chain trailer (23), chain.py] | CRC-32 of
everything before it (4, little-endian). The Journal writes every record page with the trailer;
a page without one (an older image, a test) still decodes, and is reported unsealed by the chain.
Decoding is total: anything that is not a well-formed page of a known kind gives None, so a torn
or garbage page is skipped, never trusted and never raised on.
"""

from meterseal.firmware.authlog import (
    TAG_BROADCAST,
    TAG_TIME_SET,
    BroadcastChange,
    ClockChange,
    TimeSetChange,
)
from meterseal.firmware.compat import const
from meterseal.firmware.crc import crc32, page_crc_ok
from meterseal.firmware.layout import (
    TAG_COVER_CLOSE,
    TAG_COVER_OPEN,
    TAG_EVENT_CLEAR,
    TAG_EVENT_CLEAR_T,
    TAG_FREEZE,
    TAG_PD_END,
    TAG_PD_START,
    TAG_REPORT,
    TAG_STATE,
    TAG_TERMINAL_CLOSE,
    TAG_TERMINAL_OPEN,
    TAG_TERMINAL_REPORT,
    TRAILER_SIZE,
)
from meterseal.firmware.records import (
    CoverClose,
    CoverOpen,
    DailyFreeze,
    EventClear,
    PowerDown,
    PowerDownEnd,
    ReportStatus,
    SavedState,
    TerminalClose,
    TerminalOpen,
    TerminalReport,
)

# Every page kind, declared once: its tag, its record class, and its payload fields in byte order
# as (name, width in bytes), each little-endian. A field's name is both the record's attribute
# and its constructor's keyword, so the one writer and the one reader below serve every kind.
# These rows are the NVM format of meters in the field: a change here is a format change.
PAGE_KINDS = (
    (
        TAG_COVER_OPEN,
        CoverOpen,
        (
            ("seq", 4),
            ("quality", 1),
            ("opened_ms", 6),
            ("not_before_ms", 6),
            ("not_after_ms", 6),
            ("import_before", 6),
            ("export_before", 6),
        ),
    ),
    (
        TAG_COVER_CLOSE,
        CoverClose,
        (
            ("seq", 4),
            ("close_quality", 1),
            ("closed_ms", 6),
            ("import_after", 6),
            ("export_after", 6),
        ),
    ),
    (TAG_PD_START, PowerDown, (("seq", 4), ("start_quality", 1), ("start_ms", 6))),
    (TAG_PD_END, PowerDownEnd, (("seq", 4), ("end_quality", 1), ("end_ms", 6))),
    (
        TAG_STATE,
        SavedState,
        (
            ("gen", 4),
            ("import_mwh", 6),
            ("export_mwh", 6),
            ("cover_closed", 1),
            ("known_ms", 6),
            ("power_down_ms", 6),
            ("flags", 1),
            ("pd_seq", 4),
        ),
    ),
    (TAG_REPORT, ReportStatus, (("seq", 4), ("sends", 1), ("flags", 1), ("time_ms", 6))),
    (
        TAG_FREEZE,
        DailyFreeze,
        (
            ("seq", 4),
            ("quality", 1),
            ("time_ms", 6),
            ("import_units", 6),
            ("export_units", 6),
        ),
    ),
    (
        TAG_EVENT_CLEAR,
        EventClear,
        (
            ("seq", 4),
            ("time_quality", 1),
            ("time_ms", 6),
            ("operator", 4),
            ("di", 4),
            ("cover_total", 4),
            ("cover_base", 4),
            ("pd_total", 4),
            ("pd_base", 4),
        ),
    ),
)


def _fields_of(cls):
    for _tag, kind, fields in PAGE_KINDS:
        if kind is cls:
            return fields
    raise ValueError("no page kind")


# The terminal cover's pages: the cover's layouts under tags of their own.
PAGE_KINDS = PAGE_KINDS + (  # noqa: RUF005 (MicroPython has no unpacking in displays)
    (TAG_TERMINAL_OPEN, TerminalOpen, _fields_of(CoverOpen)),
    (TAG_TERMINAL_CLOSE, TerminalClose, _fields_of(CoverClose)),
    (TAG_TERMINAL_REPORT, TerminalReport, _fields_of(ReportStatus)),
    # An event clear is written under this tag since the terminal cover has a log (its total
    # and baseline added); a page of the older tag still reads, with both at 0. Three logs'
    # totals and bases do not fit one 64-byte page beside the chain trailer, so this page keeps
    # every baseline (what the standard view needs) and the terminal total, and drops the cover
    # and power-down all-time totals: they read back as their baselines, a lower bound (their
    # records still hold the totals).
    (TAG_EVENT_CLEAR_T, EventClear,
     (("seq", 4), ("time_quality", 1), ("time_ms", 6), ("operator", 4), ("di", 4),
      ("cover_base", 4), ("pd_base", 4), ("terminal_total", 4), ("terminal_base", 4))),
    # The clock-change logs of the authority journal (authlog.py): same page rules, and the
    # record chain covers them, so a forged clock change is named like a forged record.
    (TAG_TIME_SET, TimeSetChange, ClockChange.FIELDS),
    (TAG_BROADCAST, BroadcastChange, ClockChange.FIELDS),
)

_CRC_SIZE = const(4)


def _index_kinds():
    by_tag = {}
    by_class = {}
    lengths = {}
    for tag, cls, fields in PAGE_KINDS:
        n = 1 + _CRC_SIZE
        for _name, width in fields:
            n += width
        by_tag[tag] = (cls, fields, n)
        by_class[cls] = (tag, fields)
        lengths[cls] = n
    return by_tag, by_class, lengths


# PAGE_LEN: bytes of a page (tag + payload + CRC) by record class; each fits one 64-byte page.
_BY_TAG, _BY_CLASS, PAGE_LEN = _index_kinds()
_CLEAR_BEFORE_TERMINAL = (TAG_EVENT_CLEAR, _fields_of(EventClear))


def encode_page(rec, trailer=b""):
    """Page bytes of one record half: CoverOpen (its open half), CoverClose, PowerDown (its start
    half), PowerDownEnd, SavedState or EventClear; `trailer` (the chain trailer, chain.py: empty
    or TRAILER_SIZE bytes) goes between the payload and the CRC. ValueError when a field is out
    of range."""
    buf = _payload(rec)
    if len(trailer) not in (0, TRAILER_SIZE):
        raise ValueError("chain trailer size")
    buf.extend(trailer)
    buf.extend(crc32(buf).to_bytes(_CRC_SIZE, "little"))
    return bytes(buf)


def encode_payload(rec):
    """The tag and payload of rec's page (encode_page's bytes before the trailer and CRC):
    what a writer that appends the chain trailer itself needs. ValueError as encode_page."""
    return bytes(_payload(rec))


def _payload(rec):
    tag, fields = _kind_of(rec)
    rec.check()
    buf = bytearray((tag,))
    for name, width in fields:
        buf.extend(getattr(rec, name).to_bytes(width, "little"))
    return buf


def _kind_of(rec):
    """(tag, fields) rec is written under."""
    kind = _BY_CLASS.get(type(rec))
    if kind is None:
        raise ValueError("not a journal record")
    if type(rec) is EventClear and not rec.terminal_total:
        # With no terminal-cover record yet there is nothing to carry: the clear keeps the
        # older page format byte for byte, as a meter without a terminal cover always writes.
        return _CLEAR_BEFORE_TERMINAL
    return kind


def read_back(rec):
    """The record decode_page gives for the page encode_page(rec) wrote, without decoding it:
    call it only after encode_page(rec) or encode_payload(rec) succeeded. The writer of a page
    keeps it, so indexing its own write costs no decode. Exact: the encoder checked every field
    to be a non-negative int that fits its width, and such a value comes back from its bytes as
    int(value)."""
    values = {}
    for name, _width in _kind_of(rec)[1]:
        values[name] = int(getattr(rec, name))
    try:
        return _built(type(rec), values)
    except Exception:  # as decode_chained: total by contract
        return None


def decode_page(data):
    """The record half in `data` (a page read from its start; may be longer than the page), or
    None when it is erased, torn, garbage or inconsistent. Never raises."""
    got = decode_chained(data)
    return None if got is None else got[0]


def decode_chained(data):
    """(record, trailer) of the page in `data`: trailer is its TRAILER_SIZE chain bytes, or
    b"" for a page written without a chain; None as decode_page. Never raises."""
    try:
        return _decode(data)
    except Exception:  # total by contract: garbage must never escape as an error
        return None


def chained_span(data):
    """The length of the chained record page in `data` (tag to CRC) when its tag is a record's
    and its CRC holds, whatever its fields say; 0 otherwise. What a reader must be shown even
    when the record inside no longer makes sense (it was tampered with)."""
    if len(data) < 1:
        return 0
    kind = _BY_TAG.get(data[0])
    if kind is None or kind[0] is SavedState:
        return 0
    end = kind[2] + TRAILER_SIZE
    return end if page_crc_ok(data, end) else 0


def _decode(data):
    if len(data) < 1:
        return None
    kind = _BY_TAG.get(data[0])
    if kind is None:
        return None
    cls, fields, n = kind
    # A chained page first: its CRC sits TRAILER_SIZE further on. A plain page whose bytes
    # there happen to hold a matching CRC would need a 2**-32 coincidence.
    if cls is not SavedState and page_crc_ok(data, n + TRAILER_SIZE):
        trailer = bytes(data[n - _CRC_SIZE : n - _CRC_SIZE + TRAILER_SIZE])
    elif page_crc_ok(data, n):
        trailer = b""
    else:
        return None
    body = bytes(data[: n - _CRC_SIZE])
    values = {}
    pos = 1
    for name, width in fields:
        values[name] = int.from_bytes(body[pos : pos + width], "little")
        pos += width
    rec = _built(cls, values)
    return None if rec is None else (rec, trailer)


def _built(cls, values):
    """The record of class cls with the page fields `values`, or None if it fails its check."""
    if cls is EventClear and "cover_total" not in values:
        values["cover_total"] = values["cover_base"]
        values["pd_total"] = values["pd_base"]
    rec = cls(**values)
    try:
        rec.check()
    except ValueError:
        return None
    return rec
