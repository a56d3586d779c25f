"""Joint correction of a window of flagged intervals: the explanation of its beats that fits best (batch and
stream call the same function).

A window (:mod:`restbeat.signal.artifacts.windows`) is split into consecutive groups.  A group of n measured
intervals lasting T ms is either one interval kept as measured, or k beats re-timed: k > n means beats were
missed, k < n spurious beats, k = n beats moved.  The explanation is the sequence of groups with the lowest
cost, found by dynamic programming over (group, predecessor):

* every step from one beat to the next costs (ν + 1)/2 · ln(1 + (Δ/r)² / 2νs²), the negative log-likelihood
  of a Student t with ν = ``step_tail`` degrees of freedom.  The rhythm moves smoothly (s is the relative
  natural spread of a beat, from Th1, at least ``min_spread``), but its changes have heavy tails: a sinus
  pause or a sudden slowing is rare, not impossible, and a step twice as large still costs more.  The first
  step is from the last corrected beat before the window, the last to the first measured beat after it, so
  the rhythm is read locally, beat by beat: a missed beat is two beats of its neighbours' length, not of a
  distant average;
* every re-timed beat costs ((b - r)/r)² / 2·``level_spread``² against the rhythm r read from the reference
  intervals either side (interpolated across the window): an invented beat must be a plausible one;
* a re-timed group holds a flagged interval and at most one that detection passed (the compensatory pause
  of a premature beat often looks normal).  It costs ``artifact_cost`` for every spurious or missing beat,
  |k - n|, and ``moved_weight`` times that for every beat it moves, min(n, k) - 1 (``LATE_WEIGHT`` more
  when the beat came late: premature beats are common, late ones only mistimed).  It must have the shape of
  those artifacts: a missing beat leaves an interval at least ``missing_min`` beats long; a spurious beat a
  fragment at most ``extra_max`` beats long next to one it adds up with to about a beat; moved beats a
  short and a long interval (each ``moved_min`` off the straight line between the intervals either side, and
  cancelling each other: the group adds up to what its neighbours say).  A slow or fast stretch of the rhythm
  can add up to a whole number of beats; it does not have this shape.

k is read from the rhythm and from each neighbour of the group.  The class follows from the explanation, not
from the order of rules: k > n missed, k < n extra, k = n a moved beat (ectopic when detection saw an
ectopic pattern or a beat came ``PREMATURE_SHARE`` early or more, else long or short by the direction it
moved); a flagged interval kept alone is normal (a change of rhythm).  A re-timed group keeps its elapsed
time exactly; its beats follow the straight line from the beat before it to the beat after it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from restbeat.signal.artifacts.config import (
    DEFAULT_CONFIG,
    ECTOPIC,
    EXTRA,
    LONG,
    MISSED,
    NORMAL,
    SHORT,
    ArtifactConfig,
)

PREMATURE_SHARE = 0.2  # a moved beat this early (share of the rhythm) is premature: ectopic
FRAGMENTS_SUM_MAX = 1.5  # two fragments of a split interval add up to at most this many beats
LATE_WEIGHT = 1.3  # a moved group whose beat came late costs this much more (premature beats are common)
MOVED_CANCEL = 0.5  # moved beats' deviations from the line either side cancel to within this share
MAX_UNFLAGGED = 1  # intervals detection passed that one re-timed group may take in (a compensatory pause)
MIN_REFS = 2  # references a side needs to give the rhythm on its own
SINGLE_BEAT = (0.75, 1.35)  # a neighbour within this share of the rhythm is one beat: it can give k
#: Th1 = α·QD(dRR) and QD ≈ 0.674 σ(dRR) ≈ 0.674·√2·σ(RR): σ(RR) ≈ Th1 / (α·0.953)
SPREAD_PER_TH1 = 1.0 / (5.2 * 0.674 * math.sqrt(2.0))


@dataclass(frozen=True, slots=True)
class Group:
    """Intervals ``start``..``stop - 1`` of a window (offsets) hold ``beats`` beats of ``beats_ms`` (ms, their
    sum the group's duration); ``code`` is their class (NORMAL: a single interval left as measured)."""

    start: int
    stop: int
    beats: int
    code: int
    beats_ms: tuple[float, ...]

    @property
    def retimed(self) -> bool:
        return self.code != NORMAL


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0


def spread_from_th1(th1_ms: float, median_ms: float, config: ArtifactConfig = DEFAULT_CONFIG) -> float:
    """Relative natural spread of one interval from Th1 (ms), at least ``config.min_spread``."""
    if median_ms <= 0:
        return config.min_spread
    return max(config.min_spread, SPREAD_PER_TH1 * th1_ms / median_ms)


@dataclass(slots=True)
class _State:
    """The cheapest explanation of a window's first intervals that ends with a given group."""

    cost: float
    beat_ms: float  # length of the group's beats
    start: int
    beats: int
    previous: _State | None


def explain(
    values: Sequence[float],
    flagged: Sequence[bool],
    detected: Sequence[int],
    left: Sequence[float],
    right: Sequence[float],
    spread: float,
    fallback_ms: float,
    config: ArtifactConfig = DEFAULT_CONFIG,
) -> list[Group]:
    """The cheapest partition of a window's intervals (ms) into groups (see the module docstring).

    ``flagged`` marks detection's candidates, ``detected`` their detected classes; ``left`` and ``right``
    are the reference intervals (ms) either side, ``left[-1]`` the beat just before the window and
    ``right[0]`` the one just after; ``fallback_ms`` is the rhythm when neither side has any.
    """
    m = len(values)
    # the rhythm either side: the median of its references when there are at least two, else the median of
    # everything around (at the start of a recording the first beats may themselves be premature)
    r_left = _median(left) if len(left) >= MIN_REFS else None
    r_right = _median(right) if len(right) >= MIN_REFS else None
    if r_left is None and r_right is None:
        r_left = _median([*left, *values, *right]) or fallback_ms
    if r_left is None:
        r_left = r_right
    if r_right is None:
        r_right = r_left
    assert r_left is not None and r_right is not None
    cum = [0.0] * (m + 1)
    for i, value in enumerate(values):
        cum[i + 1] = cum[i] + value
    slope = (r_right - r_left) / (cum[m] or 1.0)
    tail = config.step_tail
    step_scale = 1.0 / (tail * 2.0 * spread * spread)
    step_factor = (tail + 1.0) / 2.0
    level_weight = 1.0 / (2.0 * config.level_spread**2)

    def step(a: float, b: float, rhythm: float) -> float:
        d = (b - a) / rhythm
        return step_factor * math.log1p(d * d * step_scale)

    ends: list[list[_State]] = [[] for _ in range(m + 1)]
    ends[0].append(_State(0.0, left[-1] if left else r_left, 0, 0, None))
    for j in range(1, m + 1):
        unflagged = 0
        for i in range(j - 1, max(-1, j - 1 - config.max_group), -1):
            unflagged += not flagged[i]
            n = j - i
            duration = cum[j] - cum[i]
            rhythm = r_left + slope * (cum[i] + cum[j]) / 2.0
            options: list[tuple[int, float]] = []
            if n == 1:
                options.append((1, 0.0))
            if unflagged <= MAX_UNFLAGGED and unflagged < n:
                options += _retimings(values, flagged, i, j, duration, rhythm, left, right, config)
            for k, own in options:
                beat = duration / k
                level = (beat - rhythm) / rhythm
                own_cost = own + k * level * level * level_weight if own else 0.0
                best: _State | None = None
                for prior in ends[i]:
                    cost = prior.cost + step(prior.beat_ms, beat, rhythm) + own_cost
                    if best is None or cost < best.cost:
                        best = _State(cost, beat, i, k, prior)
                if best is not None:
                    ends[j].append(best)
    after = right[0] if right else None
    final = min(
        ends[m],
        key=lambda state: state.cost + (step(state.beat_ms, after, r_right) if after is not None else 0.0),
    )
    path: list[_State] = []
    state: _State | None = final
    while state is not None and state.previous is not None:
        path.append(state)
        state = state.previous
    path.reverse()
    groups: list[Group] = []
    for index, chosen in enumerate(path):
        stop = path[index + 1].start if index + 1 < len(path) else m
        if chosen.beats == 1 and stop - chosen.start == 1:
            groups.append(Group(chosen.start, stop, 1, NORMAL, (values[chosen.start],)))
            continue
        before = groups[-1].beats_ms[-1] if groups else (left[-1] if left else r_left)
        after_beat = (
            path[index + 1].beat_ms if index + 1 < len(path) else (after if after is not None else r_right)
        )
        code = _class_of(values, detected, chosen.start, stop, chosen.beats)
        beats_ms = _ramp(cum[stop] - cum[chosen.start], chosen.beats, before, after_beat)
        groups.append(Group(chosen.start, stop, chosen.beats, code, beats_ms))
    return groups


def _ramp(duration: float, k: int, before: float, after: float) -> tuple[float, ...]:
    """k beats lasting ``duration`` ms in all, following the straight line from the beat before the group to
    the beat after it (a rhythm that speeds up or slows down across a few missed beats keeps doing so)."""
    weights = [before + (after - before) * p / (k + 1) for p in range(1, k + 1)]
    total = sum(weights)
    return tuple(duration * w / total for w in weights)


def _retimings(
    values: Sequence[float],
    flagged: Sequence[bool],
    i: int,
    j: int,
    duration: float,
    rhythm: float,
    left: Sequence[float],
    right: Sequence[float],
    config: ArtifactConfig,
) -> list[tuple[int, float]]:
    """(k, cost of the artifacts) for every way of reading intervals i..j-1 as k beats that has the shape of
    artifacts; k from the rhythm and from each neighbour that is one beat long."""
    n = j - i
    neighbours = [values[i - 1] if i > 0 else (left[-1] if left else None)]
    neighbours.append(values[j] if j < len(values) else (right[0] if right else None))
    candidates = {round(duration / rhythm)}
    for neighbour in neighbours:
        if neighbour is not None and SINGLE_BEAT[0] * rhythm <= neighbour <= SINGLE_BEAT[1] * rhythm:
            candidates.add(round(duration / neighbour))
    options = []
    for k in sorted(candidates):
        if k < 1 or (n == 1 and k == 1):
            continue
        # the moved-beat line needs measured, unflagged intervals either side (inside a cluster it cannot say)
        measured = (i == 0 or not flagged[i - 1]) and (j == len(values) or not flagged[j])
        line = _line(neighbours[0], neighbours[1], n) if measured else None
        if not _fits_shape(values, i, j, k, duration / k, rhythm, line, config):
            continue
        moved = config.moved_weight * (min(n, k) - 1)
        if k == n and _largest_shift(values, i, j, k) > 0:
            moved *= LATE_WEIGHT  # a beat timed late is rarer than a premature one
        options.append((k, config.artifact_cost * (abs(k - n) + moved)))
    return options


def _line(before: float | None, after: float | None, n: int) -> list[float] | None:
    """The straight line (ms) from the interval before a group of n to the one after it, at the group."""
    if before is None or after is None:
        return None
    return [before + (after - before) * (p + 1) / (n + 1) for p in range(n)]


def _fits_shape(
    values: Sequence[float],
    i: int,
    j: int,
    k: int,
    beat: float,
    rhythm: float,
    line: Sequence[float] | None,
    config: ArtifactConfig,
) -> bool:
    """Whether intervals i..j-1 have the shape of the artifacts that would make them k beats of ``beat`` ms
    (missing and spurious beats judged against the longer and the shorter of ``beat`` and ``rhythm``; moved
    beats against ``line``, the straight line between the measured intervals either side)."""
    n = j - i
    if k > n:
        return max(values[i:j]) >= config.missing_min * max(beat, rhythm)
    if k < n:
        # a spurious beat splits one interval into two fragments: one short, and the two about one beat
        whole = FRAGMENTS_SUM_MAX * max(beat, rhythm)
        return min(values[i:j]) <= config.extra_max * min(beat, rhythm) and any(
            values[p] + values[p + 1] <= whole for p in range(i, j - 1)
        )
    # a moved beat lengthens one interval and shortens another by the same amount: against the line between
    # the measured intervals either side, the deviations are opposite and cancel; a slowing or a quickening
    # (the rhythm stepping, with an overshoot) deviates one way more than the other.  Without such a line
    # the group's own mean is the line, and only the opposite deviations are asked for.
    reference = line if line is not None else [beat] * n
    deviations = [values[i + p] - reference[p] for p in range(n)]
    smallest = config.moved_min * beat
    opposite = max(deviations) >= smallest and min(deviations) <= -smallest
    return opposite and (line is None or abs(sum(deviations)) <= MOVED_CANCEL * sum(map(abs, deviations)))


def _largest_shift(values: Sequence[float], i: int, j: int, k: int) -> float:
    """The largest displacement (ms, + late, - early) of a measured beat inside intervals i..j-1 from where
    it belongs when they are k = n even beats."""
    part = sum(values[i:j]) / k
    elapsed, largest = 0.0, 0.0
    for p in range(i, j - 1):
        elapsed += values[p] - part
        if abs(elapsed) > abs(largest):
            largest = elapsed
    return largest


def _class_of(values: Sequence[float], detected: Sequence[int], i: int, j: int, k: int) -> int:
    """The class of a group of intervals i..j-1 read as k beats."""
    n = j - i
    if n == 1 and k == 1:
        return NORMAL
    if k > n:
        return MISSED
    if k < n:
        return EXTRA
    part = sum(values[i:j]) / k
    largest = _largest_shift(values, i, j, k)
    if largest <= -PREMATURE_SHARE * part or any(detected[p] == ECTOPIC for p in range(i, j)):
        return ECTOPIC
    return LONG if largest > 0 else SHORT
