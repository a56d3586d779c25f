"""Artifact correction on real data: annotated ectopy (chf2db, ltdb), stream against batch, speed, the figure.

Real ectopic beats: every beat of PhysioNet chf2db and ltdb records (ODC-By 1.0); the annotators' ectopic
labels (V, S, A, a, J, F, e, j, E) are the truth.  A labelled beat counts as detected when the interval it
ends or the next one is flagged; false positives are flags on runs of five N beats.  Many labelled beats are
not premature at all (runs of atrial tachycardia, late-coupled ventricular beats) and so invisible in RR; the
detection rate of those that came early (< 80 % of the interval before) is reported beside.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from benchmarks._timing import markdown_table
from benchmarks.artifact_methods import run
from benchmarks.data import corpus_path
from restbeat.beats import BeatQuality
from restbeat.signal import artifacts

ECTOPIC_SYMBOLS = frozenset("VSAaJFejE")
PREMATURE_BELOW = 0.8  # an ectopic beat is visible in RR when its interval is < 80 % of the one before
SINUS_SYMBOLS = frozenset("NLRB")


def all_beat_intervals(path: Path, annotator: str) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    """RR between consecutive beats of any label, and the label of the beat ending each interval."""
    import wfdb

    annotation = wfdb.rdann(str(path), annotator)
    symbols = np.asarray(annotation.symbol)
    samples = np.asarray(annotation.sample)
    beat = np.isin(symbols, list(ECTOPIC_SYMBOLS | SINUS_SYMBOLS | set("Q/fn")))
    samples, symbols = samples[beat], symbols[beat]
    return np.diff(samples) * (1000.0 / float(annotation.fs)), symbols[1:]


def real_ectopy_table(methods: list[str]) -> str:
    """Detection rate of annotated ectopic beats and false flags on N runs, chf2db + ltdb."""
    sources = [(corpus_path("physionet_chf2db"), "ecg"), (corpus_path("physionet_ltdb"), "atr")]
    series, labels, names = [], [], []
    for folder, annotator in sources:
        for record in (folder / "RECORDS").read_text().split():
            rr, symbols = all_beat_intervals(folder / record, annotator)
            series.append(rr)
            labels.append(symbols)
            names.append(f"{folder.name.removeprefix('physionet_')}/{record}")
    rows = []
    for method in methods:
        results = run(method, series)
        detected = ectopic = detected_premature = premature = false_flags = sinus_runs = 0
        for rr, symbols, result in zip(series, labels, results, strict=True):
            is_ectopic = np.isin(symbols, list(ECTOPIC_SYMBOLS))
            flags = result.flags
            flagged_here_or_next = flags | np.append(flags[1:], False)
            detected += int(np.count_nonzero(flagged_here_or_next & is_ectopic))
            ectopic += int(np.count_nonzero(is_ectopic))
            # visible in the RR series at all: the ectopic beat came early (< 80 % of the interval before)
            early = is_ectopic & (rr < PREMATURE_BELOW * np.concatenate([[np.inf], rr[:-1]]))
            detected_premature += int(np.count_nonzero(flagged_here_or_next & early))
            premature += int(np.count_nonzero(early))
            sinus = np.isin(symbols, list(SINUS_SYMBOLS)).astype(int)
            run_of_five = np.convolve(sinus, np.ones(5, dtype=int), mode="same") == 5
            false_flags += int(np.count_nonzero(flags & run_of_five))
            sinus_runs += int(np.count_nonzero(run_of_five))
        rows.append(
            [
                method,
                f"{len(series)}",
                f"{ectopic}",
                f"{100 * detected / ectopic:.1f}",
                f"{premature}",
                f"{100 * detected_premature / premature:.1f}",
                f"{1000 * false_flags / sinus_runs:.2f}",
                f"{sum(r.seconds for r in results):.1f}",
            ]
        )
        print(f"  done: real ectopy {method}", file=sys.stderr, flush=True)
    header = [
        "method",
        "records",
        "ectopic beats",
        "detected %",
        "of them premature",
        "premature detected %",
        "false flags /1000 N",
        "time s",
    ]
    return markdown_table(header, rows)


def _same_beats(batch: artifacts.CorrectedSeries, beats: list[artifacts.CleanBeat]) -> float:
    """Share of batch's output beats that the stream gave too: same end time (0.1 ms) and value (1 µs)."""
    streamed = {
        round(beat.t_s, 4): beat.rr_ms
        for beat in beats
        if beat.quality in (BeatQuality.GOOD, BeatQuality.CORRECTED)
    }
    same = sum(
        1
        for t_s, value in zip(batch.t_s.tolist(), batch.rr_ms.tolist(), strict=True)
        if abs(streamed.get(round(t_s, 4), -1.0) - value) < 1e-3
    )
    return same / max(batch.rr_ms.size, 1)


