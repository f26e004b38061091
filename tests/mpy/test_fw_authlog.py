"""The authority journal under MicroPython too: pages, the lockout rules, the broadcast rules."""

from meterseal.firmware import authlog
from meterseal.firmware.caltime import ms_from_civil


def test_pages_round_trip():
    rec = authlog.ClockChange(authlog.KIND_TIME_SET, 12, 0x78563412, 1000, 2000, 1, 3)
    page = authlog.encode_page(rec)
    assert authlog.decode_page(page) == rec
    assert authlog.decode_page(page[:-1] + bytes((page[-1] ^ 1,))) is None
    s = authlog.LockoutState(7, 2, 50, 9)
    assert authlog.decode_page(authlog.encode_page(s)) == s


def test_journal_writes_and_recovers():
    nvm = bytearray(b"\xff" * 32768)

    def read(addr, n):
        return bytes(nvm[addr : addr + n])

    j = authlog.AuthJournal(read)
    j.recover()
    for i in range(13):
        addr, data = j.clock_change(authlog.KIND_BROADCAST, 0, i * 1000, i * 1000 + 5, True)
        nvm[addr : addr + len(data)] = data
        j.committed(addr, data)
    addr, data = j.lockout(authlog.after_failure(authlog.LockoutState(), 3, 100))
    nvm[addr : addr + len(data)] = data
    j.committed(addr, data)
    k = authlog.AuthJournal(read)
    k.recover()
    assert k.index.total(authlog.KIND_BROADCAST) == 13
    assert [r.seq for r in k.index.changes(authlog.KIND_BROADCAST)][:2] == [13, 12]
    assert len(k.index.changes(authlog.KIND_BROADCAST)) == 10
    assert k.index.lockout().failures == 1
    assert k.index.moved_by_broadcast()


def test_broadcast_rules():
    noon = ms_from_civil(2026, 3, 3, 12, 0, 0)
    assert authlog.broadcast_verdict(noon, True, noon - 180000, None, 1, 0) == 0
    assert authlog.broadcast_verdict(noon, True, noon + 3 * 86400000, None, 1, 0) == \
        authlog.BC_TOO_FAR
    late = ms_from_civil(2026, 3, 3, 23, 58, 0)
    assert authlog.broadcast_verdict(late, True, late - 60000, None, 1, 0) == \
        authlog.BC_NEAR_MIDNIGHT
