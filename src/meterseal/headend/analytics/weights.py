"""The suspicion score's weights: a logistic model over the evidence features (score.py).

Owns the numbers only. ``DEFAULT`` is what `meterseal suspects` and the dashboard use: fitted by
``benchmarks/suspects_eval.py`` on fleets with known thieves (the seeds named in ``fitted_on``),
pulled towards ``JUDGEMENT``, and reported in the README on other seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final


@dataclass(frozen=True, slots=True)
class Weights:
    bias: float
    weights: dict[str, float] = field(default_factory=dict)
    fitted_on: str = ""

    def get(self, name: str) -> float:
        return self.weights.get(name, 0.0)


# Set by judgement before any fleet with thieves existed, and kept as the prior the fit is pulled
# towards: an unexplained opening during an outage with an exact time is the strongest single
# piece of evidence (nobody is sent to open a meter in the dark); bounded is weaker (the interval
# may hide a legitimate moment); a drop in consumption against the peers confirms; a second
# unexplained opening adds little to the first; the terminal cover opened with no work order is
# where a bypass is wired, stronger than the meter cover opened on mains. No number here was
# tuned on a fleet: the fleets speak through the fit alone, so the seeds it is reported on stay
# unseen.
JUDGEMENT: Final = Weights(
    bias=-6.0,
    weights={
        "outage_open_exact": 3.5, "outage_open_bounded": 2.0, "mains_open_no_order": 1.5,
        "unknown_open_no_order": 1.2, "unsynced_open": 1.2, "open_with_order": -0.5,
        "open_in_local_cut": 1.5, "local_cuts": 1.5, "clears_near_open": 1.0,
        "clock_changes_near_open": 1.0, "terminal_open_no_order": 2.0,
        "repeat_unexplained": 0.5, "drop_open_7d": 1.5,
        "drop_open_30d": 3.0, "drop_cut_30d": 2.0, "drop_outage_30d": 3.0,
    },
    fitted_on="judgement (no fleet)",
)

# Fitted by benchmarks/suspects_eval.py (the README's command) on the fleets of the seeds below,
# 5,000 meters and 90 days each; the README reports them on other seeds. The fleets have no
# terminal covers, so the fit cannot weigh terminal_open_no_order (it stays at its prior): it is
# set by hand to the fitted weight of the nearest evidence the fleets do show, an unexplained
# meter-cover opening on mains, which the judgement holds weaker than it. Keep it so when the
# fit is redone.
DEFAULT: Final = Weights(
    bias=-5.5129,
    weights={
        "outage_open_exact": 5.868, "outage_open_bounded": 2, "mains_open_no_order": 4.639,
        "unknown_open_no_order": 1.2, "unsynced_open": 1.899, "open_with_order": -0.1026,
        "open_in_local_cut": 1.597, "local_cuts": 0.4907, "clears_near_open": 1,
        "clock_changes_near_open": 1, "terminal_open_no_order": 4.639,
        "repeat_unexplained": 0.8221, "drop_open_7d": 1.731,
        "drop_open_30d": 3.232, "drop_cut_30d": 2.178, "drop_outage_30d": 3.17,
    },
    fitted_on="fleet seed 11, thief shares 0.03 and 0.06, L2 10 towards JUDGEMENT",
)
