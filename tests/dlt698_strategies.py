"""Hypothesis strategies for the DL/T 698.45 codec: every A-XDR value, reference, APDU, frame and
catalogue row, so that each codec class gets its round trip."""

from __future__ import annotations

from hypothesis import strategies as st

from meterseal.protocols.dlt698 import access as acc
from meterseal.protocols.dlt698 import apdu as ap
from meterseal.protocols.dlt698 import axdr as ax
from meterseal.protocols.dlt698 import axdr_time as at
from meterseal.protocols.dlt698 import events as ev
from meterseal.protocols.dlt698 import refs as rf
from meterseal.protocols.dlt698 import services as sv
from meterseal.protocols.dlt698 import values as va
from meterseal.protocols.dlt698.frame import (
    AddressType,
    Frame,
    Segment,
    SegmentType,
    ServerAddress,
)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


def _ints(cls: type, size: int, signed: bool) -> st.SearchStrategy:
    bits = 8 * size
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    return st.integers(lo, hi).map(cls)


oads = st.builds(rf.Oad, u16, u8, u8)
omds = st.builds(rf.Omd, u16, u8, u8)
roads = st.builds(rf.Road, oads, st.lists(oads, max_size=3).map(tuple))
csds = st.one_of(oads, roads)

date_time_s = st.builds(at.DateTimeS, u16, u8, u8, u8, u8, u8)
scalars = st.one_of(
    st.just(ax.NULL),
    st.booleans().map(ax.Bool),
    *(
        _ints(cls, cls.SIZE, cls.SIGNED)
        for cls in (ax.Integer, ax.Long, ax.DoubleLong, ax.Long64, ax.Unsigned,
                    ax.LongUnsigned, ax.DoubleLongUnsigned, ax.Long64Unsigned, ax.Enum)
    ),
    st.binary(min_size=8, max_size=8).map(ax.Float64),
    st.binary(max_size=40).map(ax.OctetString),
    st.binary(max_size=8).map(ax.Mac),
    st.binary(max_size=8).map(ax.Rn),
    st.binary(max_size=8).map(ax.Tsa),
    st.text(st.characters(max_codepoint=127), max_size=20).map(ax.VisibleString),
    st.text(max_size=10).map(ax.Utf8String),
    st.integers(0, 40).flatmap(
        lambda n: st.binary(min_size=(n + 7) // 8, max_size=(n + 7) // 8).map(
            lambda b, n=n: ax.BitString(n, _clear_spare(b, n))
        )
    ),
    date_time_s,
    st.builds(at.DateTime, u16, u8, u8, u8, u8, u8, u8, u16),
    st.builds(at.Date, u16, u8, u8, u8),
    st.builds(at.Time, u8, u8, u8),
    st.builds(at.Ti, u8, u16),
    st.builds(at.ScalerUnit, st.integers(-128, 127), u8),
    u16.map(rf.OiData),
    oads.map(rf.OadData),
    omds.map(rf.OmdData),
    roads.map(rf.RoadData),
    csds.map(rf.CsdData),
    st.lists(csds, max_size=3).map(lambda c: rf.RcsdData(tuple(c))),
)


def _clear_spare(raw: bytes, bits: int) -> bytes:
    spare = -bits % 8
    if not raw or not spare:
        return raw
    return raw[:-1] + bytes((raw[-1] & ~((1 << spare) - 1) & 0xFF,))


data = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: ax.Array(tuple(xs))),
        st.lists(inner, max_size=4).map(lambda xs: ax.Structure(tuple(xs))),
    ),
    max_leaves=12,
)

selector2 = st.builds(rf.Selector2, oads, scalars, scalars, scalars)
rsds = st.one_of(
    st.just(rf.SelectAll()),
    st.builds(rf.Selector1, oads, scalars),
    selector2,
    st.lists(selector2, max_size=3).map(lambda s: rf.Selector3(tuple(s))),
    st.builds(rf.Selector9, u8),
)
rsd_data = rsds.map(rf.RsdData)
data_with_selectors = st.one_of(data, rsd_data)

