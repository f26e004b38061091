"""The record chain under MicroPython: HMAC-SHA256 built on sha256 alone against RFC 4231's
vectors, and the journal's chain (late pages and their seals included) cut before, inside and
after every write, every chained page verifying after each cut."""

from fw_eeprom import new_eeprom, reduced_patterns
from fw_powercut import (
    check_chain,
    make_workload,
    new_journal,
    perform,
    run_exhaustive,
    use_chain,
    with_seals,
)

from meterseal.firmware.hmac256 import hmac_sha256


def test_hmac_sha256_rfc4231_vectors():
    # RFC 4231 test cases 1, 2 and 6 (a key longer than the block is hashed first).
    assert hmac_sha256(b"\x0b" * 20, b"Hi There") == bytes.fromhex(
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    assert hmac_sha256(b"Jefe", b"what do ya want for nothing?") == bytes.fromhex(
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    assert hmac_sha256(b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"
                       ) == bytes.fromhex(
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")


def test_chain_survives_every_cut():
    use_chain(True)
    try:
        ops = with_seals(make_workload(min_records=6, seed=4))
        stats, _model = run_exhaustive(ops, new_eeprom, reduced_patterns, full_continue=False,
                                       tail=1)
        assert stats.cuts >= len(ops) * 3
        ee = new_eeprom(None)
        j = new_journal(ee.read)
        j.recover()
        for op in ops:
            perform(j, ee, op)
        sealed, late = check_chain(ee.image())
        assert late == 0 and sealed > 10
    finally:
        use_chain(False)
