"""FFAC, the record chain over DL/T 698.45: its values round-trip and refuse what they cannot
hold; the meter answers the same pages as its DL/T 645 face, one page per element index, and
refuses what it has not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterseal.firmware.chain import served_head
from meterseal.protocols.dlt698 import axdr as ax
from meterseal.protocols.dlt698.chainobjects import (
    ATTR_CHAIN_HEAD,
    ATTR_CHAIN_PAGES,
    OI_MFR_CHAIN,
    ChainHead698,
    ChainPage698,
)
from meterseal.protocols.dlt698.errors import CodecError, InvalidField, MeterRefused
from meterseal.protocols.dlt698.frame import ServerAddress
from meterseal.protocols.dlt698.refs import Oad
from meterseal.protocols.dlt698.session import Dlt698Session
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import load_scenario
from tests.dlt645_helpers import SCENARIO, FakeClock
from tests.dlt698_helpers import memory_client


@given(st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1), st.binary(min_size=8, max_size=8),
       st.integers(0, 0xFFFF))
def test_the_head_round_trips(entries: int, seq: int, mac: bytes, unsealed: int) -> None:
    head = ChainHead698(entries, seq, mac, unsealed)
    assert ChainHead698.from_bytes(head.to_bytes()) == head
    assert ChainHead698.from_data(head.to_data()) == head


@given(st.integers(0, 0xFFFF), st.binary(max_size=64), st.binary(max_size=64))
def test_a_page_round_trips(page: int, data: bytes, seal: bytes) -> None:
    entry = ChainPage698(page, data, seal)
    assert ChainPage698.from_bytes(entry.to_bytes()) == entry


@pytest.mark.parametrize(("make", "words"), [
    (lambda: ChainHead698(mac=bytes(7)), "a MAC is 8 bytes"),
    (lambda: ChainHead698(entries=1 << 16), "entries must fit 16 bits"),
    (lambda: ChainPage698(1, bytes(65)), "page bytes: at most 64"),
    (lambda: ChainPage698(-1, b""), "page must fit 16 bits"),
])
def test_values_refuse_what_they_cannot_hold(make, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidField, match=words):
        make()


def test_decoding_refuses_a_wrong_shape() -> None:
    three = ax.Structure((ax.LongUnsigned(1), ax.DoubleLongUnsigned(2), ax.OctetString(bytes(8))))
    with pytest.raises(CodecError, match="4 elements expected"):
        ChainHead698.from_data(three)
    wrong_mac = ax.Structure((ax.LongUnsigned(1), ax.DoubleLongUnsigned(2),
                              ax.OctetString(bytes(9)), ax.LongUnsigned(0)))
    with pytest.raises(InvalidField, match="a MAC is 8 bytes"):
        ChainHead698.from_data(wrong_mac)
    with pytest.raises(CodecError):
        ChainPage698.from_bytes(ax.Structure((ax.LongUnsigned(1),)).to_bytes())


def test_the_meter_serves_its_chain_page_by_page() -> None:
    meter = LiveMeter.from_scenario(load_scenario(SCENARIO), clock=FakeClock())
    client = memory_client(Dlt698Session(meter), server=ServerAddress(meter.address))
    client.connect()
    chain = meter.image().chain
    head = ChainHead698.from_data(client.get(Oad(OI_MFR_CHAIN, ATTR_CHAIN_HEAD)))
    entries, seq, mac, unsealed = served_head(chain)
    assert (head.entries, head.chain_seq, head.mac, head.unsealed) == (entries, seq, mac,
                                                                       unsealed)
    assert head.entries == len(chain) >= 40 and head.chain_seq >= head.entries
    for n in (1, 2, head.entries):
        got = ChainPage698.from_data(client.get(Oad(OI_MFR_CHAIN, ATTR_CHAIN_PAGES, n)))
        page, data, seal = chain[n - 1]
        assert (got.page, got.data, got.seal) == (page, bytes(data), bytes(seal))
    with pytest.raises(MeterRefused, match="out of range"):
        client.get(Oad(OI_MFR_CHAIN, ATTR_CHAIN_PAGES, head.entries + 1))
    with pytest.raises(MeterRefused, match="undefined"):
        client.get(Oad(OI_MFR_CHAIN, 4))