time_tags = st.one_of(st.none(), st.builds(ap.TimeTag, date_time_s, st.builds(at.Ti, u8, u16)))
dars = st.integers(1, 255)
results_normal = st.one_of(
    st.builds(ap.ResultNormal, oads, data),
    st.builds(lambda o, d: ap.ResultNormal(o, None, d), oads, dars),
)


@st.composite
def results_record(draw: st.DrawFn) -> ap.ResultRecord:
    oad = draw(oads)
    columns = tuple(draw(st.lists(csds, max_size=4)))
    if draw(st.booleans()):
        return ap.ResultRecord(oad, columns, None, draw(dars))
    n = draw(st.integers(0, 3)) if columns else 0
    rows = tuple(tuple(draw(scalars) for _ in columns) for _ in range(n))
    return ap.ResultRecord(oad, columns, rows)


follow_reports = st.one_of(
    st.none(),
    st.lists(results_normal, min_size=1, max_size=2).map(tuple),
    st.lists(results_record(), min_size=1, max_size=2).map(tuple),
)
get_records = st.builds(ap.GetRecord, oads, rsds, st.lists(csds, max_size=3).map(tuple))
associations = st.builds(
    sv.Association, u16, st.binary(min_size=8, max_size=8), st.binary(min_size=16, max_size=16),
    u16, u16, u8, u16, u32,
)
date_times = st.builds(at.DateTime, u16, u8, u8, u8, u8, u8, u8, u16)


@st.composite
def connect_requests(draw: st.DrawFn) -> sv.ConnectRequest:
    mechanism = draw(st.integers(0, 3))
    password = draw(st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1,
                            max_size=8)) if mechanism == 1 else ""
    secrets = tuple(draw(st.binary(max_size=8)) for _ in range(2)) if mechanism >= 2 else ()
    return sv.ConnectRequest(draw(u8), draw(associations), mechanism, password, secrets,
                             draw(time_tags))


apdus = st.one_of(
    st.builds(sv.LinkRequest, u8, u8, u16, date_times),
    st.builds(sv.LinkResponse, u8, u8, date_times, date_times, date_times),
    connect_requests(),
    st.builds(sv.ConnectResponse, u8, st.binary(min_size=32, max_size=32), associations, u8,
              follow_reports, time_tags),
    st.builds(sv.ReleaseRequest, u8, time_tags),
    st.builds(sv.ReleaseResponse, u8, u8, follow_reports, time_tags),
    st.builds(sv.ErrorResponse, u8, u8),
    st.builds(lambda p, o, t: acc.GetRequest(p, (o,), False, t), u8, oads, time_tags),
    st.builds(lambda p, o, t: acc.GetRequest(p, tuple(o), True, t), u8, st.lists(oads,
              max_size=4), time_tags),
    st.builds(lambda p, g, t: acc.GetRecordRequest(p, (g,), False, t), u8, get_records,
              time_tags),
    st.builds(lambda p, g, t: acc.GetRecordRequest(p, tuple(g), True, t), u8,
              st.lists(get_records, max_size=3), time_tags),
    st.builds(acc.GetNextRequest, u8, u16, time_tags),
    st.builds(lambda p, r, f, t: acc.GetResponse(p, (r,), False, f, t), u8, results_normal,
              follow_reports, time_tags),
    st.builds(lambda p, r, f, t: acc.GetResponse(p, tuple(r), True, f, t), u8,
              st.lists(results_normal, max_size=3), follow_reports, time_tags),
    st.builds(lambda p, r, f, t: acc.GetRecordResponse(p, (r,), False, f, t), u8,
              results_record(), follow_reports, time_tags),
    st.builds(acc.GetNextResponse, u8, st.booleans(), u16, u8),
    st.builds(acc.SetRequest, u8, oads, data, time_tags),
    st.builds(acc.SetResponse, u8, oads, u8, follow_reports),
    st.builds(lambda p, c, t: acc.ActionRequest(p, (c,), False, t), u8,
              st.tuples(omds, data), time_tags),
    st.builds(lambda p, c, t: acc.ActionRequest(p, tuple(c), True, t), u8,
              st.lists(st.tuples(omds, data), max_size=3), time_tags),
    st.builds(lambda p, r, f: acc.ActionResponse(p, (r,), False, f), u8,
              st.builds(acc.ActionResult, omds, u8, st.one_of(st.none(), data)), follow_reports),
    st.builds(lambda p, r: acc.ReportNotification(p, tuple(r)), u8,
              st.lists(results_record(), max_size=3)),
    st.builds(lambda p, o, t: acc.ReportResponse(p, tuple(o), t), u8, st.lists(oads, max_size=3),
              time_tags),
)

