"""Per-meter evidence of theft, as SQL views over the loaded store (load.py), with names a
revenue-protection engineer would use. Paste any of them into a DuckDB shell.

Owns: what an opening is evidence of — when it happened (an instant, or an interval when it was
inferred at power-up), whether mains was out then, whether a work order covers it — which
outages were the meter's own (a supply cut its feeder neighbours did not see), consumption
after an event against before, relative to the feeder's other customers of the same type (so a
season, a holiday or a heat wave moves both and cancels), event clears and clock changes near an
opening, the terminal cover's openings no work order covers, and the meter model's hardware
finding (can it see an opening during an outage at all).
The result is one row per meter: ``meter_evidence``.

Must not know: weights and words (score.py), the fleet's ground truth.
"""

from __future__ import annotations

from typing import Final

import duckdb

# Slack around an outage and a work order's window, for the order in which a meter records a
# power-fail and an opening, and for staff who arrive a little early or write the order late.
OUTAGE_SLACK_MIN: Final = 2
ORDER_SLACK_MIN: Final = 30
DARK_MIN: Final = 5  # an opening this long with no energy metered happened with mains out
NEAR_DAYS: Final = 7  # an event clear or a clock change this close to an opening is "near" it
WINDOWS: Final = (7, 30)  # consumption windows, days
MIN_DAYS: Final = 3  # days of data a window needs on each side to count
NEIGHBOURS_MIN: Final = 2  # feeder neighbours able to see an outage before it can be "local"
LOCAL_SHARE: Final = 0.25  # ... and at most this share of them saw it

