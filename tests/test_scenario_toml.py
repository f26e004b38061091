"""to_toml: every scenario file it writes reads back to an equal Scenario (and replays the same)."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterseal.sim.scenario import (
    DEFAULT_LOAD,
    KeyWindow,
    LoadStep,
    Scenario,
    load_scenario,
    parse_duration,
    parse_scenario,
)
from meterseal.sim.scenario_toml import format_duration, to_toml
from meterseal.verify.matrix import START, cases
from meterseal.verify.result import result_dict, simulate
from tests.strategies import timelines

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


def _read_back(text: str) -> Scenario:
    return parse_scenario(tomllib.loads(text))


def _names() -> st.SearchStrategy[str]:
    # Every character TOML can carry, quotes, backslashes and control characters included.
    return st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Timelines from tests/strategies, dressed with the rest of what a file can say."""
    sc = draw(timelines())
    overrides = dict(sc.overrides)
    if draw(st.booleans()):
        overrides["supercap.tolerance"] = draw(st.floats(-0.2, 0.8))
        overrides["supercap.ageing"] = draw(st.floats(0.0, 0.3))
    if draw(st.booleans()):
        overrides["cover.bias"] = draw(st.sampled_from(["static", "pulsed"]))
    if draw(st.booleans()):
        overrides["nvm.page_size"] = draw(st.sampled_from([64, 128, 256, 512]))
    if draw(st.booleans()):
        overrides["supercap.capacitance_f"] = draw(st.integers(1, 3))  # an int for a float key
    loads: tuple[LoadStep, ...] = (DEFAULT_LOAD,)
    if draw(st.booleans()):
        ats = sorted(set(draw(st.lists(st.integers(0, sc.duration_us), min_size=1, max_size=4))))
        watts = st.floats(0.0, 1e5, allow_nan=False, allow_infinity=False)
        loads = tuple(LoadStep(a, draw(watts), draw(watts)) for a in ats)
    keys = []
    t = 0
    for _ in range(draw(st.integers(0, 3))):
        t += draw(st.integers(0, sc.duration_us))
        length = draw(st.integers(1, 30 * 86_400_000_000))
        keys.append(KeyWindow(t, length))
        t += length
    offset_min = draw(st.integers(-12 * 60, 14 * 60))
    start = START.astimezone(timezone(timedelta(minutes=offset_min)))
    start += timedelta(microseconds=draw(st.integers(0, 10**6 - 1)))
    return Scenario(
        name=draw(_names()),
        start=start,
        duration_us=sc.duration_us,
        seed=draw(st.integers(-(2**63), 2**63 - 1)),
        overrides=tuple(sorted(overrides.items())),
        outages=sc.outages,
        cover=sc.cover,
        faults=sc.faults,
        loads=loads,
        programming_key=tuple(keys),
    )


@settings(max_examples=300, **_COMMON)
@given(scenarios())
def test_to_toml_reads_back_to_an_equal_scenario(sc: Scenario) -> None:
    back = _read_back(to_toml(sc))
    assert back == sc
    assert back.profile == sc.profile


@settings(max_examples=200, **_COMMON)
@given(timelines())
def test_to_toml_round_trip_on_the_property_timelines(sc: Scenario) -> None:
    assert _read_back(to_toml(sc, header="found by a test\nsecond line")) == sc


@given(st.integers(0, 10 * 86_400_000_000))
def test_format_duration_is_exact(us: int) -> None:
    assert parse_duration(format_duration(us), "test") == us


def test_format_duration_reads_like_a_person_wrote_it() -> None:
    assert format_duration(0) == "0s"
    assert format_duration(90 * 60_000_000) == "1h 30min"
    assert format_duration(86_400_000_000 + 12_300) == "1d 0.0123s"
    assert format_duration(4 * 3_600_000_000 + 12_345) == "4h 0.012345s"


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.key)
def test_matrix_scenarios_round_trip_through_a_file(case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sc.toml"
    path.write_text(to_toml(case.scenario), encoding="utf-8")
    back = load_scenario(path)
    assert back == case.scenario


def test_a_written_file_replays_to_the_same_result(tmp_path: Path) -> None:
    sc = next(c.scenario for c in cases() if c.key == "cut-inside-write")
    path = tmp_path / "replay.toml"
    path.write_text(to_toml(sc), encoding="utf-8")
    assert result_dict(simulate(load_scenario(path), trace=False)) == result_dict(
        simulate(sc, trace=False))


def test_what_no_file_can_say_is_refused() -> None:
    sc = next(c.scenario for c in cases())
    odd = Scenario(name=sc.name, start=sc.start.replace(tzinfo=timezone(timedelta(seconds=30))),
                   duration_us=sc.duration_us)
    with pytest.raises(ValueError, match="offset"):
        to_toml(odd)
    with pytest.raises(ValueError, match="surrogate"):
        to_toml(Scenario(name="\ud800", start=sc.start, duration_us=sc.duration_us))
    with pytest.raises(ValueError, match="empty load"):
        to_toml(Scenario(name="x", start=sc.start, duration_us=sc.duration_us, loads=()))


def test_a_scenario_copied_with_other_overrides_resolves_its_own_profile() -> None:
    """dataclasses.replace copies every init field: a profile given at construction would
    outlive the overrides it was resolved from (a meter built from the copy kept the old address
    and board)."""
    sc = parse_scenario(tomllib.loads(
        'name = "x"\nstart = "2026-01-01T00:00:00+08:00"\nduration = "1h"\n'
        '[meter]\n"meter.address" = "202601010001"\n'))
    copy = dataclasses.replace(sc, overrides=(("meter.address", "202601010002"),
                                              ("supply.topology", "battery-only")))
    assert copy.profile["meter.address"] == "202601010002"
    assert copy.profile["supply.topology"] == "battery-only"
    assert sc.profile["meter.address"] == "202601010001"
