"""Seeded artifact injection into a clean NN series, with ground truth, for the artifact evaluation.

Each event is placed at least 6 intervals from the next, at a random position, with a random type:

* ``ectopic``: a premature beat, RR_p shortened by 20-35 % and RR_{p+1} lengthened by the same amount
  (short then compensatory long; the pair keeps its total duration);
* ``missed``: a beat lost, RR_p and RR_{p+1} merged into one interval;
* ``extra``: a spurious beat, RR_p split into two at 25-75 %;
* ``long``: a beat timed late (a misaligned R-peak), RR_p lengthened by 15-30 % and RR_{p+1} shortened by
  the same amount;
* ``short``: a beat timed early, RR_p shortened by 15-30 % and RR_{p+1} lengthened by the same amount.

Long and short are Lipponen & Tarvainen's "long/short" (misaligned) beats.  An error in the timing of a
beat always moves one beat and so changes two intervals in opposite directions; a single interval that
changes without compensation is not produced by beat detection (only a missed or an extra beat changes one
interval, by about a whole beat), and in real recordings it is a genuine change of rhythm such as a sinus
pause.  ``ectopic`` and ``short`` have the same shape; ectopic beats are further premature (20-35 %).

``labels[i]`` gives the injected type of output interval i (0 = untouched), so detections can be scored
per interval and per event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

KINDS = ("ectopic", "missed", "extra", "long", "short")
MIN_SPACING = 6


@dataclass(frozen=True)
class Injected:
    """An NN series with artifacts, the type code of every interval and the events' interval indices."""

    rr_ms: NDArray[np.float64]
    labels: NDArray[np.int8]  # 0 untouched, else 1 + index in KINDS
    events: tuple[tuple[int, tuple[int, ...]], ...]  # (kind code, affected output indices)


def inject(clean_ms: NDArray[np.float64], rate: float, seed: int, kinds: tuple[str, ...] = KINDS) -> Injected:
    """Inject ``rate`` x len(clean) events of random types (from ``kinds``) into a copy of ``clean_ms``."""
    rng = np.random.default_rng(seed)
    allowed = np.array([KINDS.index(kind) for kind in kinds])
    n = clean_ms.size
    count = round(rate * n)
    candidates = np.arange(10, n - 10, MIN_SPACING)
    positions = np.sort(rng.choice(candidates, size=min(count, candidates.size), replace=False))
    chosen = allowed[rng.integers(0, allowed.size, size=positions.size)]
    rr: list[float] = []
    labels: list[int] = []
    events: list[tuple[int, tuple[int, ...]]] = []
    cursor = 0
    for position, kind_index in zip(positions.tolist(), chosen.tolist(), strict=True):
        rr.extend(clean_ms[cursor:position].tolist())
        labels.extend([0] * (position - cursor))
        code = kind_index + 1
        value = float(clean_ms[position])
        start = len(rr)
        kind = KINDS[kind_index]
        if kind == "ectopic":
            shift = rng.uniform(0.20, 0.35) * value
            rr += [value - shift, float(clean_ms[position + 1]) + shift]
            cursor = position + 2
        elif kind == "missed":
            rr.append(value + float(clean_ms[position + 1]))
            cursor = position + 2
        elif kind == "extra":
            fraction = rng.uniform(0.25, 0.75)
            rr += [value * fraction, value * (1 - fraction)]
            cursor = position + 1
        else:
            shift = rng.uniform(0.15, 0.30) * value * (1.0 if kind == "long" else -1.0)
            rr += [value + shift, float(clean_ms[position + 1]) - shift]
            cursor = position + 2
        affected = tuple(range(start, len(rr)))
        labels.extend([code] * len(affected))
        events.append((code, affected))
    rr.extend(clean_ms[cursor:].tolist())
    labels.extend([0] * (n - cursor))
    return Injected(np.asarray(rr), np.asarray(labels, dtype=np.int8), tuple(events))