VIEWS: Final[tuple[tuple[str, str], ...]] = (
    ("usage", """
-- kWh a meter used each day, from its daily freeze (the register's difference to the day
-- before; a gap in the freezes is no day of use).
SELECT meter_address AS address, day,
       import_kwh - lag(import_kwh) OVER (PARTITION BY meter_address ORDER BY day) AS kwh,
       day - lag(day) OVER (PARTITION BY meter_address ORDER BY day) AS gap
FROM daily_energy
QUALIFY gap = 1 AND kwh >= 0"""),
    ("outage", """
-- every outage a meter recorded, and how many of its feeder neighbours (that could have seen it:
-- their stored power-down history reaches back that far) saw one overlapping it.
WITH pd AS (
    SELECT p.meter_address AS address, p.seq, p.started_at,
           coalesce(p.ended_at, p.started_at + INTERVAL 1 DAY) AS ended_at, c.feeder
    FROM power_down p JOIN customer c ON c.address = p.meter_address),
reach AS (
    SELECT meter_address AS address, min(started_at) AS since, min(seq) = 1 AS whole
    FROM power_down GROUP BY 1),
pairs AS (
    SELECT a.address, a.seq, n.address AS neighbour,
           bool_or(b.address IS NOT NULL) AS saw
    FROM pd a
    JOIN customer n ON n.feeder = a.feeder AND n.address <> a.address
    JOIN meter m ON m.address = n.address
    LEFT JOIN reach r ON r.address = n.address
    LEFT JOIN pd b ON b.address = n.address
        AND b.started_at <= a.ended_at + INTERVAL (OUTAGE_SLACK) MINUTE
        AND b.ended_at >= a.started_at - INTERVAL (OUTAGE_SLACK) MINUTE
    WHERE r.address IS NULL OR r.whole OR r.since <= a.started_at
    GROUP BY ALL)
SELECT pd.address, pd.seq, pd.started_at, pd.ended_at, pd.feeder,
       count(pairs.neighbour) AS neighbours, count(*) FILTER (WHERE pairs.saw) AS neighbours_saw,
       count(pairs.neighbour) >= NEIGHBOURS_MIN
           AND count(*) FILTER (WHERE pairs.saw) <= LOCAL_SHARE * count(pairs.neighbour)
           AS local_cut
FROM pd LEFT JOIN pairs USING (address, seq)
GROUP BY ALL"""),
    ("feeder_outage", """
-- outages of a whole feeder: one that most of the neighbours able to see it recorded too. A
-- meter keeps only its last 10 power-downs, so its own log may no longer reach back to an
-- opening; its feeder's other meters may still show that mains was out.
SELECT DISTINCT feeder, started_at, ended_at FROM outage
WHERE NOT local_cut AND neighbours > 0 AND neighbours_saw >= 0.5 * neighbours"""),
    ("opening", """
-- every cover opening as an instant (exact, deferred, unknown) or an interval (bounded: inferred
-- at power-up), whether mains was out then, and the work order that covers it, if any.
-- An unsynced opening has no trustworthy time: it can be matched with nothing.
WITH o AS (
    SELECT meter_address AS address, seq, time_quality AS quality, opened_at, closed_at,
           CASE WHEN time_quality = 'bounded' THEN coalesce(not_before, opened_at)
                ELSE opened_at END AS earliest,
           CASE WHEN time_quality = 'bounded' THEN coalesce(not_after, opened_at)
                ELSE opened_at END AS latest,
           import_before_kwh, import_after_kwh,
           -- no energy metered in the minutes the cover was open: mains was out then, even
           -- when no power-down record reaches back that far
           closed_at >= opened_at + INTERVAL (DARK_MIN) MINUTE
               AND import_after_kwh = import_before_kwh
               AND export_after_kwh = export_before_kwh AS dark_by_energy
    FROM cover_open)
SELECT o.*,
    o.quality <> 'unsynced' AND (coalesce(o.dark_by_energy, FALSE) OR EXISTS (
        SELECT 1 FROM outage g WHERE g.address = o.address
        AND o.latest >= g.started_at - INTERVAL (OUTAGE_SLACK) MINUTE
        AND o.earliest <= g.ended_at + INTERVAL (OUTAGE_SLACK) MINUTE) OR EXISTS (
        SELECT 1 FROM feeder_outage f JOIN customer c ON c.address = o.address
        AND f.feeder = c.feeder
        WHERE o.latest >= f.started_at - INTERVAL (OUTAGE_SLACK) MINUTE
        AND o.earliest <= f.ended_at + INTERVAL (OUTAGE_SLACK) MINUTE)) AS during_outage,
    o.quality <> 'unsynced' AND EXISTS (
        SELECT 1 FROM outage g WHERE g.address = o.address AND g.local_cut
        AND o.latest >= g.started_at - INTERVAL (OUTAGE_SLACK) MINUTE
        AND o.earliest <= g.ended_at + INTERVAL (OUTAGE_SLACK) MINUTE) AS during_local_cut,
    (SELECT min(w.order_id) FROM work_order w WHERE w.address = o.address AND w.staff <> ''
        AND o.quality <> 'unsynced'
        AND o.latest >= w.start_at - INTERVAL (ORDER_SLACK) MINUTE
        AND o.earliest <= w.end_at + INTERVAL (ORDER_SLACK) MINUTE) AS order_id,
    (SELECT count(*) FROM event_clear e WHERE e.meter_address = o.address
        AND e.cleared_at BETWEEN o.earliest - INTERVAL (NEAR) DAY
                             AND o.latest + INTERVAL (NEAR) DAY) AS clears_near,
    (SELECT count(*) FROM clock_change k WHERE k.meter_address = o.address
        AND k.changed_at BETWEEN o.earliest - INTERVAL (NEAR) DAY
                             AND o.latest + INTERVAL (NEAR) DAY) AS clock_changes_near
FROM o"""),
    ("terminal_opening", """
-- every opening of the terminal cover (over the meter's terminals, where a bypass is wired), as
-- an instant or an interval like a cover opening, and the work order that covers it, if any.
WITH t AS (
    SELECT meter_address AS address, seq, time_quality AS quality, opened_at, closed_at,
           CASE WHEN time_quality = 'bounded' THEN coalesce(not_before, opened_at)
                ELSE opened_at END AS earliest,
           CASE WHEN time_quality = 'bounded' THEN coalesce(not_after, opened_at)
                ELSE opened_at END AS latest
    FROM terminal_cover_open)
SELECT t.*,
    (SELECT min(w.order_id) FROM work_order w WHERE w.address = t.address AND w.staff <> ''
        AND t.quality <> 'unsynced'
        AND t.latest >= w.start_at - INTERVAL (ORDER_SLACK) MINUTE
        AND t.earliest <= w.end_at + INTERVAL (ORDER_SLACK) MINUTE) AS order_id
FROM t"""),
    ("anchor", """
-- the moments after which a meter's consumption is compared with before: its openings that no
-- work order covers, its own supply cuts, its other outages; the day is the meter's local day.
SELECT o.address, 'opening' AS kind, o.seq AS ref,
       CAST(o.earliest + to_hours(CAST(m.utc_offset_h AS BIGINT)) AS DATE) AS day
FROM opening o JOIN meter m ON m.address = o.address
WHERE o.order_id IS NULL AND o.quality <> 'unsynced'
UNION ALL
SELECT g.address, 'local cut', g.seq,
       CAST(g.started_at + to_hours(CAST(m.utc_offset_h AS BIGINT)) AS DATE)
FROM outage g JOIN meter m ON m.address = g.address WHERE g.local_cut
UNION ALL
-- every other outage too: a thief whose meter cannot see the opening still acts while mains is out
SELECT g.address, 'outage', g.seq,
       CAST(g.started_at + to_hours(CAST(m.utc_offset_h AS BIGINT)) AS DATE)
FROM outage g JOIN meter m ON m.address = g.address WHERE NOT g.local_cut"""),
    ("window_mean", """
-- each cohort member's mean daily use before and after each anchor day of its cohort (the
-- feeder's customers of one type), over 7 and 30 days.
WITH cohort_day AS (
    SELECT DISTINCT c.feeder, c.customer_type, a.day
    FROM anchor a JOIN customer c ON c.address = a.address),
w AS (SELECT unnest([WINDOWS]) AS days)
SELECT cd.feeder, cd.customer_type, cd.day, w.days, c.address,
       avg(u.kwh) FILTER (WHERE u.day < cd.day) AS before_kwh,
       avg(u.kwh) FILTER (WHERE u.day > cd.day) AS after_kwh,
       count(*) FILTER (WHERE u.day < cd.day) AS before_days,
       count(*) FILTER (WHERE u.day > cd.day) AS after_days
FROM cohort_day cd CROSS JOIN w
JOIN customer c ON c.feeder = cd.feeder AND c.customer_type = cd.customer_type
JOIN usage u ON u.address = c.address AND u.day BETWEEN cd.day - w.days AND cd.day + w.days
GROUP BY ALL"""),
    ("consumption_change", """
-- per anchor and window: the meter's after/before ratio, its peers' median ratio, and the
-- meter's change relative to its peers (-0.4: it fell 40 % more than its peers did).
WITH ratio AS (
    SELECT *, after_kwh / before_kwh AS ratio FROM window_mean
    WHERE before_days >= MIN_DAYS AND after_days >= MIN_DAYS AND before_kwh > 0),
me AS (
    SELECT a.address, a.kind, a.ref, a.day, r.days, r.feeder, r.customer_type, r.before_kwh,
           r.after_kwh, r.ratio
    FROM anchor a JOIN ratio r ON r.address = a.address AND r.day = a.day),
peer AS (
    SELECT me.address, me.kind, me.ref, me.days, median(p.ratio) AS peer_ratio,
           count(*) AS peers
    FROM me JOIN ratio p ON p.feeder = me.feeder AND p.customer_type = me.customer_type
        AND p.day = me.day AND p.days = me.days AND p.address <> me.address
    GROUP BY ALL)
SELECT me.address, me.kind, me.ref, me.day, me.days, me.before_kwh, me.after_kwh, me.ratio,
       peer.peer_ratio, coalesce(peer.peers, 0) AS peers,
       CASE WHEN peer.peer_ratio > 0 THEN me.ratio / peer.peer_ratio - 1 END AS relative_change
FROM me LEFT JOIN peer USING (address, kind, ref, days)"""),
    ("meter_evidence", """
-- one row per registered meter: the evidence the score weighs.
WITH op AS (
    SELECT address,
      count(*) FILTER (WHERE during_outage AND order_id IS NULL
                       AND quality IN ('exact', 'deferred')) AS outage_open_exact,
      count(*) FILTER (WHERE during_outage AND order_id IS NULL
                       AND quality = 'bounded') AS outage_open_bounded,
      count(*) FILTER (WHERE NOT during_outage AND order_id IS NULL
                       AND quality IN ('exact', 'deferred')) AS mains_open_no_order,
      count(*) FILTER (WHERE order_id IS NULL AND quality = 'unknown') AS unknown_open_no_order,
      count(*) FILTER (WHERE quality = 'unsynced') AS unsynced_open,
      count(*) FILTER (WHERE order_id IS NOT NULL) AS open_with_order,
      count(*) FILTER (WHERE during_local_cut AND order_id IS NULL) AS open_in_local_cut,
      sum(clears_near) FILTER (WHERE order_id IS NULL) AS clears_near_open,
      sum(clock_changes_near) FILTER (WHERE order_id IS NULL) AS clock_changes_near_open
    FROM opening GROUP BY 1),
cut AS (SELECT address, count(*) FILTER (WHERE local_cut) AS local_cuts FROM outage GROUP BY 1),
term AS (SELECT address, count(*) FILTER (WHERE order_id IS NULL) AS terminal_open_no_order
         FROM terminal_opening GROUP BY 1),
chg AS (
    SELECT address,
      min(relative_change) FILTER (WHERE days = 7 AND kind = 'opening') AS open_change_7d,
      min(relative_change) FILTER (WHERE days = 30 AND kind = 'opening') AS open_change_30d,
      min(relative_change) FILTER (WHERE days = 30 AND kind = 'local cut') AS cut_change_30d,
      min(relative_change) FILTER (WHERE days = 30 AND kind = 'outage') AS outage_change_30d
    FROM consumption_change GROUP BY 1)
SELECT c.address, c.feeder, c.customer_type, c.meter_model,
    coalesce(mm.sees_outage_openings, TRUE) AS sees_outage_openings,
    m.address IS NOT NULL AS collected,
    coalesce(op.outage_open_exact, 0) AS outage_open_exact,
    coalesce(op.outage_open_bounded, 0) AS outage_open_bounded,
    coalesce(op.mains_open_no_order, 0) AS mains_open_no_order,
    coalesce(op.unknown_open_no_order, 0) AS unknown_open_no_order,
    coalesce(op.unsynced_open, 0) AS unsynced_open,
    coalesce(op.open_with_order, 0) AS open_with_order,
    coalesce(op.open_in_local_cut, 0) AS open_in_local_cut,
    coalesce(cut.local_cuts, 0) AS local_cuts,
    coalesce(op.clears_near_open, 0) AS clears_near_open,
    coalesce(op.clock_changes_near_open, 0) AS clock_changes_near_open,
    coalesce(term.terminal_open_no_order, 0) AS terminal_open_no_order,
    chg.open_change_7d, chg.open_change_30d, chg.cut_change_30d, chg.outage_change_30d
FROM customer c
LEFT JOIN meter m ON m.address = c.address
LEFT JOIN meter_model mm ON mm.meter_model = c.meter_model
LEFT JOIN op ON op.address = c.address
LEFT JOIN cut ON cut.address = c.address
LEFT JOIN term ON term.address = c.address
LEFT JOIN chg ON chg.address = c.address"""),
)

_PARAMS: Final = {
    "DARK_MIN": str(DARK_MIN),
    "OUTAGE_SLACK": str(OUTAGE_SLACK_MIN), "ORDER_SLACK": str(ORDER_SLACK_MIN),
    "NEAR": str(NEAR_DAYS), "WINDOWS": ", ".join(map(str, WINDOWS)),
    "MIN_DAYS": str(MIN_DAYS), "NEIGHBOURS_MIN": str(NEIGHBOURS_MIN),
    "LOCAL_SHARE": str(LOCAL_SHARE),
}


def sql(name: str) -> str:
    """The view's SQL with its constants filled in."""
    text = dict(VIEWS)[name]
    for key, value in _PARAMS.items():
        text = text.replace(key, value)
    return text


def build(con: duckdb.DuckDBPyConnection) -> None:
    """Create every view (as tables: each is read several times) on a loaded store."""
    for name, _text in VIEWS:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql(name)}")
