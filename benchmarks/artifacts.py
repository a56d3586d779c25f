"""Artifact correction against injected artifacts that cluster and stack: restbeat and its peers, in one run.

Run:  python -m benchmarks.artifacts [--split report|tune] [--sets kubios,nsr2db,chf2db,gudb]
                                    [--rates 0,1,2,5,10] [--seeds 10] [--peers neurokit2,systole,hrv-analysis]
                                    [--per-record] [--no-real]
      python -m benchmarks.artifacts --figure docs/img/polar_h10_pvc.png   (only the Polar H10 figure)

Every record of the split (benchmarks/artifact_records.py) gets artifacts at each rate with every seed
(benchmarks/injection.py: positions at random, clusters and stacking allowed, types and sizes drawn from wide
ranges); every method corrects the same damaged series.  Scores (benchmarks/artifact_scoring.py): an event is
restored when its cluster's true beats are back within 5 % of the local RR; specificity is the share of
untouched true intervals kept; the RMSSD error is against the clean series.  Per record: the median over seeds
and the worst seed; the tables give the median record and the worst record.  Then real ectopy (chf2db, ltdb),
stream against batch and the speed on whole 24-h records (benchmarks/artifact_real.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks._timing import markdown_table
from benchmarks.artifact_methods import BEFORE, OURS, run
from benchmarks.artifact_records import REPORT, TUNE, Record, records
from benchmarks.artifact_scoring import Score, score
from benchmarks.injection import KINDS, Injected, inject


@dataclass(frozen=True)
class Trial:
    """One method on one record at one rate with one seed."""

    record: Record
    rate: float
    seed: int
    method: str
    injected: Injected
    score: Score


def evaluate(
    recs: list[Record], rates: list[float], seeds: int, methods: list[str], peer_seeds: int | None = None
) -> list[Trial]:
    """Every record x rate x seed through every method (the same damaged series for all; peers, which are
    slow, on the first ``peer_seeds`` seeds of them only)."""
    trials: list[Trial] = []
    for rate in rates:
        cases = [
            (record, seed, inject(record.nn_ms, rate, seed=7919 * seed + int(rate * 1000) + 31 * k))
            for k, record in enumerate(recs)
            for seed in range(seeds)
        ]
        for method in methods:
            chosen = cases
            if method not in (*OURS, BEFORE) and peer_seeds is not None:
                chosen = [(record, seed, case) for record, seed, case in cases if seed < peer_seeds]
            outputs = run(method, [case.rr_ms for _, _, case in chosen])
            for (record, seed, case), output in zip(chosen, outputs, strict=True):
                trials.append(Trial(record, rate, seed, method, case, score(record.nn_ms, case, output)))
            print(f"  done: {rate * 100:g} % {method}", file=sys.stderr, flush=True)
    return trials


def per_record_errors(trials: list[Trial]) -> dict[str, list[float]]:
    """|RMSSD error| (%) of every seed, by record label."""
    by_record: dict[str, list[float]] = {}
    for trial in trials:
        by_record.setdefault(trial.record.label, []).append(abs(trial.score.rmssd_error_pct))
    return by_record


def beyond_floor(trials: list[Trial], chosen: list[Trial]) -> dict[str, list[float]]:
    """|RMSSD error| (%) of every seed against the method's own output on the clean record (its 0 % trial):
    what the artifacts added, the record's floor (premature beats the annotators labelled N) taken out."""
    floors = {
        (t.record.label, t.method): t.score.rmssd_error_pct for t in trials if t.rate == 0.0 and t.seed == 0
    }
    out: dict[str, list[float]] = {}
    for trial in chosen:
        floor = floors.get((trial.record.label, trial.method))
        if floor is None:
            continue
        added = 100.0 * ((1 + trial.score.rmssd_error_pct / 100) / (1 + floor / 100) - 1)
        out.setdefault(trial.record.label, []).append(abs(added))
    return out


def _pct(hit: int, total: int, decimals: int = 1) -> str:
    return "-" if total == 0 else f"{100.0 * hit / total:.{decimals}f}"


