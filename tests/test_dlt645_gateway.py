"""Bus gateways: the router sends a frame to its meter and to no other, stays silent for unknown
addresses, colliding wildcards and damaged frames, lets a broadcast reach every meter; the TCP
gateway serves it one exchange at a time (with the bus's wire time when asked); the maker's face
and the asyncio client."""

from __future__ import annotations

import asyncio
import time

import pytest

from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.aclient import AsyncDlt645Client
from meterseal.protocols.dlt645.errors import LinkError, MeterNotAnswering, MeterRefused
from meterseal.protocols.dlt645.frame import (
    BROADCAST_ADDRESS,
    WILDCARD_ADDRESS,
    BadChecksum,
    Frame,
    FunctionCode,
    address_from_string,
    decode,
    read_request,
)
from meterseal.protocols.dlt645.gateway import Dlt645Gateway
from meterseal.protocols.dlt645.maker import (
    DI_MANUFACTURER,
    DI_MFR_LOG_TOTALS,
    OURS,
    LogTotals,
    MakerFace,
    ManufacturerNumber,
)
from meterseal.protocols.dlt645.router import BusRouter, BusTiming
from meterseal.protocols.dlt645.session import Dlt645Session, broadcast_time_data
from meterseal.protocols.dlt645.values import AllTimeTotals
from meterseal.sim.live import LiveMeter
from tests.fleet_helpers import rich_meter, stage_meter_image

A1, A2, A3 = "202603010001", "202603010002", "202603019003"


class Recorder:
    """A session that notes what reached it and answers a fixed frame."""

    def __init__(self, address: str) -> None:
        self.address = address_from_string(address)
        self.seen: list[Frame] = []

    def handle(self, frame: Frame) -> list[bytes]:
        self.seen.append(frame)
        return [b"answer-" + self.address]

    def handle_error(self, error: object) -> list[bytes]:
        self.seen.append(error)  # type: ignore[arg-type]
        return [b"never"]


def bus(*addresses: str) -> tuple[BusRouter, dict[str, Recorder]]:
    meters = {a: Recorder(a) for a in addresses}
    return BusRouter({m.address: m for m in meters.values()}), meters


def test_a_frame_reaches_its_meter_and_no_other() -> None:
    router, meters = bus(A1, A2, A3)
    out = router.handle(read_request(address_from_string(A2), cat.DI_DATE))
    assert out == [b"answer-" + address_from_string(A2)]
    assert [len(m.seen) for m in meters.values()] == [0, 1, 0]


def test_an_address_nobody_has_gets_no_answer() -> None:
    router, meters = bus(A1, A2)
    assert router.handle(read_request(address_from_string("123456789012"), cat.DI_DATE)) == []
    assert all(not m.seen for m in meters.values())


def test_read_address_to_the_wildcard_collides_on_a_bus_of_several() -> None:
    router, meters = bus(A1, A2)
    assert router.handle(Frame(WILDCARD_ADDRESS, FunctionCode.READ_ADDRESS)) == []
    assert all(not m.seen for m in meters.values())


def test_read_address_to_the_wildcard_is_answered_by_a_lone_meter() -> None:
    router, meters = bus(A1)
    assert router.handle(Frame(WILDCARD_ADDRESS, FunctionCode.READ_ADDRESS)) != []
    assert len(meters[A1].seen) == 1


def test_a_partial_wildcard_that_matches_one_meter_reaches_it() -> None:
    router, meters = bus(A1, A2, A3)
    # AA in the two highest digits' byte and the next: 2026 0301 9003 -> AAAA 0301 9003
    out = router.handle(read_request(address_from_string("AAAA03019003"), cat.DI_DATE))
    assert out and len(meters[A3].seen) == 1 and not meters[A1].seen


def test_replies_and_damaged_frames_are_never_answered() -> None:
    router, meters = bus(A1)
    reply = Frame(address_from_string(A1), 0x91, b"\x00\x00\x00\x00")
    assert router.handle(reply) == []
    assert router.handle_error(BadChecksum(b"\x68", "bad")) == []
    assert not meters[A1].seen


def test_a_broadcast_time_reaches_every_meter_and_none_answers() -> None:
    def copy(m: LiveMeter, clock_ms: int) -> LiveMeter:  # the cached meters stay untouched
        return LiveMeter.from_image(m.nvm_image(), address=m.address_digits, utc_offset_h=8.0,
                                    energy_units=m.energy(), clock_local_ms=clock_ms)

    now = rich_meter().clock()[0]
    m1, m2 = copy(rich_meter(), now), copy(stage_meter_image(2), now)
    router = BusRouter({m1.address: Dlt645Session(m1), m2.address: Dlt645Session(m2)})
    target = m1.clock()[0] + 120_000  # within the 5 min a broadcast may move a clock
    out = router.handle(Frame(BROADCAST_ADDRESS, FunctionCode.BROADCAST_TIME,
                              broadcast_time_data(target)))
    assert out == []
    for m in (m1, m2):
        assert abs(m.clock()[0] - target) < 5_000
        assert m.auth().total(1) == 1  # each recorded it in its broadcast-time log


