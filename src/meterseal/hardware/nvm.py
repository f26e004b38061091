"""The NVM chip: an emulated 24LC256-like EEPROM whose page writes can be torn by a power cut.

Owns the chip's bytes, its page-write rule (one write never crosses a 64-byte page), what a write
interrupted by a power cut leaves behind, a per-page write counter (endurance), and the count of
writes begun that power-loss tests steer by. It does not know what the bytes mean (the firmware's
journal does), nor write timing or energy (the board profile's `nvm.*` keys; the kernel charges
them). CPython only.

A write has two steps so a cut can land inside it: begin_write() latches the data (the chip's
page buffer), then finish_write() programs it, tear_write() programs an undefined mix (power died
mid-cycle), or abort_write() drops it (power died before the cycle started).

Power-loss testing, as littlefs' emulated block device does it: a chip made with
``power_loss_at=N`` says, through ``loses_power()`` right after the N-th begin_write, that power
is to die inside that write. The chip only counts and answers; its owner (the kernel, a test
harness) decides the instant and tears the write, so every harness cuts by the same counter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

ERASED = 0xFF


@dataclass(frozen=True, slots=True)
class Tear:
    """What a torn write leaves in the bytes it was writing (other bytes keep their content).

    kind:
      "prefix": the first k bytes are new, the rest keep their old content (an interrupted
                byte-serial program);
      "fill":   every written byte becomes `value` (0xFF: erased and not yet programmed;
                0x00: programming ran wild);
      "random": every written byte is random (seeded by `seed`);
      "mixed":  every written byte is independently old, new or random (seeded by `seed`).
    """

    kind: str
    k: int = 0
    value: int = ERASED
    seed: int = 0

    def apply(self, old: bytes, new: bytes) -> bytes:
        n = len(new)
        if self.kind == "prefix":
            if not 0 <= self.k <= n:
                raise ValueError(f"tear prefix k={self.k} outside 0..{n}")
            return bytes(new[: self.k]) + bytes(old[self.k :])
        if self.kind == "fill":
            return bytes([self.value & 0xFF]) * n
        rng = random.Random(self.seed)
        if self.kind == "random":
            return bytes(rng.getrandbits(8) for _ in range(n))
        if self.kind == "mixed":
            out = bytearray(n)
            for i in range(n):
                pick = rng.randrange(3)
                out[i] = old[i] if pick == 0 else new[i] if pick == 1 else rng.getrandbits(8)
            return bytes(out)
        raise ValueError(f"unknown tear kind {self.kind!r}")


def tear_patterns(n: int, randoms: int = 3, seed: int = 0) -> list[Tear]:
    """Every tear a test should try on an n-byte write: prefix k for every k in 0..n, all-0xFF,
    all-0x00, and `randoms` each of random and mixed (seeds seed, seed+1, ...)."""
    out = [Tear("prefix", k=k) for k in range(n + 1)]
    out.append(Tear("fill", value=0xFF))
    out.append(Tear("fill", value=0x00))
    for i in range(randoms):
        out.append(Tear("random", seed=seed + i))
        out.append(Tear("mixed", seed=seed + i))
    return out


class Eeprom:
    """A byte-addressed EEPROM of `size` bytes in pages of `page_size`, erased to 0xFF."""

    def __init__(
        self,
        size: int = 32768,
        page_size: int = 64,
        image: bytes | None = None,
        power_loss_at: int | None = None,
    ):
        if size <= 0 or page_size <= 0 or size % page_size:
            raise ValueError("size must be a positive multiple of page_size")
        if power_loss_at is not None and power_loss_at < 1:
            raise ValueError("power_loss_at counts writes from 1")
        self.size = size
        self.page_size = page_size
        self._data = bytearray([ERASED]) * size
        if image is not None:
            self.load(image)
        self._writes = [0] * (size // page_size)
        self._pending: tuple[int, bytes] | None = None
        self.writes_begun = 0
        self.power_loss_at = power_loss_at

    # --- reading -------------------------------------------------------------------------

    def read(self, addr: int, n: int) -> bytes:
        if n < 0 or addr < 0 or addr + n > self.size:
            raise ValueError(f"read of {n} bytes at {addr} outside 0..{self.size}")
        return bytes(self._data[addr : addr + n])

    def image(self) -> bytes:
        """The whole content, as a reader of the chip would dump it."""
        return bytes(self._data)

    def load(self, image: bytes) -> None:
        """Replace the whole content (a dump of another chip)."""
        if len(image) != self.size:
            raise ValueError(f"image of {len(image)} bytes for a {self.size}-byte chip")
        self._data[:] = image

    # --- writing -------------------------------------------------------------------------

    @property
    def write_in_progress(self) -> bool:
        return self._pending is not None

    def pending_write(self) -> tuple[int, bytes]:
        """(addr, data) of the write in progress."""
        if self._pending is None:
            raise RuntimeError("no page write in progress")
        return self._pending

    def begin_write(self, addr: int, data: bytes) -> None:
        """Latch a page write; nothing changes in the array until finish/tear."""
        if self._pending is not None:
            raise RuntimeError("a page write is already in progress")
        n = len(data)
        if n == 0:
            raise ValueError("empty write")
        if addr < 0 or addr + n > self.size:
            raise ValueError(f"write of {n} bytes at {addr} outside 0..{self.size}")
        if addr // self.page_size != (addr + n - 1) // self.page_size:
            raise ValueError(
                f"write of {n} bytes at {addr} crosses a {self.page_size}-byte page boundary"
            )
        self._pending = (addr, bytes(data))
        self.writes_begun += 1

    def loses_power(self) -> bool:
        """Is the write just begun the one power is lost inside? (The owner then tears it.)"""
        return self._pending is not None and self.writes_begun == self.power_loss_at

    def finish_write(self) -> None:
        """The write cycle completed: the new bytes are in."""
        addr, data = self._take()
        self._program(addr, data)

    def tear_write(self, rng_or_pattern: Tear | random.Random | int | None = None) -> bytes:
        """Power died inside the write cycle: the bytes being written become undefined.

        Takes a Tear (deterministic, for exhaustive tests), a random.Random or an int seed (each
        byte independently old, new or random), or None (seed 0). Returns the bytes left.
        """
        addr, data = self._take()
        if isinstance(rng_or_pattern, Tear):
            tear = rng_or_pattern
        elif isinstance(rng_or_pattern, random.Random):
            tear = Tear("mixed", seed=rng_or_pattern.getrandbits(32))
        else:
            tear = Tear("mixed", seed=rng_or_pattern or 0)
        old = bytes(self._data[addr : addr + len(data)])
        left = tear.apply(old, data)
        self._program(addr, left)
        return left

    def abort_write(self) -> None:
        """Power died before the write cycle started: the array is untouched."""
        self._take()

    def write(self, addr: int, data: bytes) -> None:
        """A whole write that completes (begin + finish)."""
        self.begin_write(addr, data)
        self.finish_write()

    def _take(self) -> tuple[int, bytes]:
        if self._pending is None:
            raise RuntimeError("no page write in progress")
        pending, self._pending = self._pending, None
        return pending

    def _program(self, addr: int, data: bytes) -> None:
        self._data[addr : addr + len(data)] = data
        self._writes[addr // self.page_size] += 1

    # --- endurance -----------------------------------------------------------------------

    def write_count(self, page: int) -> int:
        """Write cycles page `page` has seen (a torn write counts: the cell was stressed)."""
        return self._writes[page]

    @property
    def write_counts(self) -> list[int]:
        return list(self._writes)

    @property
    def max_write_count(self) -> int:
        return max(self._writes)
