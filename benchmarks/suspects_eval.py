"""How well `meterseal suspects` finds thieves, measured on fleets whose thieves are known.

For each seed and thief share: `meterseal fleet` draws the area, `meterseal serve --fleet` serves
it, `meterseal collect` reads every meter into a fresh SQLite store and `meterseal register`
loads the utility's files — the same commands a user runs. The weights are fitted on the --fit
seeds and every figure is reported on the --test seeds only: precision at the visit budget k,
recall at k, ROC AUC, the share of the thieves who opened a cover during an outage on a meter
that could see it found in the top k, and the same for a meter that knows openings in outages
only as bounded intervals (no watch) and one that records only on mains (the seed's value). Then
an ablation: each group of evidence left out and the model refitted.

Only this script reads truth/ (the labels); the analytics never do.

    python benchmarks/suspects_eval.py --meters 5000 --days 90 --fit 11 --test 21 22 \
        --thieves 0.03 0.06 --test-thieves 0.03 --work /tmp/ms-eval

(fleets and stores are kept in --work and reused: a second run only re-analyses them.)
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from meterseal.headend.analytics import features
from meterseal.headend.analytics.evaluate import (
    VARIANTS,
    apply_variant,
    auc,
    fit,
    matrix,
    order,
    precision_at,
    recall_at,
    scores,
)
from meterseal.headend.analytics.load import load
from meterseal.headend.analytics.score import FEATURES
from meterseal.headend.analytics.weights import DEFAULT, JUDGEMENT, Weights

GROUPS = {
    "outage openings": ("outage_open_exact", "outage_open_bounded", "open_in_local_cut"),
    "mains openings": ("mains_open_no_order", "unknown_open_no_order", "unsynced_open"),
    "local supply cuts": ("local_cuts", "drop_cut_30d"),
    "consumption": ("drop_open_7d", "drop_open_30d", "drop_cut_30d", "drop_outage_30d"),
    "clears and clock": ("clears_near_open", "clock_changes_near_open"),
    "a second unexplained opening": ("repeat_unexplained",),
}
TARIFF_CNY_PER_KWH = 0.56  # a typical Chinese residential tariff (assumption, for scale only)


def meterseal(*args: str) -> list[str]:
    return [sys.executable, "-m", "meterseal", *args]


def make_fleet(work: Path, meters: int, days: int, seed: int, thieves: float) -> Path:
    out = work / f"fleet-m{meters}-d{days}-s{seed}-t{thieves}"
    if not (out / "truth" / "meters.csv").is_file():
        subprocess.run(meterseal("fleet", "--meters", str(meters), "--days", str(days),
                                 "--seed", str(seed), "--thieves", str(thieves), "--out",
                                 str(out), "--quiet"), check=True)
    return out


def make_store(fleet: Path) -> str:
    db = fleet.parent / f"{fleet.name}.db"
    url = f"sqlite:///{db}"
    if db.is_file():
        return url
    endpoints = fleet.parent / f"{fleet.name}.endpoints.toml"
    endpoints.unlink(missing_ok=True)
    server = subprocess.Popen(meterseal("serve", "--fleet", str(fleet), "--dlt645",
                                        "tcp://127.0.0.1:0", "--endpoints-out", str(endpoints)),
                              stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not endpoints.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        subprocess.run(meterseal("collect", "--endpoints", str(endpoints), "--db", url),
                       check=True, stdout=subprocess.DEVNULL)
    finally:
        server.terminate()
        server.wait()
    subprocess.run(meterseal("register", "--fleet", str(fleet), "--db", url), check=True,
                   stdout=subprocess.DEVNULL)
    return url


@dataclass
class Fleet:
    name: str
    addresses: list[str]
    y: np.ndarray  # 1: a thief
    seen_dark: np.ndarray  # 1: a thief who opened during an outage on a model that sees them
    watched_dark: np.ndarray  # 1: a thief who opened within the hours its model watches
    stolen_kwh_day: np.ndarray  # the thief's bypassed energy per day (0 for the honest)
    x: dict[str, np.ndarray]  # variant -> inputs


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _watched(fleet: Path) -> set[str]:
    """Thieves who opened during an outage within the hours their model watches after mains
    loss (models.csv watch_hours: the twin's hardware finding), by the truth's outages: the
    opening itself could be seen, whatever the model's verdict on outages in general."""
    models = {r["meter_model"]: r for r in _rows(fleet / "utility" / "models.csv")}
    cust = {r["address"]: r for r in _rows(fleet / "utility" / "customers.csv")}
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for o in _rows(fleet / "truth" / "outages.csv"):
        key = o["address"] if o["scope"] == "meter" else o["feeder"]
        spans.setdefault(key, []).append((datetime.fromisoformat(o["start"]),
                                          datetime.fromisoformat(o["end"])))
    out = set()
    for r in _rows(fleet / "truth" / "openings.csv"):
        if r["actor"] != "thief" or r["during_outage"] != "true":
            continue
        c = cust[r["address"]]
        hours = float(models[c["meter_model"]]["watch_hours"] or 0)
        t = datetime.fromisoformat(r["opened_at"])
        starts = [s for s, e in spans.get(r["address"], []) + spans.get(c["feeder"], [])
                  if s <= t <= e]
        if starts and (t - min(starts)).total_seconds() <= hours * 3600:
            out.add(r["address"])
    return out


def truth(fleet: Path, addresses: list[str]) -> tuple[np.ndarray, ...]:
    """The labels: thieves; those who opened during an outage on a model that sees such
    openings (models.csv), and those whose dark opening fell within their model's watch; kWh
    stolen a day."""
    days = tomllib.loads((fleet / "fleet.toml").read_text())["days"]
    sees = {r["meter_model"]: r["sees_outage_openings"] == "true"
            for r in _rows(fleet / "utility" / "models.csv")}
    model = {r["address"]: r["meter_model"] for r in _rows(fleet / "utility" / "customers.csv")}
    meters = {r["address"]: r for r in _rows(fleet / "truth" / "meters.csv")}
    dark = {r["address"] for r in _rows(fleet / "truth" / "openings.csv")
            if r["actor"] == "thief" and r["during_outage"] == "true"}
    watched = _watched(fleet)
    y, seen, within, stolen = [], [], [], []
    for a in addresses:
        m = meters[a]
        thief = m["thief"] == "true"
        y.append(1.0 if thief else 0.0)
        seen.append(1.0 if thief and a in dark and sees[model[a]] else 0.0)
        within.append(1.0 if thief and a in watched else 0.0)
        if thief:
            f = float(m["bypass_fraction"])
            metered = tomllib.loads((fleet / "meters" / f"{a}.toml").read_text())["import_kwh"]
            start = m["theft_start"]
            first = tomllib.loads((fleet / "fleet.toml").read_text())["start"]
            after = (datetime.fromisoformat(start) - datetime.fromisoformat(first)).days
            d_after = max(days - after, 1)
            rate = metered / max(after + (1 - f) * d_after, 1.0)  # the true daily use
            stolen.append(f * rate)
        else:
            stolen.append(0.0)
    return np.array(y), np.array(seen), np.array(within), np.array(stolen)


def load_fleet(fleet: Path) -> Fleet:
    url = make_store(fleet)
    xs: dict[str, np.ndarray] = {}
    addresses: list[str] = []
    for variant in VARIANTS:
        con = load(url)
        if variant == "full":
            features.build(con)
        else:
            apply_variant(con, variant)
        addresses, xs[variant] = matrix(con)
        con.close()
    y, seen, within, stolen = truth(fleet, addresses)
    return Fleet(fleet.name, addresses, y, seen, within, stolen, xs)


def measure(f: Fleet, x: np.ndarray, w: Weights, k: int,
            names: Sequence[str] = FEATURES) -> dict[str, float]:
    s = scores(x, w, names)
    ranked = order(s, f.addresses)
    top = set(ranked[:k])
    seen_total = float(f.seen_dark.sum())
    first_honest = next((n for n, i in enumerate(ranked) if not f.y[i]), len(ranked))
    clean = ranked[:first_honest]  # thieves ranked above every honest customer
    return {
        "precision@k": precision_at(ranked, f.y, k), "recall@k": recall_at(ranked, f.y, k),
        "auc": auc(s, f.y),
        "dark_seen_in_top_k": (sum(f.seen_dark[i] for i in top) / seen_total
                               if seen_total else float("nan")),
        "cny_per_year_top_k": 365 * TARIFF_CNY_PER_KWH * sum(f.stolen_kwh_day[i] for i in top),
        "before_first_honest": float(first_honest),
        "cny_per_year_before_first_honest": 365 * TARIFF_CNY_PER_KWH * sum(
            f.stolen_kwh_day[i] for i in clean),
        # the most any ranking could hold: k of them, when there are more than k
        "dark_seen_ceiling": min(k, seen_total) / seen_total if seen_total else float("nan"),
        # what to expect of a ranking that puts the meters holding an exact outage opening with
        # no work order first, whatever their model: the seen ones' share of those, times k
        "dark_seen_model_blind": _model_blind(f, x, names, k),
        "dark_watched_in_top_k": (sum(f.watched_dark[i] for i in top)
                                  / max(float(f.watched_dark.sum()), 1.0)),
        "thieves": float(f.y.sum()), "dark_seen": seen_total,
        "dark_watched": float(f.watched_dark.sum()),
    }


def _model_blind(f: Fleet, x: np.ndarray, names: Sequence[str], k: int) -> float:
    if "outage_open_exact" not in names or not f.seen_dark.sum():
        return float("nan")
    exact = x[:, list(names).index("outage_open_exact")] > 0
    top = min(k, int(exact.sum()))
    return top * float(f.seen_dark[exact].sum()) / max(int(exact.sum()), 1) / f.seen_dark.sum()


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's mean over the fleets that have it (NaN where none has: no thief of that
    kind, or no such evidence in the model)."""
    out = {}
    for k in rows[0]:
        values = [r[k] for r in rows if not np.isnan(r[k])]
        out[k] = float(np.mean(values)) if values else float("nan")
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--meters", type=int, default=5000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--fit", type=int, nargs="+", default=[11, 12])
    p.add_argument("--test", type=int, nargs="+", default=[21, 22])
    p.add_argument("--thieves", type=float, nargs="+", default=[0.03, 0.06],
                   help="thief shares of the fleets fitted on (default 0.03 0.06)")
    p.add_argument("--test-thieves", type=float, nargs="+", default=[0.03],
                   help="thief shares of the fleets reported on (default 0.03)")
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--work", type=Path, default=Path("/tmp/ms-eval"))
    p.add_argument("--l2", type=float, default=10.0,
                   help="the pull towards the judgement weights (default 10)")
    p.add_argument("--json", type=Path, help="also write every figure here")
    args = p.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    def fleets(seeds: list[int], shares: list[float]) -> list[Fleet]:
        return [load_fleet(make_fleet(args.work, args.meters, args.days, s, t))
                for s in seeds for t in shares]

    if set(args.fit) & set(args.test):
        p.error(f"seeds {sorted(set(args.fit) & set(args.test))} both fitted on and reported on")
    train, test = fleets(args.fit, args.thieves), fleets(args.test, args.test_thieves)
    report: dict[str, object] = {"l2": args.l2, "fit": args.fit, "test": args.test, "k": args.k,
                                 "meters": args.meters, "days": args.days,
                                 "thieves": args.thieves, "test_thieves": args.test_thieves}
    weights = {}
    for variant in VARIANTS:
        x = np.vstack([f.x[variant] for f in train])
        y = np.concatenate([f.y for f in train])
        weights[variant] = fit(x, y, l2=args.l2,
                               fitted_on=f"seeds {args.fit}, thieves {args.thieves}")
    report["weights"] = {v: {"bias": w.bias, **w.weights} for v, w in weights.items()}
    rows = {}
    for variant in VARIANTS:
        per = [measure(f, f.x[variant], weights[variant], args.k) for f in test]
        rows[variant] = {"per_fleet": dict(zip([f.name for f in test], per, strict=True)),
                         "mean": _mean(per)}
    report["variants"] = rows
    # what `meterseal suspects` ranks with (weights.DEFAULT), on the same held-out fleets
    report["shipped"] = _mean([measure(f, f.x["full"], DEFAULT, args.k) for f in test])
    report["shipped_fitted_on"] = DEFAULT.fitted_on
    report["judgement"] = _mean([measure(f, f.x["full"], JUDGEMENT, args.k) for f in test])
    ablation = {}
    for group, cols in GROUPS.items():
        keep = [i for i, n in enumerate(FEATURES) if n not in cols]
        names = [FEATURES[i] for i in keep]
        x = np.vstack([f.x["full"][:, keep] for f in train])
        y = np.concatenate([f.y for f in train])
        w = fit(x, y, names=names, l2=args.l2)
        ablation[group] = _mean([measure(f, f.x["full"][:, keep], w, args.k, names)
                                 for f in test])
    report["without"] = ablation
    _print(report, args.k)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def _print(report: dict, k: int) -> None:  # type: ignore[type-arg]
    print(f"fit on seeds {report['fit']} (thieves {report['thieves']}), reported on seeds"
          f" {report['test']} (thieves {report['test_thieves']}); {report['meters']} meters,"
          f" {report['days']} days, L2 {report['l2']}")
    head = (f"| evidence | precision@{k} | recall@{k} | ROC AUC | dark openings seen, in top"
            f" {k} | CNY/yr of theft in top {k} | thieves before the first honest customer |"
            " their theft, CNY/yr |")
    print(head)
    print("|---|---|---|---|---|---|---|---|")
    for name, r in [*((v, report["variants"][v]["mean"]) for v in VARIANTS),
                    *((f"full, without {g}", r) for g, r in report["without"].items()),
                    (f"shipped weights ({report['shipped_fitted_on']})", report["shipped"]),
                    ("the judgement weights, never fitted", report["judgement"])]:
        print(f"| {name} | {r['precision@k']:.2f} | {r['recall@k']:.2f} | {r['auc']:.3f} |"
              f" {r['dark_seen_in_top_k']:.2f} | {r['cny_per_year_top_k']:,.0f} |"
              f" {r['before_first_honest']:.1f} | {r['cny_per_year_before_first_honest']:,.0f} |")
    for fleet, r in report["variants"]["full"]["per_fleet"].items():
        print(f"  {fleet}: {int(r['thieves'])} thieves, {int(r['dark_seen'])} opened in the dark"
              f" on a meter that sees it; precision@{k} {r['precision@k']:.2f}, recall"
              f" {r['recall@k']:.2f}, AUC {r['auc']:.3f}, dark seen in top {k}"
              f" {r['dark_seen_in_top_k']:.2f} (at most {r['dark_seen_ceiling']:.2f}; blind to"
              f" the model {r['dark_seen_model_blind']:.2f}); {int(r['dark_watched'])} opened"
              f" within their model's watch, in top {k} {r['dark_watched_in_top_k']:.2f}")
    full = dict(report["weights"]["full"])
    print(f"weights (full): bias={full.pop('bias'):.4f},")
    print("    weights={" + ", ".join(f'"{n}": {v:.4g}' for n, v in full.items()) + "},")


if __name__ == "__main__":
    raise SystemExit(main())
