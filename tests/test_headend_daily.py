"""Daily energy into the store: every freeze a meter holds becomes a `daily_energy` row (the day
it closes, both energies, the freeze time with its offset), read through our extended freezes
or the standard identifiers alike; a second collection reads only the freezes taken since; a
freeze that comes while a meter is read, and garbage, cost nothing that was stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from meterseal.headend.store import Store
from meterseal.protocols.dlt645.frame import Frame, FrameError, decode, encode, normal_reply
from meterseal.protocols.dlt645.maker import OURS
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import LoadStep, Outage, Scenario
from tests.headend_helpers import Counting, bus_of, collect, face

H = 3_600_000_000
START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
OURS_ADDR, ACME_ADDR = "202603010011", "202603010012"


def meter(days: int, address: str) -> LiveMeter:
    """A meter after ``days`` days (one outage across two midnights): the shorter run is the
    longer one's beginning."""
    sc = Scenario(name=f"{days} days", start=START, duration_us=days * 24 * H, seed=3,
                  outages=(Outage(27 * H, 54 * H),),
                  loads=(LoadStep(0, 1500.0, 0.0), LoadStep(30 * H, 800.0, 300.0)),
                  overrides=(("meter.address", address),))
    return LiveMeter.from_scenario(sc)


def expected(m: LiveMeter) -> list[tuple[str, float, float, str]]:
    """The rows a store must hold for the freezes in ``m``'s image, newest last."""
    tz = timezone(timedelta(hours=8))
    out = []
    for f in reversed(m.image().freezes):
        at = datetime(2000, 1, 1, tzinfo=tz) + timedelta(milliseconds=f.time_ms)
        out.append(((at - timedelta(days=1)).date().isoformat(), f.import_units / 100,
                    f.export_units / 100, at.astimezone(UTC).isoformat()))
    return out


def stored(url: str, address: str) -> list[tuple[str, float, float, str]]:
    store = Store.open(url)
    try:
        rows = store.db.query("SELECT day, import_kwh, export_kwh, frozen_at FROM daily_energy"
                              " WHERE meter_address = ? ORDER BY day", (address,))
    finally:
        store.close()
    return [(str(d)[:10], float(i), float(e),
             (at if isinstance(at, datetime) else datetime.fromisoformat(at))
             .astimezone(UTC).isoformat()) for d, i, e, at in rows]


def test_every_freeze_is_a_daily_row_read_ours_or_the_standard_way(store_url: str) -> None:
    ours, acme = meter(6, OURS_ADDR), meter(6, ACME_ADDR)
    collect(store_url, {"gw": bus_of({OURS_ADDR: face(ours), ACME_ADDR: face(acme, "ACME")})})
    assert len(ours.image().freezes) == 6
    assert stored(store_url, OURS_ADDR) == expected(ours)
    assert stored(store_url, ACME_ADDR) == expected(acme) == expected(ours)


def test_a_second_collection_reads_only_the_new_freezes(store_url: str) -> None:
    early, late = meter(4, OURS_ADDR), meter(7, OURS_ADDR)
    early_acme, late_acme = meter(4, ACME_ADDR), meter(7, ACME_ADDR)
    collect(store_url, {"gw": bus_of({OURS_ADDR: face(early),
                                      ACME_ADDR: face(early_acme, "ACME")})})
    assert stored(store_url, OURS_ADDR) == expected(early) and len(expected(early)) == 4
    counted = {OURS_ADDR: Counting(face(late)), ACME_ADDR: Counting(face(late_acme, "ACME"))}
    collect(store_url, {"gw": bus_of(counted)})  # type: ignore[arg-type]
    assert stored(store_url, OURS_ADDR) == expected(late) and len(expected(late)) == 7
    # the three new ones: ours one by one (04 80 06 01..03, the third the oldest new one),
    # another maker's time and energies of each (05 06 00/01/02 nn) and the newest time again
    assert counted[OURS_ADDR].requests == 1 + 3
    assert counted[ACME_ADDR].requests == 6 + 3 * 3 - 1 + 1
    assert stored(store_url, ACME_ADDR) == expected(late_acme)
    again = {OURS_ADDR: Counting(face(late)), ACME_ADDR: Counting(face(late_acme, "ACME"))}
    collect(store_url, {"gw": bus_of(again)})  # type: ignore[arg-type]
    assert stored(store_url, OURS_ADDR) == expected(late)
    # Nothing new: ours answers its totals (the newest freeze among them); another maker's meter
    # is asked its newest freeze time once, beside its counts (the clears, the cover, the
    # terminal cover and the power downs).
    assert again[OURS_ADDR].requests == 1
    assert again[ACME_ADDR].requests == 6


