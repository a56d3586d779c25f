"""Artifact correction of a whole RR series (batch): plausibility, detection, joint correction of flagged
windows, a second pass where artifacts were dense, and the physiological range gate.

The correction of each window is :func:`restbeat.signal.artifacts.runs.explain`, the same function the
stream applies (:mod:`restbeat.signal.artifacts.stream`); windows are formed by the same
:class:`~restbeat.signal.artifacts.runs.WindowRule`.  Batch sees both sides of every beat (centred
thresholds) and runs a second pass on the corrected series where the first corrected many intervals (their
thresholds were inflated there); the stream learns its thresholds from what it already corrected.
Excluded intervals (plausibility, range gate) start new segments.  docs/artifacts.md gives every rule and the
measurements behind them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from restbeat.beats import BeatClass, BeatQuality
from restbeat.signal._arrays import BoolArray, FloatArray, IntArray, as_float_array
from restbeat.signal.artifacts.config import CLASSES, CODE, DEFAULT_CONFIG, NORMAL, ArtifactConfig
from restbeat.signal.artifacts.detection import classify, features
from restbeat.signal.artifacts.plausibility import plausibility
from restbeat.signal.artifacts.runs import explain, spread_from_th1
from restbeat.signal.artifacts.windows import REFS, Window, WindowRule

_MIN_SEGMENT = 5  # shorter segments are passed through unclassified
DENSE_CORRECTED = 8  # corrected intervals in a 91-beat window that make a second pass worth it
_EXACT_PAD = 60  # intervals either side of an active part: features inside are those of the whole series
_JOIN_GAP = 400  # slices closer than this (intervals) are passed as one (fewer, larger numpy calls)


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


def _unchanged(rr: FloatArray, times: FloatArray, codes: NDArray[np.int8]) -> _Pass:
    n = rr.size
    return _Pass(rr, times, np.full(n, NORMAL, np.int8), np.zeros(n, bool), np.arange(n), codes)


def windows_of(flagged: IntArray, n: int) -> list[Window]:
    """The windows of a segment of ``n`` intervals whose flagged intervals are ``flagged`` (sorted)."""
    rule = WindowRule()
    windows: list[Window] = []
    for index in flagged.tolist():
        windows += rule.flag(index)
    last = rule.finish(n)
    if last is not None:
        windows.append(last)
    return windows


def _one_pass(
    rr: FloatArray, times: FloatArray, config: ArtifactConfig, active: BoolArray | None = None
) -> _Pass:
    """Detect and correct once; only intervals where ``active`` is True may be flagged (all by default)."""
    n = rr.size
    if n < _MIN_SEGMENT:
        return _unchanged(rr, times, np.full(n, NORMAL, np.int8))
    f = features(rr, config)
    codes = classify(f, config)
    if active is not None:
        codes[~active] = NORMAL
    flagged = np.flatnonzero(codes != NORMAL)
    if flagged.size == 0:
        return _unchanged(rr, times, codes)
    assert f.th1 is not None
    values: list[FloatArray] = []
    ends: list[FloatArray] = []
    kinds: list[NDArray[np.int8]] = []
    sources: list[IntArray] = []
    cursor = 0
    for window in windows_of(flagged, n):
        if window.start > cursor:
            values.append(rr[cursor : window.start])
            ends.append(times[cursor : window.start])
            kinds.append(np.full(window.start - cursor, NORMAL, np.int8))
            sources.append(np.arange(cursor, window.start))
        part = slice(window.start, window.stop)
        first_flag = window.start + int(np.argmax(codes[part] != NORMAL))
        groups = explain(
            rr[part].tolist(),
            (codes[part] != NORMAL).tolist(),
            codes[part].tolist(),
            _tail_after(values, REFS),
            rr[window.stop : window.refs_stop].tolist(),
            spread_from_th1(float(f.th1[first_flag]), float(f.median[first_flag]), config),
            float(f.median[first_flag]),
            config,
        )
        for group in groups:
            lo, hi = window.start + group.start, window.start + group.stop
            if not group.retimed:
                codes[lo] = NORMAL
                values.append(rr[lo:hi])
                ends.append(times[lo:hi])
                kinds.append(np.full(1, NORMAL, np.int8))
                sources.append(np.arange(lo, hi))
                continue
            n_in, k = hi - lo, group.beats
            pieces = np.asarray(group.beats_ms)
            steps = np.arange(1, k + 1)
            codes[lo:hi] = group.code
            values.append(pieces)
            ends.append(float(times[hi - 1]) - (pieces.sum() - np.cumsum(pieces)) / 1000.0)
            kinds.append(np.full(k, group.code, np.int8))
            # output p ends inside input interval ceil((p + 1) n / k) - 1: a merged pair is credited to its
            # second part, both halves of a split interval to it
            sources.append(lo + np.minimum(n_in - 1, -((-steps * n_in) // k) - 1))
        cursor = window.stop
    if cursor < n:
        values.append(rr[cursor:])
        ends.append(times[cursor:])
        kinds.append(np.full(n - cursor, NORMAL, np.int8))
        sources.append(np.arange(cursor, n))
    kind = np.concatenate(kinds)
    return _Pass(
        values=np.concatenate(values),
        times=np.concatenate(ends),
        kinds=kind,
        corrected=kind != NORMAL,
        source=np.concatenate(sources),
        codes=codes,
    )


def _tail_after(values: list[FloatArray], count: int) -> list[float]:
    """The last ``count`` output values so far."""
    tail: list[float] = []
    for chunk in reversed(values):
        tail = [*chunk[-(count - len(tail)) :].tolist(), *tail]
        if len(tail) >= count:
            break
    return tail


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


__all__ = ["CorrectedSeries", "class_counts_text", "correct_rr", "windows_of"]
