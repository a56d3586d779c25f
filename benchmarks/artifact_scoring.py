"""Scores of one corrected series against the truth of an injection: were the true beats restored?

An event counts as corrected when the corrected series has, over the event's cluster (overlapping events
joined, from the true beat before the damage to the true beat after it), exactly the true number of beats,
each within ``TOLERANCE`` (5 %) of the local true RR of its true time.  Times are compared after aligning
on the beat before the cluster, so a method whose output drifts (one that does not keep elapsed time) is
judged on the cluster alone.  Specificity is over the true intervals that no event touched: the share
restored to within 5 % with no beat added or lost between their ends.  The RMSSD error compares the
corrected series (successive differences within its segments only) with the clean one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from benchmarks.injection import KINDS, Injected

TOLERANCE = 0.05


@dataclass(frozen=True)
class Output:
    """What a method returned: its beat times (s, sorted), intervals (ms) and segment of each interval."""

    beat_t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    segment_ids: NDArray[np.int64]
    flags: NDArray[np.bool_]  # per input interval: flagged as an artifact
    seconds: float


@dataclass(frozen=True)
class Score:
    """One method on one injected series."""

    corrected: dict[str, tuple[int, int]]  # kind -> (events restored, events)
    clustered: tuple[int, int]  # events within 4 beats of another: (restored, total)
    specificity: float  # share of untouched true intervals restored
    rmssd_error_pct: float
    seconds: float


def output_from_intervals(
    rr_ms: NDArray[np.float64],
    flags: NDArray[np.bool_],
    seconds: float,
    t_end_s: NDArray[np.float64] | None = None,
    segment_ids: NDArray[np.int64] | None = None,
) -> Output:
    """Beat times from interval end times (time-keeping methods) or from the running sum (the others)."""
    rr = np.asarray(rr_ms, dtype=np.float64)
    if t_end_s is None:
        beats = np.concatenate([[0.0], np.cumsum(rr) / 1000.0])
    else:
        ends = np.asarray(t_end_s, dtype=np.float64)
        beats = np.unique(np.round(np.concatenate([ends - rr / 1000.0, ends]), 4))  # 0.1 ms
    segments = np.zeros(rr.size, np.int64) if segment_ids is None else np.asarray(segment_ids, np.int64)
    return Output(beats, rr, segments, np.asarray(flags, dtype=bool), seconds)


def rmssd_ms(rr_ms: NDArray[np.float64], segment_ids: NDArray[np.int64] | None = None) -> float:
    """RMSSD (ms) over successive differences within each segment."""
    diffs = np.diff(rr_ms)
    if segment_ids is not None and segment_ids.size == rr_ms.size:
        diffs = diffs[np.diff(segment_ids) == 0]
    return float(np.sqrt(np.mean(diffs**2))) if diffs.size else float("nan")


def clusters(injected: Injected) -> list[tuple[int, int, list[str]]]:
    """(first, last) true beat index of each cluster of overlapping events, with the kinds it holds."""
    true_t = injected.true_t_s
    spans = sorted((e.start_s, e.stop_s, e.kind) for e in injected.events)
    joined: list[tuple[float, float, list[str]]] = []
    for start, stop, kind in spans:
        if joined and start <= joined[-1][1] + 1e-9:
            lo, hi, kinds = joined[-1]
            joined[-1] = (lo, max(hi, stop), [*kinds, kind])
        else:
            joined.append((start, stop, [kind]))
    out = []
    for start, stop, kinds in joined:
        first = int(np.searchsorted(true_t, start + 1e-9, side="right")) - 1
        last = int(np.searchsorted(true_t, stop - 1e-9, side="left"))
        out.append((max(first, 0), min(last, true_t.size - 1), kinds))
    return out


def align(
    true_t: NDArray[np.float64], found: NDArray[np.float64], trusted: NDArray[np.bool_] | None = None
) -> NDArray[np.int64]:
    """For every true beat, the found beat it corresponds to, following the drift of a method that does not
    keep elapsed time: each beat is looked for where the last matched one says it should be.  Only beats
    outside the damaged clusters (``trusted``) move the drift."""
    nearest = np.zeros(true_t.size, np.int64)
    drift = 0.0
    last = found.size - 1
    for i, t in enumerate(true_t.tolist()):
        target = t + drift
        j = int(np.searchsorted(found, target))
        if j > last or (j > 0 and target - found[j - 1] <= found[j] - target):
            j = max(j - 1, 0)
        nearest[i] = j
        step = true_t[i] - true_t[i - 1] if i else (true_t[1] - true_t[0] if true_t.size > 1 else 1.0)
        if (trusted is None or trusted[i]) and abs(found[j] - target) <= 0.3 * step:
            drift = float(found[j] - t)
    return nearest


def score(clean_ms: NDArray[np.float64], injected: Injected, output: Output) -> Score:
    """Correction sensitivity per kind, specificity on untouched intervals, RMSSD error."""
    true_t = injected.true_t_s
    found = output.beat_t_s if output.beat_t_s.size else np.array([np.inf])
    cluster_list = clusters(injected)
    trusted = np.ones(true_t.size, dtype=bool)
    for first, last, _ in cluster_list:
        trusted[first : last + 1] = False
    nearest = align(true_t, found, trusted)
    residual = found[nearest] - true_t
    true_rr = np.diff(true_t)
    local_rr = np.concatenate([[true_rr[0]], true_rr])  # RR ending at each true beat

    restored: dict[str, list[bool]] = {kind: [] for kind in KINDS}
    clustered_ok: list[bool] = []
    in_cluster = np.zeros(true_t.size, dtype=bool)
    for first, last, kinds in cluster_list:
        in_cluster[first : last + 1] = True
        span = slice(first, last + 1)
        offsets = residual[span] - residual[first]
        ok = bool(
            np.all(np.abs(offsets) <= TOLERANCE * local_rr[span]) and np.all(np.diff(nearest[span]) == 1)
        )
        for kind in kinds:
            restored[kind].append(ok)
        if len(kinds) > 1:
            clustered_ok += [ok] * len(kinds)
    both_outside = ~in_cluster[1:] & ~in_cluster[:-1]
    steps = np.diff(nearest)
    found_rr = np.diff(found[nearest]) if found.size > 1 else np.zeros(true_rr.size)
    kept = (steps == 1) & (np.abs(found_rr - true_rr) <= TOLERANCE * true_rr)
    specificity = float(np.mean(kept[both_outside])) if both_outside.any() else float("nan")
    truth = rmssd_ms(clean_ms)
    return Score(
        corrected={kind: (sum(values), len(values)) for kind, values in restored.items()},
        clustered=(sum(clustered_ok), len(clustered_ok)),
        specificity=specificity,
        rmssd_error_pct=100.0 * (rmssd_ms(output.rr_ms, output.segment_ids) / truth - 1.0),
        seconds=output.seconds,
    )