def summary_table(trials: list[Trial], rates: list[float], methods: list[str]) -> str:
    """One row per rate and method: RMSSD error over records, restoration per kind, specificity, time."""
    rows = []
    for rate in rates:
        for method in methods:
            chosen = [t for t in trials if t.rate == rate and t.method == method]
            if not chosen:
                continue
            errors = per_record_errors(chosen)
            medians = {label: statistics.median(values) for label, values in errors.items()}
            worst_label = max(medians, key=lambda label: medians[label])
            worst_seed = max(max(values) for values in errors.values())
            added = beyond_floor(trials, chosen)
            added_medians = [statistics.median(values) for values in added.values()]
            sums = {kind: [0, 0] for kind in KINDS}
            clustered = [0, 0]
            for trial in chosen:
                for kind, (hit, total) in trial.score.corrected.items():
                    sums[kind][0] += hit
                    sums[kind][1] += total
                clustered[0] += trial.score.clustered[0]
                clustered[1] += trial.score.clustered[1]
            hits = sum(h for h, _ in sums.values())
            total = sum(n for _, n in sums.values())
            near = statistics.mean(t.injected.clustered_share for t in chosen)
            rows.append(
                [
                    f"{rate * 100:g} %",
                    method,
                    f"{statistics.median(medians.values()):.2f}",
                    f"{medians[worst_label]:.2f} ({worst_label})",
                    f"{worst_seed:.2f}",
                    (
                        f"{statistics.median(added_medians):.2f} / {max(added_medians):.2f}"
                        if added_medians
                        else "-"
                    ),
                    _pct(hits, total),
                    " / ".join(_pct(*sums[kind]) for kind in KINDS),
                    _pct(*clustered),
                    f"{100 * statistics.mean(t.score.specificity for t in chosen):.3f}",
                    "-" if rate == 0 else f"{100 * near:.0f}",
                    f"{statistics.median(t.score.seconds for t in chosen) * 1000:.1f}",
                ]
            )
    header = [
        "artifacts",
        "method",
        "RMSSD err %, median record",
        "worst record (its median)",
        "worst seed %",
        "beyond the floor: median / worst record %",
        "restored %",
        "restored E/M/X/L/S %",
        "in clusters %",
        "spec %",
        "events near another %",
        "ms per record",
    ]
    return markdown_table(header, rows)


def record_table(trials: list[Trial], rates: list[float], method: str) -> str:
    """Per record: RMSSD error median over seeds and worst seed at every rate (one method)."""
    chosen = [t for t in trials if t.method == method]
    labels = sorted({t.record.label for t in chosen})
    records_by_label = {t.record.label: t.record for t in chosen}
    rows = []
    for label in labels:
        record = records_by_label[label]
        cells = [label, f"{record.rmssd_ms:.1f}", "yes" if record.irregular else ""]
        for rate in rates:
            values = [
                abs(t.score.rmssd_error_pct) for t in chosen if t.rate == rate and t.record.label == label
            ]
            cells.append(f"{statistics.median(values):.2f} / {max(values):.2f}" if values else "-")
        rows.append(cells)
    header = ["record", "RMSSD ms", "irregular", *(f"{r * 100:g} %: median / worst" for r in rates)]
    return markdown_table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--split", choices=("report", "tune"), default="report")
    parser.add_argument("--sets", default="kubios,nsr2db,chf2db,gudb")
    parser.add_argument("--rates", default="0,1,2,5,10", help="artifact rates in per cent")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--peers", default="neurokit2,systole,hrv-analysis")
    parser.add_argument("--peer-seeds", type=int, default=3, help="seeds the peers run (the first of them)")
    parser.add_argument("--ours", default=",".join(OURS))
    parser.add_argument("--per-record", action="store_true", help="also print restbeat's per-record table")
    parser.add_argument("--no-real", action="store_true", help="skip real ectopy, streaming and speed")
    parser.add_argument("--figure", type=Path, help="only write the Polar H10 figure to this PNG")
    args = parser.parse_args()
    if args.figure:
        from benchmarks.artifact_real import polar_figure

        polar_figure(args.figure)
        return
    split = REPORT if args.split == "report" else TUNE
    recs, unreadable = records(split, args.sets.split(","))
    for line in unreadable:
        print(f"left out: {line}", file=sys.stderr)
    peers = [p for p in args.peers.split(",") if p]
    methods = [m for m in args.ours.split(",") if m] + peers
    rates = [float(r) / 100 for r in args.rates.split(",")]
    print(
        f"## Injected artifacts ({args.split} split: {len(recs)} records, {args.seeds} seeds per rate;"
        f" peers on the first {args.peer_seeds} of them)\n"
    )
    for set_name in sorted({r.set_name for r in recs}):
        names = [r.name for r in recs if r.set_name == set_name]
        print(f"- {set_name}: {', '.join(names)}")
    print()
    trials = evaluate(recs, rates, args.seeds, methods, args.peer_seeds)
    print(summary_table(trials, rates, methods))
    print(
        "\nRMSSD err: |relative error| against the clean series, median over seeds per record;"
        " restored: events whose cluster's true beats are back within 5 % (E/M/X/L/S = ectopic / missed /"
        " extra / long / short); in clusters: restored among events whose spans overlap another's."
    )
    if args.per_record:
        for method in methods:
            if method in OURS:
                print(f"\n### Per record, {method}\n")
                print(record_table(trials, rates, method))
    if args.no_real:
        return
    from benchmarks.artifact_real import real_ectopy_table, stream_agreement_table

    print("\n## Real ectopic beats (all chf2db and ltdb records)\n")
    print(real_ectopy_table(["restbeat", *[p for p in peers if p in ("neurokit2", "systole")]]))
    print("\n## Streaming against batch, and speed on whole records\n")
    print(stream_agreement_table())


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
