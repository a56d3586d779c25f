"""RR artifact detection and correction after Lipponen & Tarvainen (2019), batch (vectorised numpy).

Detection (J Med Eng Technol 43(3):173-181, the Kubios "automatic" method), for interval j of a segment:

* dRR_j = RR_j - RR_{j-1}, normalised by Th1_j = α·QD(dRR) over 91 beats centred on j (α = 5.2,
  QD = (Q3 - Q1)/2 of the signed series, linear quartiles, ends mirrored);
* mRR_j = RR_j - median of the 11 intervals centred on j, doubled when negative, normalised by
  Th2_j = α·QD(|mRR|);  both thresholds are capped at 30 % of the local median (dense ectopy);
* S1 ectopic: |dRR_j| > 1.6 and S12 beyond -c1·dRR_j ∓ c2 (c1 = 0.13, c2 = 0.17);
* S2 long/short: |dRR_j| > 1.6 and S22 past ∓1, or |mRR_j| > 3;
* missed: long and |RR_j/2 - med_j| below max(Th2_j, 10 % of med_j); extra: short and
  |RR_j + RR_{j+1} - med_j| below the same tolerance.

Every interval is classified from its own local features, so the streaming detector
(:mod:`restbeat.signal.artifact_stream`) applies the same rule function (:func:`classify_one`).

Correction (:class:`Resolver`, shared with the stream) is time-preserving: extra beats are merged, missed
beats split, and an ectopic, long or short interval that adds up with a neighbour to two beats, the two
deviating in opposite directions, is re-split with it (its displaced beat moves back between its
neighbours); a couplet of premature beats and its pause is spread over three beats.  A long or short
interval that nothing makes up for is a change of rhythm, not a timing error, and stays as measured.
Batch runs a second pass where the first corrected many intervals (its thresholds were inflated there).

A plausibility stage runs first (:func:`plausibility`); corrected intervals outside 300-2000 ms are
excluded; every exclusion starts a new segment.  docs/artifacts.md gives every rule, the reasons for the
departures from the published description and the measurements behind them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from restbeat.beats import BeatClass, BeatQuality
from restbeat.signal._arrays import BoolArray, FloatArray, IntArray, as_float_array

#: Integer codes of the classes, in :class:`BeatClass` order, for vectorised work.
CLASSES: tuple[BeatClass, ...] = tuple(BeatClass)
CODE = {cls: i for i, cls in enumerate(CLASSES)}
NORMAL, ECTOPIC, MISSED, EXTRA, LONG, SHORT = (
    CODE[c]
    for c in (
        BeatClass.NORMAL,
        BeatClass.ECTOPIC,
        BeatClass.MISSED,
        BeatClass.EXTRA,
        BeatClass.LONG,
        BeatClass.SHORT,
    )
)
_MIN_SEGMENT = 5  # shorter segments are passed through unclassified
MISSED_LIKE_RATIO = 1.5  # an uncompensated long interval this many medians long holds missed beats
EXTRA_LIKE_RATIO = 0.6  # an uncompensated short interval below this many medians is a fragment of a beat
ONE_BEAT_RANGE = (0.75, 1.35)  # two fragments make one beat when their sum is in this range (x median)
PREMATURE_RATIO = 0.8  # an interval below this many medians ends a premature beat (couplet test)
SLOWED_RATIO = 0.75  # a long interval followed by two at least 0.75 x as long is a slowing, not a missed beat
DENSE_CORRECTED = 8  # corrected intervals in a 91-beat window that make a second pass worth it
_EXACT_PAD = 60  # intervals either side of an active part: features inside are those of the whole series
_JOIN_GAP = 400  # slices closer than this (intervals) are passed as one (fewer, larger numpy calls)
SPLIT_TOLERANCE = 0.25  # the parts of a split missed-beat interval are within 25 % of the beats around it
MIN_SHIFT = 0.05  # a misaligned pair moves its beat by more than this share of the rhythm (a ramp does not)


@dataclass(frozen=True, slots=True)
class ArtifactConfig:
    """Parameters of detection and of the plausibility stage (ms, beats).

    ``junk_below_ms``: no interval this short is a beat or a fragment a strap could time (< 100 ms).
    ``gap_above_ms``: a longer interval means beats were lost, not missed by one or two: a gap.
    ``min_rr_ms``/``max_rr_ms``: the physiological range a corrected interval must fall in.
    ``bogus_ratio``: a strap-appended interval shorter than this fraction of the one before it in the same
    notification is transmission junk (Garmin HRM-Dual sends ``1069, 53``).
    ``beat_tolerance``: the missed and extra tests accept |RR/2 - med| or |RR_j + RR_j+1 - med| below
    max(Th2, this fraction of the median): Th2 alone collapses on quantised, steady stretches.
    ``pair_tolerance``: a misaligned pair must add up to its outer neighbours within max(Th2, this fraction
    of the median).
    """

    alpha: float = 5.2
    threshold_window: int = 91
    median_window: int = 11
    c1: float = 0.13
    c2: float = 0.17
    min_rr_ms: float = 300.0
    max_rr_ms: float = 2000.0
    junk_below_ms: float = 100.0
    gap_above_ms: float = 3000.0
    bogus_ratio: float = 0.25
    beat_tolerance: float = 0.1
    ectopic_min_d: float = 1.6
    long_short_min_d: float = 1.6
    pair_tolerance: float = 0.15
    passes: int = 2
    threshold_cap: float = 0.3


DEFAULT_CONFIG = ArtifactConfig()


# --- detection -------------------------------------------------------------------------------------------


def rolling_quartile_deviation(values: FloatArray, window: int) -> FloatArray:
    """(Q3 - Q1)/2 over ``window`` samples centred on each sample; ends mirrored; linear quartiles."""
    from scipy.ndimage import rank_filter

    size = min(window, values.size if values.size % 2 else values.size - 1)
    size = max(size, 1)
    quartiles = []
    for q in (0.25, 0.75):
        position = q * (size - 1)
        low = math.floor(position)
        frac = position - low
        lower = rank_filter(values, low, size=size, mode="mirror")
        if frac == 0.0:
            quartiles.append(lower)
        else:
            upper = rank_filter(values, low + 1, size=size, mode="mirror")
            quartiles.append(lower + frac * (upper - lower))
    return np.asarray((quartiles[1] - quartiles[0]) / 2.0, dtype=np.float64)


def rolling_median(values: FloatArray, window: int) -> FloatArray:
    """Median over ``window`` samples centred on each sample, ends mirrored."""
    from scipy.ndimage import median_filter

    size = max(1, min(window, values.size if values.size % 2 else values.size - 1))
    return np.asarray(median_filter(values, size=size, mode="mirror"), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Features:
    """Normalised dRR and mRR with the local median and Th2 (ms) of every interval of a segment."""

    rr: FloatArray
    d: FloatArray
    m: FloatArray
    median: FloatArray
    th2: FloatArray


def _normalise(values: FloatArray, threshold: FloatArray) -> FloatArray:
    out = np.zeros_like(values)
    np.divide(values, threshold, out=out, where=threshold > 0)
    return out


def features(rr_ms: FloatArray, config: ArtifactConfig = DEFAULT_CONFIG) -> Features:
    """Centred-window features of one contiguous segment (batch)."""
    rr = as_float_array(rr_ms)
    drr = np.empty_like(rr)
    drr[1:] = np.diff(rr)
    drr[0] = drr[1:].mean() if rr.size > 1 else 0.0
    median = rolling_median(rr, config.median_window)
    th1 = np.minimum(
        config.alpha * rolling_quartile_deviation(drr, config.threshold_window), config.threshold_cap * median
    )
    mrr = rr - median
    mrr[mrr < 0] *= 2.0
    th2 = np.minimum(
        config.alpha * rolling_quartile_deviation(np.abs(mrr), config.threshold_window),
        config.threshold_cap * median,
    )
    return Features(rr=rr, d=_normalise(drr, th1), m=_normalise(mrr, th2), median=median, th2=th2)


def classify(f: Features, config: ArtifactConfig = DEFAULT_CONFIG) -> NDArray[np.int8]:
    """Class code of every interval from its features (see the module docstring); vectorised."""
    d, m, rr, med, th2 = f.d, f.m, f.rr, f.median, f.th2
    n = d.size
    padded = np.pad(d, 2, mode="reflect") if n > 2 else np.pad(d, 2, mode="edge")
    before, after, after2 = padded[1 : n + 1], padded[3 : n + 3], padded[4 : n + 4]
    s12 = np.where(d > 0, np.maximum(before, after), np.minimum(before, after))
    s22 = np.where(d >= 0, np.minimum(after, after2), np.maximum(after, after2))
    k = config.ectopic_min_d
    ectopic = ((d > k) & (s12 < -config.c1 * d - config.c2)) | ((d < -k) & (s12 > -config.c1 * d + config.c2))
    long = (d > config.long_short_min_d) & (s22 < -1)
    short = (d < -config.long_short_min_d) & (s22 > 1)
    off_median = np.abs(m) > 3
    rr_next = np.append(rr[1:], np.inf)
    tolerance = np.maximum(th2, config.beat_tolerance * med)
    extra = short & (np.abs(rr + rr_next - med) < tolerance)
    missed = long & ~extra & (np.abs(rr / 2 - med) < tolerance)
    longshort = (long | short | off_median) & ~extra & ~missed
    is_long = long | (~short & (m > 0))
    codes = np.full(n, NORMAL, dtype=np.int8)
    codes[longshort & is_long] = LONG
    codes[longshort & ~is_long] = SHORT
    codes[missed] = MISSED
    codes[extra] = EXTRA
    codes[ectopic] = ECTOPIC
    return codes


def classify_one(
    d_prev: float,
    d: float,
    d_next: float,
    d_next2: float,
    m: float,
    rr: float,
    rr_next: float,
    median: float,
    th2: float,
    config: ArtifactConfig = DEFAULT_CONFIG,
) -> int:
    """The rules of :func:`classify` for one interval (used by the streaming detector)."""
    k = config.ectopic_min_d
    if d > k:
        if max(d_prev, d_next) < -config.c1 * d - config.c2:
            return ECTOPIC
    elif d < -k and min(d_prev, d_next) > -config.c1 * d + config.c2:
        return ECTOPIC
    s22 = min(d_next, d_next2) if d >= 0 else max(d_next, d_next2)
    long = d > config.long_short_min_d and s22 < -1
    short = d < -config.long_short_min_d and s22 > 1
    if not (long or short or abs(m) > 3):
        return NORMAL
    tolerance = max(th2, config.beat_tolerance * median)
    if short and abs(rr + rr_next - median) < tolerance:
        return EXTRA
    if long and abs(rr / 2 - median) < tolerance:
        return MISSED
    return LONG if long or (not short and m > 0) else SHORT


# --- correction ------------------------------------------------------------------------------------------


class Buffer(Protocol):
    """Indexable storage the resolver works in: numpy arrays (batch) or lists (stream)."""

    def __getitem__(self, index: int) -> Any: ...
    def __setitem__(self, index: int, value: Any) -> None: ...
    def __len__(self) -> int: ...


@dataclass
class Resolver:
    """Applies the corrections of flagged intervals to mutable buffers (shared by batch and stream).

    ``out`` holds current values (ms), ``t`` the time (s) of the beat ending each interval, ``code`` the
    detected class, ``kind`` the class an output interval is reported with, ``done`` marks intervals
    already corrected (as a partner or by a merge), ``deleted`` merged-away intervals, ``parts`` the number
    of equal parts of a split interval.  ``lo`` is the first index that may still be changed (the stream
    has emitted everything before it).
    """

    out: Buffer
    t: Buffer
    code: Buffer
    median: Buffer
    th2: Buffer
    pair_tolerance: float
    kind: Buffer
    done: Buffer
    deleted: Buffer
    parts: Buffer

    def _interpolate(self, j: int, lo: int, hi: int) -> float:
        """Mean of the nearest unflagged neighbours on each side, else the local median."""
        neighbours = [
            self.out[p]
            for p in (j - 1, j + 1)
            if lo <= p <= hi and self.code[p] == NORMAL and not self.deleted[p]
        ]
        return float(sum(neighbours) / len(neighbours)) if neighbours else float(self.median[j])

    def _first_share(self, first: int) -> float:
        """Share of a misaligned pair's total given to its first interval: in proportion to the intervals
        around the pair when both are normal (the local trend of the rhythm), else half."""
        before, after = first - 1, first + 2
        if (
            self._usable(before)
            and self._usable(after)
            and self.code[before] == NORMAL
            and self.code[after] == NORMAL
        ):
            return float(self.out[before] / (self.out[before] + self.out[after]))
        return 0.5

    def _usable(self, index: int) -> bool:
        """An interval whose current value can serve as a reference (not merged away, not split)."""
        return 0 <= index < len(self.out) and not self.deleted[index] and self.parts[index] == 1

    def _measured(self, index: int) -> bool:
        """A usable interval whose value is still the measured one."""
        return self._usable(index) and self.kind[index] == NORMAL

    def pair_error(self, first: int, median: float) -> float:
        """How far intervals ``first`` and ``first + 1`` are (ms) from adding up to two beats.

        References: the two measured intervals around the pair (in sinus rhythm two normal beats; in
        bigeminy or trigeminy the same short-plus-long sum, where the median flips between the short and the
        long interval); and, only where those are missing or the interval after the pair is itself premature
        (the start of a run of ectopic beats), the previous pair when it is still measured or was corrected as
        a pair; two medians when neither exists.  A reference never mixes a corrected value with a measured
        one.  (Any two normal intervals add up to about two beats, so the previous pair is no evidence when
        the neighbours say otherwise: a premature beat would pair with the wrong side.)
        """
        out = self.out
        total = out[first] + out[first + 1]
        references = []
        before, after = first - 1, first + 2
        neighbours = self._measured(before) and self._measured(after)
        if neighbours:
            references.append(out[before] + out[after])
        a, b = first - 2, first - 1
        if (
            (not neighbours or out[after] < PREMATURE_RATIO * median)
            and self._usable(a)
            and self._usable(b)
            and (self.kind[a] == NORMAL) == (self.kind[b] == NORMAL)
        ):
            references.append(out[a] + out[b])
        if not references:
            references.append(2.0 * median)
        return float(min(abs(total - reference) for reference in references))

    def _opposed(self, first: int) -> bool:
        """True when intervals ``first`` and ``first + 1`` deviate in opposite directions, each by more than
        ``MIN_SHIFT`` of the rhythm, from the straight line through the measured intervals either side: a
        moved beat lengthens one and shortens the other, while a slowing, a quickening or a ramp moves both
        the same way or not at all (any ramp adds up like a misaligned pair).  True when either side is not
        a measured interval (inside a run of ectopic beats)."""
        before, after = first - 1, first + 2
        if not (self._measured(before) and self._measured(after)):
            return True
        left, right = self.out[before], self.out[after]
        step = (right - left) / 3.0
        first_shift = self.out[first] - (left + step)
        second_shift = self.out[first + 1] - (left + 2.0 * step)
        smallest = MIN_SHIFT * (left + right) / 2.0
        return bool(first_shift * second_shift < 0 and min(abs(first_shift), abs(second_shift)) > smallest)

    def _fragment_partner(self, j: int, median: float, lo: int, hi: int) -> tuple[int, float]:
        """The neighbour a short interval would merge with to make one beat, and the relative error of that
        beat (against the measured intervals around it, else the median); (-1, inf) when none qualifies.

        One of the two must look like a fragment (below ``EXTRA_LIKE_RATIO`` medians, or flagged short) and
        their sum must be one beat (``ONE_BEAT_RANGE`` of the reference)."""
        out = self.out
        best, best_error = -1, math.inf
        for p in (j + 1, j - 1):
            if not (lo <= p <= hi) or self.done[p] or self.deleted[p]:
                continue
            whole = out[j] + out[p]
            fragment = min(out[j], out[p]) < EXTRA_LIKE_RATIO * median or self.code[p] == SHORT
            before, after = min(j, p) - 1, max(j, p) + 1
            if self._measured(before) and self._measured(after):
                reference = (out[before] + out[after]) / 2.0
            else:
                reference = median
            if not fragment or not ONE_BEAT_RANGE[0] * reference <= whole <= ONE_BEAT_RANGE[1] * reference:
                continue
            error = abs(whole - reference) / reference
            if error < best_error:
                best, best_error = p, error
        return best, best_error

    def _merge(self, j: int, p: int) -> None:
        """Merge interval ``j`` with its neighbour ``p`` (an extra beat between them is removed)."""
        keep, drop = max(j, p), min(j, p)
        self.out[keep] += self.out[drop]
        self.deleted[drop] = True
        self.done[keep] = self.done[drop] = True
        self.kind[keep] = EXTRA
        self.code[j] = EXTRA

    def _resolve_single(self, j: int, code: int, median: float, lo: int, hi: int) -> None:
        """A flagged interval whose neighbours do not make up for it (no misaligned pair)."""
        if code == ECTOPIC:
            self.kind[j] = code
            self.out[j] = self._interpolate(j, lo, hi)
        elif (
            code == LONG
            and self.out[j] >= MISSED_LIKE_RATIO * median
            and (parts := self._missed_parts(j, median, hi))
        ):
            self.kind[j] = code
            self.parts[j] = parts
        else:
            # an uncompensated change of rhythm (a sinus pause, a sudden slowing): physiology, not an error of
            # beat timing, which always moves one beat and so changes two intervals in opposite directions
            self.code[j] = NORMAL
            return
        self.done[j] = True

    def _missed_parts(self, j: int, median: float, hi: int) -> int:
        """How many beats long interval ``j`` holds when it holds missed beats, else 0.

        The reference beat is the mean of the measured intervals around it (else the median, which lags
        behind a change of rhythm); the interval is split into k = round(RR / reference) >= 2 equal parts,
        each of which must be within ``SPLIT_TOLERANCE`` of the reference, and the rhythm must not simply have
        slowed (:meth:`_slowed`).  A sinus pause such as 750, 1102, 867 ms passes the published test when
        Th2 is wide, but its halves (551 ms) fit nothing."""
        if self._slowed(j, hi):
            return 0
        before, after = j - 1, j + 1
        if self._measured(before) and after <= hi and self._measured(after):
            reference = (self.out[before] + self.out[after]) / 2.0
        else:
            reference = median
        parts = max(2, round(self.out[j] / reference))
        fits = abs(self.out[j] / parts - reference) <= SPLIT_TOLERANCE * reference
        return parts if fits else 0

    def _slowed(self, j: int, hi: int) -> bool:
        """True when the two intervals after ``j`` are as long as it, within ``SLOWED_RATIO``: the rhythm
        slowed, and a long interval is not a missed beat (after a missed beat the next ones are about half
        as long).  The causal median of the stream lags behind such a step; this test does not."""
        following = [
            self.out[p] / self.parts[p]
            for p in (j + 1, j + 2)
            if p <= hi and p < len(self.out) and not self.deleted[p]
        ]
        return len(following) == 2 and min(following) >= SLOWED_RATIO * self.out[j]

    def _couplet(self, first: int, median: float, th2: float, lo: int, hi: int) -> bool:
        """Intervals ``first`` and ``first + 1`` premature and ``first + 2`` long: a couplet of premature
        beats and its compensatory pause.  When the three add up to three beats (within the pair tolerance)
        they are spread evenly over three beats, both premature beats moving back into the rhythm; True if
        done."""
        cluster = (first, first + 1, first + 2)
        if first < lo or first + 2 > hi:
            return False
        if any(self.done[p] or self.deleted[p] or self.parts[p] != 1 for p in cluster):
            return False
        out = self.out
        if not (out[first] < PREMATURE_RATIO * median and out[first + 1] < PREMATURE_RATIO * median):
            return False
        total = out[first] + out[first + 1] + out[first + 2]
        if out[first + 2] <= median or abs(total - 3.0 * median) >= max(th2, self.pair_tolerance * median):
            return False
        part = total / 3.0
        end = self.t[first + 2]
        for offset, index in enumerate(cluster):
            out[index] = part
            self.t[index] = end - (2 - offset) * part / 1000.0
            self.kind[index] = ECTOPIC
            self.done[index] = True
            if self.code[index] != NORMAL:
                self.code[index] = ECTOPIC
        return True

    def resolve(self, j: int, lo: int, hi: int) -> None:
        """Correct interval ``j`` given that indices ``lo``..``hi`` (inclusive) may be changed."""
        code = self.code[j]
        if code == NORMAL or self.done[j]:
            return
        out = self.out
        if code == EXTRA and j + 1 <= hi and not self.done[j + 1]:
            out[j + 1] += out[j]
            self.deleted[j] = True
            self.done[j] = self.done[j + 1] = True
            self.kind[j + 1] = EXTRA
            return
        median, th2 = self.median[j], self.th2[j]
        firsts = (j - 2,) if out[j] > median else (j, j - 1)  # where a couplet holding j would start
        if code != EXTRA and any(self._couplet(first, median, th2, lo, hi) for first in firsts):
            return
        missed_parts = self._missed_parts(j, median, hi) if code == MISSED else 0
        if code == MISSED and not missed_parts:
            code = self.code[j] = LONG
        tolerance = max(th2, self.pair_tolerance * median)
        best, best_error = -1, tolerance
        # the partner is the side that makes the better pair: the premature beat before a compensatory pause,
        # the short interval after a late beat
        for p in (j - 1, j + 1):
            if lo <= p <= hi and not self.done[p] and not self.deleted[p] and self._opposed(min(j, p)):
                error = self.pair_error(min(j, p), median)
                if error < best_error:
                    best, best_error = p, error
        if code == SHORT:
            # a short interval may be a fragment (an extra beat the L-T test missed) rather than half of a
            # misaligned pair: take whichever reading fits its surroundings better
            fragment_with, fragment_error = self._fragment_partner(j, median, lo, hi)
            pair_relative = best_error / (2.0 * median) if best >= 0 else math.inf
            if fragment_with >= 0 and fragment_error <= pair_relative:
                self._merge(j, fragment_with)
                return
        if code == MISSED:
            if best < 0:
                self.parts[j] = missed_parts
                self.done[j] = True
                self.kind[j] = MISSED
                return
            # a late beat and the short interval after it that add up to two beats: a misaligned pair, not a
            # missed beat (the median lags at a change of rhythm, and a split would fit the short neighbour)
            code = self.code[j] = LONG
        if best < 0:
            self._resolve_single(j, code, median, lo, hi)
            return
        self.done[j] = True
        pair_kind = ECTOPIC if ECTOPIC in (code, self.code[best]) else code
        self.kind[j] = pair_kind
        first, second = min(j, best), max(j, best)
        total = out[first] + out[second]
        out[first] = total * self._first_share(first)
        out[second] = total - out[first]
        self.t[first] = self.t[second] - out[second] / 1000.0
        self.done[best] = True
        self.kind[best] = pair_kind


# --- plausibility ----------------------------------------------------------------------------------------


def plausibility(
    rr_ms: FloatArray,
    contact: NDArray[np.bool_] | None = None,
    first_after_connect: BoolArray | None = None,
    follows_in_packet: BoolArray | None = None,
    config: ArtifactConfig = DEFAULT_CONFIG,
) -> NDArray[np.int8]:
    """Class codes of the plausibility stage: NORMAL for intervals that go on to detection.

    ``contact`` False marks intervals measured without skin contact (NO_CONTACT; kept but not analysed);
    ``first_after_connect`` marks the first interval of each connection (it may span the connect);
    ``follows_in_packet`` marks intervals that came after another one in the same BLE notification.
    Intervals shorter than ``junk_below_ms`` or longer than ``gap_above_ms`` are OUT_OF_RANGE.
    """
    rr = as_float_array(rr_ms)
    codes = np.full(rr.size, NORMAL, dtype=np.int8)
    codes[(rr < config.junk_below_ms) | (rr > config.gap_above_ms)] = CODE[BeatClass.OUT_OF_RANGE]
    if follows_in_packet is not None and rr.size > 1:
        previous = np.concatenate([[np.inf], rr[:-1]])
        bogus = np.asarray(follows_in_packet, dtype=bool) & (rr < config.bogus_ratio * previous)
        codes[bogus] = CODE[BeatClass.BOGUS_SHORT]
    if first_after_connect is not None:
        codes[np.asarray(first_after_connect, dtype=bool)] = CODE[BeatClass.FIRST_AFTER_CONNECT]
    if contact is not None:
        codes[~np.asarray(contact, dtype=bool)] = CODE[BeatClass.NO_CONTACT]
    return codes


# --- batch entry point -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorrectedSeries:
    """Result of artifact correction.

    Output intervals (``rr_ms``, ``t_s``, ``segment_ids``, ``quality``, ``kind``) are what HRV is computed
    from; excluded intervals are not in them.  ``source`` is the input interval each output interval came
    from (a split interval gives several, a merged pair is credited to its second interval).
    ``input_class`` is the class detected for every *input* interval, and ``counts`` tallies it (the numbers
    `restbeat analyze` reports).  ``dropped_t_s`` and ``dropped_rr_ms`` are the output intervals removed
    because even after correction they were outside the physiological range (they break the segment).
    """

    rr_ms: FloatArray
    t_s: FloatArray
    segment_ids: IntArray
    quality: NDArray[np.int8]
    kind: NDArray[np.int8]
    source: IntArray
    input_class: NDArray[np.int8]
    counts: dict[BeatClass, int]
    dropped_t_s: FloatArray = field(default_factory=lambda: np.zeros(0))
    dropped_rr_ms: FloatArray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_corrected(self) -> int:
        """Output intervals whose value was changed by correction."""
        return int(np.count_nonzero(self.quality == BeatQuality.CORRECTED))


def _segment_bounds(segment_ids: IntArray) -> list[tuple[int, int]]:
    if segment_ids.size == 0:
        return []
    starts = np.flatnonzero(np.diff(segment_ids)) + 1
    edges = [0, *starts.tolist(), int(segment_ids.size)]
    return list(itertools.pairwise(edges))


def _split_at_excluded(segment_ids: IntArray, excluded: BoolArray) -> IntArray:
    """New segment ids so that every run between excluded intervals is its own segment."""
    boundary = np.zeros(segment_ids.size, dtype=bool)
    boundary[1:] = (segment_ids[1:] != segment_ids[:-1]) | excluded[:-1] | excluded[1:]
    return np.cumsum(boundary).astype(np.int64)


@dataclass(frozen=True)
class _Pass:
    """One detection and correction pass over a contiguous segment.

    ``source[k]`` is the input interval output interval k came from; ``codes`` is the final class of every
    input interval (a flagged interval can turn out normal).
    """

    values: FloatArray
    times: FloatArray
    kinds: NDArray[np.int8]
    corrected: BoolArray
    source: IntArray
    codes: NDArray[np.int8]


def _one_pass(
    rr: FloatArray, times: FloatArray, config: ArtifactConfig, active: BoolArray | None = None
) -> _Pass:
    """Detect and correct once; only intervals where ``active`` is True may be flagged (all by default)."""
    n = rr.size
    if n < _MIN_SEGMENT:
        return _Pass(
            rr,
            times,
            np.full(n, NORMAL, np.int8),
            np.zeros(n, bool),
            np.arange(n),
            np.full(n, NORMAL, np.int8),
        )
    f = features(rr, config)
    codes = classify(f, config)
    if active is not None:
        codes[~active] = NORMAL
    flagged = np.flatnonzero(codes != NORMAL)
    if flagged.size == 0:
        return _Pass(rr, times, np.full(n, NORMAL, np.int8), np.zeros(n, bool), np.arange(n), codes)
    values = rr.copy()
    beat_t = times.copy()
    codes = codes.copy()
    kinds = np.full(n, NORMAL, np.int8)
    deleted = np.zeros(n, bool)
    split = np.ones(n, np.int64)
    resolver = Resolver(
        out=values,
        t=beat_t,
        code=codes,
        median=f.median,
        th2=f.th2,
        pair_tolerance=config.pair_tolerance,
        kind=kinds,
        done=np.zeros(n, bool),
        deleted=deleted,
        parts=split,
    )
    for j in flagged.tolist():
        resolver.resolve(j, 0, n - 1)
    parts = np.where(deleted, 0, split)
    source = np.repeat(np.arange(n), parts)
    within = np.arange(source.size) - np.repeat(np.cumsum(parts) - parts, parts) + 1
    piece = values[source] / parts[source]
    end_t = beat_t[source]
    start_t = end_t - values[source] / 1000.0
    return _Pass(
        values=piece,
        times=start_t + within * piece / 1000.0,
        kinds=kinds[source],
        corrected=kinds[source] != NORMAL,
        source=source,
        codes=codes,
    )


def _dense_slices(corrected: BoolArray, config: ArtifactConfig) -> list[tuple[int, int, BoolArray]]:
    """Where a second pass is worth it: (start, stop, active mask) of the slices around every stretch whose
    91-beat window holds at least ``DENSE_CORRECTED`` corrected intervals.  The active part is the stretch
    widened by half a window; the slice adds ``_EXACT_PAD`` intervals either side so that every feature
    inside the active part equals its value on the whole series."""
    n, window = corrected.size, config.threshold_window
    kernel = np.ones(window, np.int32)
    dense = np.convolve(corrected.astype(np.int32), kernel, mode="same") >= DENSE_CORRECTED
    if not dense.any():
        return []
    active = np.convolve(dense.astype(np.int32), kernel, mode="same") > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
    slices: list[tuple[int, int, BoolArray]] = []
    for first, stop in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        lo, hi = max(0, first - _EXACT_PAD), min(n, stop + _EXACT_PAD)
        if slices and lo - slices[-1][1] < _JOIN_GAP:  # close or overlapping: one slice
            lo = slices.pop()[0]
        slices.append((lo, hi, active[lo:hi]))
    return slices


def _second_pass(result: _Pass, codes: NDArray[np.int8], config: ArtifactConfig) -> _Pass:
    """Detect again on the corrected series, where artifacts were dense (their thresholds were inflated
    by the artifacts the first pass removed); elsewhere a second pass only finds natural variability.
    Classes found now are credited to the input interval the flagged output came from."""
    pieces: list[_Pass] = []
    cursor = 0
    for lo, hi, active in _dense_slices(result.corrected, config):
        pieces.append(_slice(result, cursor, lo))
        again = _one_pass(result.values[lo:hi], result.times[lo:hi], config, active)
        inner = lo + again.source  # index into result of every new output interval
        newly = (again.codes != NORMAL) & (codes[result.source[lo:hi]] == NORMAL)
        codes[result.source[lo:hi][newly]] = again.codes[newly]
        pieces.append(
            _Pass(
                values=again.values,
                times=again.times,
                kinds=np.where(again.kinds != NORMAL, again.kinds, result.kinds[inner]),
                corrected=again.corrected | result.corrected[inner],
                source=result.source[inner],
                codes=codes,
            )
        )
        cursor = hi
    if not pieces:
        return result
    pieces.append(_slice(result, cursor, result.values.size))
    return _Pass(
        values=np.concatenate([piece.values for piece in pieces]),
        times=np.concatenate([piece.times for piece in pieces]),
        kinds=np.concatenate([piece.kinds for piece in pieces]),
        corrected=np.concatenate([piece.corrected for piece in pieces]),
        source=np.concatenate([piece.source for piece in pieces]),
        codes=codes,
    )


def _slice(result: _Pass, start: int, stop: int) -> _Pass:
    """Output intervals ``start:stop`` of a pass, unchanged."""
    return _Pass(
        result.values[start:stop],
        result.times[start:stop],
        result.kinds[start:stop],
        result.corrected[start:stop],
        result.source[start:stop],
        result.codes,
    )


def _correct_segment(rr: FloatArray, times: FloatArray, config: ArtifactConfig) -> _Pass:
    """A first pass over the segment, then ``config.passes - 1`` passes where artifacts are dense."""
    result = _one_pass(rr, times, config)
    codes = result.codes.copy()
    for _ in range(config.passes - 1):
        result = _second_pass(result, codes, config)
    return _Pass(result.values, result.times, result.kinds, result.corrected, result.source, codes)


def correct_rr(
    rr_ms: ArrayLike,
    t_s: ArrayLike | None = None,
    segment_ids: ArrayLike | None = None,
    *,
    contact: ArrayLike | None = None,
    first_after_connect: ArrayLike | None = None,
    follows_in_packet: ArrayLike | None = None,
    config: ArtifactConfig = DEFAULT_CONFIG,
) -> CorrectedSeries:
    """Plausibility, detection and correction of an RR series (ms) with beat times ``t_s`` (s)."""
    rr = as_float_array(rr_ms)
    times = np.cumsum(rr) / 1000.0 if t_s is None else as_float_array(t_s)
    segments = np.zeros(rr.size, np.int64) if segment_ids is None else np.asarray(segment_ids, np.int64)
    codes = plausibility(
        rr,
        None if contact is None else np.asarray(contact, dtype=bool),
        None if first_after_connect is None else np.asarray(first_after_connect, dtype=bool),
        None if follows_in_packet is None else np.asarray(follows_in_packet, dtype=bool),
        config,
    )
    no_contact_code = CODE[BeatClass.NO_CONTACT]
    usable = codes == NORMAL
    pieces = _split_at_excluded(segments, ~usable)
    parts: list[tuple[FloatArray, FloatArray, IntArray, NDArray[np.int8], BoolArray, IntArray]] = []
    for start, stop in _segment_bounds(pieces):
        piece_id = np.full(stop - start, pieces[start], np.int64)
        if codes[start] == no_contact_code:
            untouched = np.zeros(stop - start, bool)
            parts.append(
                (
                    rr[start:stop],
                    times[start:stop],
                    piece_id,
                    codes[start:stop],
                    untouched,
                    np.arange(start, stop),
                )
            )
        elif usable[start]:
            result = _correct_segment(rr[start:stop], times[start:stop], config)
            codes[start:stop] = result.codes
            segment = np.full(result.values.size, pieces[start], np.int64)
            parts.append(
                (result.values, result.times, segment, result.kinds, result.corrected, start + result.source)
            )

    if parts:
        out_rr, out_t, out_seg, out_kind, corrected, source = (
            np.concatenate(column) for column in zip(*parts, strict=True)
        )
    else:
        out_rr, out_t = np.zeros(0), np.zeros(0)
        out_seg, out_kind, corrected = np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0, bool)
        source = np.zeros(0, np.int64)
    quality = np.where(corrected, BeatQuality.CORRECTED, BeatQuality.GOOD).astype(np.int8)
    quality[out_kind == no_contact_code] = BeatQuality.NO_CONTACT

    in_range = (out_rr >= config.min_rr_ms) & (out_rr <= config.max_rr_ms) | (
        quality == BeatQuality.NO_CONTACT
    )
    dropped_t_s, dropped_rr_ms = out_t[~in_range], out_rr[~in_range]
    if not in_range.all():
        out_seg = _split_at_excluded(out_seg, ~in_range)
        out_rr, out_t, out_seg = out_rr[in_range], out_t[in_range], out_seg[in_range]
        out_kind, quality, source = out_kind[in_range], quality[in_range], source[in_range]
    counts = {cls: int(np.count_nonzero(codes == CODE[cls])) for cls in CLASSES}
    counts[BeatClass.OUT_OF_RANGE] += int(np.count_nonzero(~in_range))
    return CorrectedSeries(
        rr_ms=out_rr,
        t_s=out_t,
        segment_ids=np.unique(out_seg, return_inverse=True)[1].astype(np.int64),
        quality=quality,
        kind=out_kind,
        source=source.astype(np.int64),
        input_class=codes,
        counts=counts,
        dropped_t_s=dropped_t_s,
        dropped_rr_ms=dropped_rr_ms,
    )


def class_counts_text(counts: dict[BeatClass, int]) -> str:
    """'2 ectopic, 1 missed' for the classes with a non-zero count (normal left out)."""
    parts = [
        f"{count} {cls.value.replace('_', ' ')}" for cls, count in counts.items() if count and cls != "normal"
    ]
    return ", ".join(parts) if parts else "none"


__all__ = [
    "ArtifactConfig",
    "CorrectedSeries",
    "Features",
    "Resolver",
    "class_counts_text",
    "classify",
    "classify_one",
    "correct_rr",
    "features",
    "plausibility",
]
