"""The head-end's record-chain check over DL/T 698.45: read our manufacturer object FFAC (the
head, then each chained page by its element index, newest first) and verify the pages with the
meter's key — the same pages, and the same verification, as over DL/T 645 (chainread.py).

Must not know: the firmware, the simulator, sockets.
"""

from __future__ import annotations

from meterseal.headend.chainread import ChainReadError
from meterseal.protocols.chainproof import ChainVerdict, verify_chain
from meterseal.protocols.dlt698.chainobjects import (
    ATTR_CHAIN_HEAD,
    ATTR_CHAIN_PAGES,
    OI_MFR_CHAIN,
    ChainHead698,
    ChainPage698,
)
from meterseal.protocols.dlt698.client import Dlt698Client
from meterseal.protocols.dlt698.errors import CodecError, InvalidField, MeterRefused
from meterseal.protocols.dlt698.refs import Oad

MOST_PAGES = 255  # an element index is one byte: a head claiming more cannot be read


def read_chain698(client: Dlt698Client) -> list[tuple[int, bytes, bytes]]:
    """Every chained page the meter holds: (page number, page bytes, seal bytes or b""). The
    client is associated with the meter."""
    try:
        head = ChainHead698.from_data(client.get(Oad(OI_MFR_CHAIN, ATTR_CHAIN_HEAD)))
        if head.entries > MOST_PAGES:
            raise ChainReadError(f"the meter's chain head claims {head.entries} pages")
        pages = []
        for n in range(1, head.entries + 1):
            entry = ChainPage698.from_data(client.get(Oad(OI_MFR_CHAIN, ATTR_CHAIN_PAGES, n)))
            pages.append((entry.page, entry.data, entry.seal))
    except MeterRefused:
        raise ChainReadError("the meter does not serve a record chain (FFAC refused): not one "
                             "of ours, or its records carry no MAC") from None
    except (CodecError, InvalidField) as exc:
        raise ChainReadError(f"cannot read the meter's record chain: {exc}") from None
    return pages


def check_meter_chain698(client: Dlt698Client, key: bytes, expect_seq: int = 0) -> ChainVerdict:
    return verify_chain(read_chain698(client), key, expect_seq)
