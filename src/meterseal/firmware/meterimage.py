"""The records an NVM image holds, as every reader downstream sees them: one value object.

Owns what a reader is given (the all-time totals, the latest records of each log, the saved
state, the chained pages) and the standard view over it: a log's count and records since the
newest event clear's baseline. It does not know pages, addresses or how they are decoded
(image.py builds it from the Index); it holds no bytes but the chained pages a reader verifies.
"""


class MeterImage:
    """The records an NVM image holds, as every reader downstream must see them.

    cover_total / power_down_total are all-time (they never go back, whatever was cleared);
    cover / power_down the latest 10 of all time, newest first. clears holds the latest 10 event
    clears, newest first; cover_base / power_down_base are the all-time totals at the last clear
    of each log: the standard view (standard_cover(), cover_count(), ...) shows only what came
    after them. freeze_total is all-time; freezes the latest 62 daily freezes, newest first.
    terminal_cover_total / terminal_cover / terminal_reports are the terminal cover's log, kept
    as the cover's (terminal_cover_base: its clear baseline).
    """

    __slots__ = (
        "chain",
        "clear_total",
        "clears",
        "cover",
        "cover_base",
        "cover_total",
        "freeze_total",
        "freezes",
        "power_down",
        "power_down_base",
        "power_down_total",
        "reports",
        "state",
        "terminal_cover",
        "terminal_cover_base",
        "terminal_cover_total",
        "terminal_reports",
    )

    def __init__(
        self,
        cover_total,
        cover,
        power_down_total,
        power_down,
        state,
        clear_total=0,
        clears=None,
        cover_base=0,
        power_down_base=0,
        reports=None,
        freeze_total=0,
        freezes=None,
        terminal_cover_total=0,
        terminal_cover=None,
        terminal_cover_base=0,
        terminal_reports=None,
        chain=None,
    ):
        self.cover_total = cover_total
        self.cover = cover
        self.power_down_total = power_down_total
        self.power_down = power_down
        self.state = state
        self.clear_total = clear_total
        self.clears = [] if clears is None else clears
        self.cover_base = cover_base
        self.power_down_base = power_down_base
        # {seq: ReportStatus} of the latest cover-open records whose report is recorded.
        self.reports = {} if reports is None else reports
        self.freeze_total = freeze_total
        self.freezes = [] if freezes is None else freezes
        self.terminal_cover_total = terminal_cover_total
        self.terminal_cover = [] if terminal_cover is None else terminal_cover
        self.terminal_cover_base = terminal_cover_base
        self.terminal_reports = {} if terminal_reports is None else terminal_reports
        # The chained pages as the NVM holds them, newest chain_seq first: (page number, page
        # bytes, seal page bytes or b""), what a reader with the key verifies (chain.py).
        self.chain = [] if chain is None else chain

    def cover_count(self):
        """The cover-open count the standard DI answers: openings since the last clear."""
        return self.cover_total - self.cover_base

    def terminal_cover_count(self):
        """The terminal-cover-open count the standard DI answers: openings since its clear."""
        return self.terminal_cover_total - self.terminal_cover_base

    def standard_terminal_cover(self):
        return [r for r in self.terminal_cover if r.seq > self.terminal_cover_base]

    def power_down_count(self):
        return self.power_down_total - self.power_down_base

    def standard_cover(self):
        """The cover-open records the standard DIs show (after the last clear), newest first."""
        return [r for r in self.cover if r.seq > self.cover_base]

    def standard_power_down(self):
        return [r for r in self.power_down if r.seq > self.power_down_base]

    def __repr__(self):
        return (
            f"MeterImage(cover_total={self.cover_total}, cover={self.cover!r}, "
            f"power_down_total={self.power_down_total}, power_down={self.power_down!r}, "
            f"state={self.state!r}, clear_total={self.clear_total}, clears={self.clears!r}, "
            f"cover_base={self.cover_base}, power_down_base={self.power_down_base})"
        )