server_addresses = st.builds(
    ServerAddress, st.binary(min_size=1, max_size=16), st.sampled_from(list(AddressType)),
    st.integers(0, 3),
)
segments = st.one_of(
    st.builds(Segment, st.integers(0, 4095), st.just(SegmentType.ACK), st.just(b"")),
    st.builds(Segment, st.integers(0, 4095),
              st.sampled_from([SegmentType.FIRST, SegmentType.MIDDLE, SegmentType.LAST]),
              st.binary(min_size=1, max_size=50)),
)
frames = st.builds(Frame, u8, server_addresses, u8, st.binary(max_size=300))

# --- catalogue values ------------------------------------------------------------------------

times = st.integers(0, va.MS_LIMIT // 1000 - 1).map(lambda s: s * 1000)
report_status = st.builds(va.ReportStatus, st.integers(0, 15), oads)


@st.composite
def cover_rows(draw: st.DrawFn) -> ev.CoverOpenRow:
    closed = draw(st.booleans())
    return ev.CoverOpenRow(
        draw(u32), draw(times), draw(times) if closed else None, draw(report_status), draw(u32),
        draw(u32), draw(u32) if closed else None, draw(u32) if closed else None,
    )


qualities = st.sampled_from(["exact", "deferred", "bounded", "unsynced"])


@st.composite
def quality_cover_rows(draw: st.DrawFn) -> ev.QualityCoverRow:
    q = draw(qualities)
    closed = draw(st.booleans())
    lo, hi = sorted((draw(times), draw(times)))
    bounded = q == "bounded"
    return ev.QualityCoverRow(
        draw(u32), draw(st.booleans()), q, draw(qualities) if closed else None,
        lo if bounded else None, hi if bounded else None, draw(times),
        draw(times) if closed else None, draw(u32), draw(u32),
        draw(u32) if closed else None, draw(u32) if closed else None, draw(u8),
    )


@st.composite
def quality_power_down_rows(draw: st.DrawFn) -> ev.QualityPowerDownRow:
    ended = draw(st.booleans())
    return ev.QualityPowerDownRow(
        draw(u32), draw(st.booleans()), draw(qualities), draw(qualities) if ended else None,
        draw(times), draw(times) if ended else None,
    )


catalogue_values = st.one_of(
    report_status,
    st.builds(va.EnergyTotal, u32),
    st.builds(va.CurrentValue, u32, u32),
    st.builds(va.TimeStatus, st.one_of(st.none(), times), st.one_of(st.none(), times)),
    cover_rows(),
    st.builds(ev.PowerDownRow, u32, times, st.one_of(st.none(), times), report_status),
    st.builds(ev.EventClearRow, u32, times, st.lists(omds, max_size=3).map(tuple),
              report_status),
    quality_cover_rows(),
    quality_power_down_rows(),
    st.builds(ev.AllTimeTotals, u32, u32),
    st.builds(ev.ClockChangeRow, u32, st.one_of(st.none(), times), st.one_of(st.none(), times),
              report_status),
    st.builds(ev.QualityClockRow, u32, st.binary(min_size=4, max_size=4), st.booleans(),
              st.one_of(st.none(), times), st.one_of(st.none(), times), u32),
)
