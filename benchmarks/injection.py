"""Seeded artifact injection into a clean NN series, with the true beat times, for the artifact evaluation.

Artifacts are operations on the beat times a detector would report, applied one after another to the
current (already damaged) series, so later ones act on earlier ones and they may touch or stack:

* ``ectopic``: a premature beat, moved earlier by 15-45 % of the interval before it (the compensatory
  pause follows by itself);
* ``missed``: one beat lost, or two in a row (30 % of missed events);
* ``extra``: a spurious beat inserted at 20-80 % of an interval;
* ``long``: a beat timed late by 10-35 % of the interval after it (a misaligned R peak);
* ``short``: a beat timed early by 10-35 % of the interval before it.

Positions are uniform at random, and with probability ``cluster_probability`` (drawn per series from
0.2-0.6 unless given) an event is placed 1-4 beats from an earlier one, so clusters are common even at low
rates.  Nothing keeps events apart; only a pile-up is avoided: a place that already holds ``MAX_STACK`` (2)
events within 2 beats is not chosen again (at 10 % a cluster would otherwise grow to dozens of events on a
dozen beats, a stretch no method should correct rather than exclude).  ``clustered_share`` reports the share
of events within 4 beats of another.

Every event records the span it damaged: from the beat before it to the beat after it at the time it was
applied (s).  The scorer joins overlapping spans into clusters and asks whether the corrected series has
the true beats there (:mod:`benchmarks.artifact_scoring`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

KINDS = ("ectopic", "missed", "extra", "long", "short")
EARLY_ECTOPIC = (0.15, 0.45)  # share of the interval before
EXTRA_SPLIT = (0.20, 0.80)  # where in the interval the spurious beat falls
MISALIGNED = (0.10, 0.35)  # long/short: share of the neighbouring interval
DOUBLE_MISSED_SHARE = 0.3
CLUSTER_PROBABILITY = (0.2, 0.6)
CLUSTER_REACH = 4  # beats
EDGE = 4  # beats at either end that are never touched (a detector needs a little history)
MAX_STACK = 2  # events already within 2 beats of a place that keep a new one away


@dataclass(frozen=True)
class Event:
    """One injected artifact: its kind and the time span (s) it damaged, neighbours included."""

    kind: str
    start_s: float
    stop_s: float


@dataclass(frozen=True)
class Injected:
    """A damaged series: intervals (ms), the true beat times (s) and the events applied."""

    rr_ms: NDArray[np.float64]
    true_t_s: NDArray[np.float64]
    events: tuple[Event, ...]
    clustered_share: float


def inject(
    clean_ms: NDArray[np.float64],
    rate: float,
    seed: int,
    kinds: tuple[str, ...] = KINDS,
    cluster_probability: float | None = None,
) -> Injected:
    """Apply round(rate x len(clean)) random artifacts to the beats of ``clean_ms`` (ms); first beat at 0."""
    rng = np.random.default_rng(seed)
    true_t = np.concatenate([[0.0], np.cumsum(clean_ms) / 1000.0])
    beats: list[float] = true_t.tolist()
    if cluster_probability is None:
        cluster_probability = float(rng.uniform(*CLUSTER_PROBABILITY))
    events: list[Event] = []
    anchors: list[float] = []
    anchors_sorted: list[float] = []
    for _ in range(round(rate * clean_ms.size)):
        if len(beats) < 2 * EDGE + 4:
            break
        for _attempt in range(20):
            if anchors and rng.random() < cluster_probability:
                anchor = anchors[int(rng.integers(len(anchors)))]
                near = bisect.bisect_left(beats, anchor)
                p = near + int(rng.choice([-1, 1])) * int(rng.integers(1, CLUSTER_REACH + 1))
            else:
                p = int(rng.integers(EDGE, len(beats) - EDGE))
            p = min(max(p, EDGE), len(beats) - EDGE - 1)
            lo, hi = beats[p - 2], beats[min(p + 2, len(beats) - 1)]
            if bisect.bisect_right(anchors_sorted, hi) - bisect.bisect_left(anchors_sorted, lo) < MAX_STACK:
                break
        kind = kinds[int(rng.integers(len(kinds)))]
        events.append(_apply(beats, p, kind, rng))
        anchors.append(beats[min(p, len(beats) - 1)])
        bisect.insort(anchors_sorted, anchors[-1])
    observed = np.asarray(beats)
    return Injected(
        rr_ms=np.diff(observed) * 1000.0,
        true_t_s=true_t,
        events=tuple(events),
        clustered_share=_clustered_share(true_t, events),
    )


def _apply(beats: list[float], p: int, kind: str, rng: np.random.Generator) -> Event:
    """Damage the beat list at index ``p`` in place; the event with its span."""
    before, here, after = beats[p - 1], beats[p], beats[p + 1]
    if kind == "ectopic":
        beats[p] = here - rng.uniform(*EARLY_ECTOPIC) * (here - before)
    elif kind == "short":
        beats[p] = here - rng.uniform(*MISALIGNED) * (here - before)
    elif kind == "long":
        beats[p] = here + rng.uniform(*MISALIGNED) * (after - here)
    elif kind == "extra":
        beats.insert(p + 1, here + rng.uniform(*EXTRA_SPLIT) * (after - here))
        return Event(kind, here, after)
    elif kind == "missed":
        lost = 2 if rng.random() < DOUBLE_MISSED_SHARE else 1
        after = beats[p + lost]
        del beats[p : p + lost]
    else:
        raise ValueError(f"unknown artifact kind {kind!r}")
    return Event(kind, before, after)


def _clustered_share(true_t: NDArray[np.float64], events: list[Event]) -> float:
    """Share of events whose span lies within ``CLUSTER_REACH`` true beats of another event's span."""
    if len(events) < 2:
        return 0.0
    starts = np.searchsorted(true_t, [e.start_s for e in events], side="right") - 1
    stops = np.searchsorted(true_t, [e.stop_s for e in events], side="left")
    gaps = np.maximum(starts[None, :] - stops[:, None], starts[:, None] - stops[None, :])
    np.fill_diagonal(gaps, np.iinfo(gaps.dtype).max)
    return float(np.mean(gaps.min(axis=1) <= CLUSTER_REACH))
