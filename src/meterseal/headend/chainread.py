"""The head-end's record-chain check: read a meter's chained journal pages over DL/T 645 (our
vendor block, docs/dlt645.md) and verify them with the meter's key.

Owns the reading plan (the head, then each chained page, newest first) and how a verdict is
printed. The verification itself is protocols/chainproof.py's.

Must not know: the firmware, the simulator, sockets.
"""

from __future__ import annotations

from typing import Any

from meterseal.protocols.chainproof import ChainVerdict, verify_chain
from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.chainvalues import ChainHead, ChainPage
from meterseal.protocols.dlt645.client import Dlt645Client
from meterseal.protocols.dlt645.errors import CatalogError, MeterRefused


class ChainReadError(Exception):
    """The meter does not serve the record chain as this head-end expects (one line)."""


def read_chain(client: Dlt645Client, address: bytes) -> list[tuple[int, bytes, bytes]]:
    """Every chained page the meter holds: (page number, page bytes, seal bytes or b"")."""
    try:
        head = cat.decode_as(ChainHead, cat.MFR_CHAIN_HEAD.di(),
                             client.read(address, cat.MFR_CHAIN_HEAD.di()))
        pages = []
        for n in range(1, min(head.entries, cat.CHAIN_PAGES) + 1):
            di = cat.MFR_CHAIN_PAGE.di(n)
            entry = cat.decode_as(ChainPage, di, client.read(address, di))
            if entry.is_empty:
                break
            pages.append((entry.page, entry.data, entry.seal))
    except MeterRefused:
        raise ChainReadError("the meter does not serve a record chain (04 80 AC 00 refused): "
                             "not one of ours, or its records carry no MAC") from None
    except CatalogError as exc:
        raise ChainReadError(f"cannot read the meter's record chain: {exc}") from None
    return pages


def check_meter_chain(client: Dlt645Client, address: bytes, key: bytes,
                      expect_seq: int = 0) -> ChainVerdict:
    return verify_chain(read_chain(client, address), key, expect_seq)


def format_verdict(v: ChainVerdict) -> str:
    lines = [f"record chain: {len(v.verified) + len(v.late_sealed)} records verify with the "
             f"meter's key (chain head {v.head_seq}; {len(v.late_sealed)} of them written on "
             f"backup without their MAC and sealed at the restore)"]
    if v.unsealed:
        lines.append(f"  not yet verifiable ({len(v.unsealed)}, written on backup, awaiting "
                     f"their MAC): " + ", ".join(v.unsealed))
    if v.failures:
        lines.append(f"  FAILED ({len(v.failures)}):")
        lines += [f"    {f.line()}" for f in v.failures]
    else:
        lines.append("  no record fails")
    return "\n".join(lines)


def verdict_json(v: ChainVerdict) -> dict[str, Any]:
    return {
        "clean": v.clean, "head_seq": v.head_seq, "verified": v.verified,
        "sealed_at_restore": v.late_sealed, "awaiting_mac": v.unsealed,
        "failures": [{"page": f.page, "chain_seq": f.chain_seq, "record": f.record,
                      "problem": f.problem} for f in v.failures],
    }