class MidnightDuringTheRead:
    """Another maker's meter whose newest freeze changes after the first question about it:
    a midnight passing while the head-end reads it."""

    def __init__(self, before: LiveMeter, after: LiveMeter) -> None:
        self.before, self.after = face(before, "ACME"), face(after, "ACME")
        self.freeze_reads = 0

    def handle(self, frame: Frame) -> list[bytes]:
        if frame.data[:4][::-1].hex().startswith("0506"):
            self.freeze_reads += 1
        return (self.before if self.freeze_reads <= 1 else self.after).handle(frame)

    def handle_error(self, error: FrameError) -> list[bytes]:
        return []


def test_a_freeze_taken_while_a_meter_is_read_is_taken_next_time(store_url: str) -> None:
    switching = MidnightDuringTheRead(meter(3, ACME_ADDR), meter(4, ACME_ADDR))
    collect(store_url, {"gw": bus_of({ACME_ADDR: switching})})  # type: ignore[dict-item]
    assert stored(store_url, ACME_ADDR) == []  # the numbering moved: nothing half-read is kept
    collect(store_url, {"gw": bus_of({ACME_ADDR: face(meter(4, ACME_ADDR), "ACME")})})
    assert stored(store_url, ACME_ADDR) == expected(meter(4, ACME_ADDR))


class GarbledFreeze:
    """Our meter, whose extended freezes answer with a time-quality code nobody defined."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def handle(self, frame: Frame) -> list[bytes]:
        out = self.inner.handle(frame)  # type: ignore[attr-defined]
        di = frame.data[:4][::-1].hex().upper()
        if di.startswith("048006") and out:
            reply = decode(out[0])
            data = bytearray(reply.data)
            for i in range(8, len(data), 18):  # each freeze's quality byte
                data[i] = 0x07
            return [encode(normal_reply(frame, reply.address, bytes(data)), 4)]
        return out

    def handle_error(self, error: FrameError) -> list[bytes]:
        return []


def _problems(url: str) -> list[str]:
    store = Store.open(url)
    try:
        return [p for (p,) in store.db.query("SELECT problem FROM collection_problem")]
    finally:
        store.close()


def test_garbage_freezes_are_a_problem_row_and_store_nothing(store_url: str) -> None:
    collect(store_url, {"gw": bus_of({OURS_ADDR: face(meter(4, OURS_ADDR))})})
    before = stored(store_url, OURS_ADDR)
    bad = GarbledFreeze(face(meter(6, OURS_ADDR), OURS))  # two new: read one by one
    summary = collect(store_url, {"gw": bus_of({OURS_ADDR: bad})})  # type: ignore[dict-item]
    assert summary.meters_failed == 1 and stored(store_url, OURS_ADDR) == before
    assert any("04800601 (mfr_daily_freeze)" in p and "0x07 is not a time-quality code" in p
               for p in _problems(store_url)), _problems(store_url)


def test_a_truncated_block_is_a_problem_row(store_url: str) -> None:
    bad = GarbledFreeze(face(meter(6, OURS_ADDR), OURS))  # a first collection: the block
    summary = collect(store_url, {"gw": bus_of({OURS_ADDR: bad})})  # type: ignore[dict-item]
    assert summary.meters_failed == 1 and stored(store_url, OURS_ADDR) == []
    assert any("048006FF (mfr_daily_freeze_block)" in p for p in _problems(store_url))