def stream_agreement_table(records: tuple[str, ...] = ("nsr001", "nsr002", "nsr003")) -> str:
    """Stream against batch on every beat of whole 24-h nsr2db records (their ectopic beats included): the
    same output beats, the same class, the stream's cost per beat, batch's time per record (median of 5)."""
    rows = []
    for record in records:
        rr, _ = all_beat_intervals(corpus_path("physionet_nsr2db", record), "ecg")
        artifacts.correct_rr(rr[:600])  # warm-up
        batch_times = []
        for _ in range(5):
            start = time.perf_counter()
            batch = artifacts.correct_rr(rr)
            batch_times.append(time.perf_counter() - start)
        stream = artifacts.ArtifactStream(record_classes=True)
        beats: list[artifacts.CleanBeat] = []
        t = 0.0
        start = time.perf_counter()
        for value in rr.tolist():
            t += value / 1000.0
            beats += stream.push(t, value)
        beats += stream.flush()
        per_beat_us = 1e6 * (time.perf_counter() - start) / rr.size
        streamed = np.zeros(rr.size, dtype=np.int8)
        for index, code in stream.input_classes():
            streamed[index] = code
        classes = batch.input_class
        either = (streamed != artifacts.NORMAL) | (classes != artifacts.NORMAL)
        rows.append(
            [
                f"{record}, 24 h",
                f"{rr.size}",
                f"{100 * _same_beats(batch, beats):.2f}",
                f"{100 * float(np.mean(streamed == classes)):.2f}",
                f"{100 * float(np.mean(streamed[either] == classes[either])):.1f} ({int(either.sum())})",
                f"{per_beat_us:.1f}",
                f"{1000 * float(np.median(batch_times)):.0f}",
            ]
        )
        print(f"  done: stream against batch, {record}", file=sys.stderr, flush=True)
    header = [
        "series",
        "beats",
        "same beats %",
        "same class %",
        "same class among flagged % (n)",
        "stream µs/beat",
        "batch ms/record",
    ]
    return markdown_table(header, rows)


def polar_figure(path: Path) -> None:
    """Raw and corrected RR of the Polar H10 recording with frequent PVCs (detectPVC, MIT licence)."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with corpus_path("polar_h10_detectPVC", "polar_h10_rr_only.csv").open() as handle:
        rr = np.array([float(row["rr_ms"]) for row in csv.DictReader(handle)])
    corrected = artifacts.correct_rr(rr)
    raw_t = np.cumsum(rr) / 1000.0
    changed = np.zeros(rr.size, dtype=bool)  # input intervals whose value correction changed
    changed[corrected.source[corrected.quality == BeatQuality.CORRECTED]] = True
    changed[corrected.input_class != artifacts.NORMAL] = True  # merged-away and excluded ones too
    fig, axes = plt.subplots(2, 1, figsize=(11, 6), sharex=True, constrained_layout=True)
    axes[0].plot(raw_t, rr, color="#555555", lw=0.8, label="RR from the strap")
    axes[0].scatter(
        raw_t[changed], rr[changed], s=12, color="#d55e00", zorder=3, label="corrected by restbeat"
    )
    axes[0].set_ylabel("RR (ms)")
    axes[0].set_title("Polar H10, 10 min with frequent premature ventricular beats (detectPVC, K. Broman)")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[1].plot(corrected.t_s, corrected.rr_ms, color="#0072b2", lw=0.9, label="corrected RR")
    axes[1].set_ylabel("RR (ms)")
    axes[1].set_xlabel("time (s)")
    summary = artifacts.class_counts_text(corrected.counts)
    axes[1].set_title(f"after correction ({summary} of {rr.size} intervals)", fontsize=10)
    axes[1].legend(loc="lower right", fontsize=8)
    for axis in axes:
        axis.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"figure written to {path}")
