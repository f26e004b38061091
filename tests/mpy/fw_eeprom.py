"""A minimal pure-Python EEPROM with tearable page writes, for the MicroPython test run
(hardware.nvm is CPython-only). Same method names as hardware.nvm.Eeprom.

Tear patterns: ("prefix", k), ("fill", byte), ("random", seed).
"""

SIZE = 32768
PAGE = 64


class StubEeprom:
    def __init__(self, image=None):
        self.data = bytearray(image) if image is not None else bytearray(b"\xff" * SIZE)
        self.pending = None

    def read(self, addr, n):
        return bytes(self.data[addr : addr + n])

    def image(self):
        return bytes(self.data)

    def begin_write(self, addr, data):
        assert self.pending is None
        assert addr // PAGE == (addr + len(data) - 1) // PAGE, "write crosses a page"
        self.pending = (addr, bytes(data))

    def finish_write(self):
        addr, data = self.pending
        self.pending = None
        self.data[addr : addr + len(data)] = data

    def abort_write(self):
        self.pending = None

    def tear_write(self, pattern):
        addr, data = self.pending
        self.pending = None
        kind, arg = pattern
        n = len(data)
        if kind == "prefix":
            self.data[addr : addr + arg] = data[:arg]
        elif kind == "fill":
            self.data[addr : addr + n] = bytes([arg]) * n
        else:
            s = arg & 0x7FFFFFFF
            out = bytearray(n)
            for i in range(n):
                s = (s * 1103515245 + 12345) & 0x7FFFFFFF
                out[i] = (s >> 16) & 0xFF
            self.data[addr : addr + n] = out


def new_eeprom(image):
    return StubEeprom(image)


def reduced_patterns(n):
    """A reduced tear set: prefixes at the edges and middle, both fills, one random."""
    ks = []
    for k in (0, 1, 4, n // 2, n - 4, n - 1, n):
        if 0 <= k <= n and k not in ks:
            ks.append(k)
    out = [("prefix", k) for k in ks]
    out.append(("fill", 0xFF))
    out.append(("fill", 0x00))
    out.append(("random", n * 7919))
    return out


def random_pattern(seed, n):
    pick = seed % 4
    if pick == 0:
        return ("prefix", seed % (n + 1))
    if pick == 1:
        return ("fill", 0xFF if seed & 8 else 0x00)
    return ("random", seed)