def test_bus_timing_is_the_wire_time_of_8e1() -> None:
    assert BusTiming(2400).wire_s(1) == pytest.approx(11 / 2400)  # ≈ 4.6 ms a byte
    with pytest.raises(ValueError):
        BusTiming(0)


# --- the maker's face ---------------------------------------------------------------------------


def test_the_manufacturer_number_round_trips_low_byte_first() -> None:
    raw = ManufacturerNumber("ACME").to_bytes()
    assert len(raw) == 32 and raw[-4:] == b"EMCA"
    assert ManufacturerNumber.from_bytes(raw).name == "ACME"


def test_another_makers_meter_refuses_our_identifiers() -> None:
    meter = rich_meter()
    ours = MakerFace(Dlt645Session(meter), meter.address)
    foreign = MakerFace(Dlt645Session(meter), meter.address, "ACME")
    totals = read_request(meter.address, cat.DI_MFR_COVER_TOTALS)
    assert not decode(ours.handle(totals)[0]).is_abnormal
    assert decode(foreign.handle(totals)[0]).is_abnormal
    std = read_request(meter.address, cat.DI_COVER_COUNT)
    assert ours.handle(std) == foreign.handle(std)
    every = read_request(meter.address, DI_MFR_LOG_TOTALS)
    assert decode(foreign.handle(every)[0]).is_abnormal
    both = LogTotals.from_bytes(decode(ours.handle(every)[0]).data[4:])
    img = meter.image()
    assert (both.cover.total, both.power_down.total, both.clears.value) == (
        img.cover_total, img.power_down_total, img.clear_total)
    assert LogTotals.from_bytes(both.to_bytes()) == both
    maker = decode(foreign.handle(read_request(meter.address, DI_MANUFACTURER))[0])
    assert ManufacturerNumber.from_bytes(maker.data[4:]).name == "ACME"
    assert ManufacturerNumber.from_bytes(
        decode(ours.handle(read_request(meter.address, DI_MANUFACTURER))[0]).data[4:]
    ).name == OURS


# --- the TCP gateway and the asyncio client -----------------------------------------------------


def _two_meter_router() -> BusRouter:
    m1, m2 = rich_meter(), stage_meter_image(2)
    return BusRouter({m.address: MakerFace(Dlt645Session(m), m.address) for m in (m1, m2)})


def test_the_async_client_reads_through_a_gateway() -> None:
    async def go() -> None:
        gw = Dlt645Gateway(_two_meter_router())
        await gw.start()
        client = await AsyncDlt645Client.tcp("127.0.0.1", gw.port, timeout_s=1.0)
        try:
            m1, m2 = rich_meter(), stage_meter_image(2)
            t1 = AllTimeTotals.from_bytes(await client.read(m1.address, cat.DI_MFR_COVER_TOTALS))
            t2 = AllTimeTotals.from_bytes(await client.read(m2.address, cat.DI_MFR_COVER_TOTALS))
            assert (t1.total, t2.total) == (m1.image().cover_total, m2.image().cover_total)
            block = await client.read_all(m1.address, cat.DI_MFR_COVER_BLOCK)
            assert len(block) == cat.ExtendedCoverBlock.LENGTH
            with pytest.raises(MeterRefused):
                await client.read(m1.address, 0x0499_0000)
            with pytest.raises(MeterNotAnswering):
                await client.read(address_from_string("123456789012"), cat.DI_DATE)
            # after a timeout the link still works
            assert await client.read(m2.address, cat.DI_COVER_COUNT)
        finally:
            await client.close()
            await gw.close()

    asyncio.run(go())


def test_an_unreachable_endpoint_is_a_link_error() -> None:
    async def go() -> None:
        gw = Dlt645Gateway(_two_meter_router())
        await gw.start()
        port = gw.port
        await gw.close()
        with pytest.raises(LinkError, match="cannot connect"):
            await AsyncDlt645Client.tcp("127.0.0.1", port, connect_timeout_s=1.0)

    asyncio.run(go())


def test_a_timed_bus_serves_one_exchange_at_a_time() -> None:
    timing = BusTiming(9600)

    async def go() -> tuple[float, float]:
        gw = Dlt645Gateway(_two_meter_router(), timing=timing)
        await gw.start()
        clients = [await AsyncDlt645Client.tcp("127.0.0.1", gw.port, timeout_s=5.0)
                   for _ in range(2)]
        m1, m2 = rich_meter(), stage_meter_image(2)
        t0 = time.monotonic()
        await clients[0].read(m1.address, cat.DI_COVER_COUNT)
        one = time.monotonic() - t0
        t0 = time.monotonic()
        await asyncio.gather(*(c.read(m.address, cat.DI_COVER_COUNT)
                               for c, m in zip(clients, (m1, m2), strict=True)))
        two = time.monotonic() - t0
        for c in clients:
            await c.close()
        await gw.close()
        return one, two

    one, two = asyncio.run(go())
    wire = timing.wire_s(4 + 16) + timing.wire_s(4 + 12 + 7)  # request and answer, preambles
    assert one >= wire * 0.95
    assert two >= 2 * wire * 0.95  # the second waited for the bus
