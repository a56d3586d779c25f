"""Streaming artifact detection and correction: the batch rules of :mod:`restbeat.signal.artifacts`, one
beat at a time, with causal thresholds and a look-ahead of three beats.

For interval j of a segment:

* Th1 comes from the last 91 dRR values and Th2 from the last 91 |mRR| values of the intervals already
  emitted, that is of the corrected series (causal windows that artifacts already removed do not inflate:
  the streaming analogue of the batch's second pass);
* the local median is the median of the 11 intervals ending at j + 2 (j - 8 .. j + 2);
* once an interval before j was corrected, dRR of j - 1 and j is recomputed from the corrected values, so a
  corrected beat does not make its neighbour look like an artifact;
* interval j is classified when interval j + 2 arrives (S22 needs dRR_{j+1} and dRR_{j+2}), by
  :func:`~restbeat.signal.artifacts.classify_one`, and corrected by the same
  :class:`~restbeat.signal.artifacts.Resolver` as batch, which may still change j - 1 .. j + 2;
* interval j is emitted, final, when interval j + 3 arrives, so every beat's class and value are final
  within three beats.

Thresholds need at least ``MIN_WINDOW`` values; before that (the first beats of a segment) intervals pass as
normal.  Work per beat is O(1) amortised: the sorted windows hold at most 91 values (insertion by bisection)
and the buffers are trimmed to the last few beats.  Batch sees both sides of every beat and runs a second
pass where artifacts are dense, so the two can differ there.

Every input interval leaves as :class:`CleanBeat` (a merged extra interval leaves nothing; a split missed
interval leaves several): excluded intervals carry ``BeatQuality.EXCLUDED`` and start a new output segment,
as do input segment changes and lost contact.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass

from restbeat.beats import BeatClass, BeatQuality
from restbeat.signal.artifacts import (
    CLASSES,
    CODE,
    DEFAULT_CONFIG,
    ECTOPIC,
    NORMAL,
    ArtifactConfig,
    Resolver,
    classify_one,
)

MIN_WINDOW = 8
_TRIM_AT = 64
_KEEP = 8
_OUT_OF_RANGE = CODE[BeatClass.OUT_OF_RANGE]


@dataclass(frozen=True, slots=True)
class CleanBeat:
    """One output interval: time (s) of its ending beat, value (ms), output segment, quality and class."""

    t_s: float
    rr_ms: float
    segment: int
    quality: BeatQuality
    kind: BeatClass


class _SortedWindow:
    """The last ``size`` values in insertion order and sorted, for O(log n) quartiles."""

    __slots__ = ("_order", "_positions", "_size", "_sorted", "count")

    def __init__(self, size: int) -> None:
        self._size = size
        self._order: deque[float] = deque()
        self._sorted: list[float] = []
        self.count = 0
        # (index, fraction) of Q1, median and Q3 for every possible length, numpy's linear interpolation
        self._positions = [
            tuple((int(q * (n - 1)), q * (n - 1) - int(q * (n - 1))) for q in (0.25, 0.5, 0.75))
            for n in range(size + 1)
        ]

    def add(self, value: float) -> None:
        self._order.append(value)
        bisect.insort(self._sorted, value)
        if self.count == self._size:
            del self._sorted[bisect.bisect_left(self._sorted, self._order.popleft())]
        else:
            self.count += 1

    def _at(self, index: int, fraction: float) -> float:
        values = self._sorted
        low = values[index]
        return low + fraction * (values[index + 1] - low) if fraction else low

    def median(self) -> float:
        index, fraction = self._positions[self.count][1]
        return self._at(index, fraction)

    def quartile_deviation(self) -> float:
        (i1, f1), _, (i3, f3) = self._positions[self.count]
        return (self._at(i3, f3) - self._at(i1, f1)) / 2.0


class _Segment:
    """Detection state of one contiguous run of usable intervals."""

    def __init__(self, config: ArtifactConfig) -> None:
        self.config = config
        self.d_window = _SortedWindow(config.threshold_window)
        self.m_window = _SortedWindow(config.threshold_window)
        self.recent = _SortedWindow(config.median_window)
        self.offset = 0  # absolute index of list position 0
        self.count = 0  # intervals received
        self.emitted = 0  # intervals emitted (absolute)
        self.last_final: float | None = None  # the last interval emitted (ms)
        self.raw: list[float] = []
        self.d: list[float] = []  # normalised dRR
        self.th1: list[float] = []  # Th1 (ms) each dRR was normalised by; 0 before the window filled
        self.source: list[int] = []  # input index of each interval
        self.out: list[float] = []
        self.t: list[float] = []
        self.code: list[int] = []
        self.median: list[float] = []
        self.th2: list[float] = []
        self.kind: list[int] = []
        self.done: list[bool] = []
        self.deleted: list[bool] = []
        self.parts: list[int] = []
        self.columns = (
            self.out,
            self.t,
            self.code,
            self.median,
            self.th2,
            self.kind,
            self.done,
            self.deleted,
            self.parts,
            self.raw,
            self.d,
            self.th1,
            self.source,
        )
        self.resolver = Resolver(
            out=self.out,
            t=self.t,
            code=self.code,
            median=self.median,
            th2=self.th2,
            pair_tolerance=config.pair_tolerance,
            kind=self.kind,
            done=self.done,
            deleted=self.deleted,
            parts=self.parts,
        )

    def _append(self, t_s: float, rr_ms: float, source: int) -> None:
        self.out.append(rr_ms)
        self.t.append(t_s)
        self.code.append(NORMAL)
        self.median.append(rr_ms)
        self.th2.append(0.0)
        self.kind.append(NORMAL)
        self.done.append(False)
        self.deleted.append(False)
        self.parts.append(1)
        self.raw.append(rr_ms)
        self.source.append(source)

    def push(self, t_s: float, rr_ms: float, source: int) -> None:
        """Add interval k; classify and resolve interval k - 2."""
        config = self.config
        k_rel = self.count - self.offset
        previous = self.raw[k_rel - 1] if k_rel > 0 else None
        self._append(t_s, rr_ms, source)
        self.count += 1
        self.recent.add(rr_ms)
        window = self.d_window
        th1 = 0.0
        if previous is not None and window.count >= MIN_WINDOW:
            th1 = min(config.alpha * window.quartile_deviation(), config.threshold_cap * self.recent.median())
        self.th1.append(th1)
        self.d.append((rr_ms - previous) / th1 if previous is not None and th1 > 0 else 0.0)
        j_rel = k_rel - 2
        if j_rel >= 0:
            self._classify(j_rel, k_rel)

    def _classify(self, j: int, hi: int) -> None:
        config = self.config
        median = self.recent.median()
        raw = self.raw
        mrr = raw[j] - median
        if mrr < 0:
            mrr *= 2.0
        self.median[j] = median
        m_window = self.m_window
        if m_window.count < MIN_WINDOW or self.d_window.count < MIN_WINDOW:
            return
        th2 = min(config.alpha * m_window.quartile_deviation(), config.threshold_cap * median)
        self.th2[j] = th2
        if j >= 2 and (self.done[j - 1] or self.done[j - 2]):
            self._refresh_d(j)
        d = self.d
        if abs(d[j]) <= 1.0 and abs(mrr) <= 3.0 * th2:
            return  # the fast path: no rule can fire (every class needs |dRR| > 1 or |mRR| > 3)
        code = classify_one(
            d[j - 1] if j > 0 else 0.0,
            d[j],
            d[j + 1],
            d[j + 2],
            mrr / th2 if th2 > 0 else 0.0,
            raw[j],
            raw[j + 1],
            median,
            th2,
            config,
        )
        if code == NORMAL:
            return
        if self.done[j] and code == ECTOPIC and self.kind[j] != NORMAL:
            # already corrected as the partner of the interval before it, whose class was decided first:
            # the pair is an ectopic one (batch, which knows both classes, labels it the same way)
            for index in (j - 1, j):
                if self.kind[index] == self.kind[j]:
                    self.kind[index] = ECTOPIC
        self.code[j] = code
        self.resolver.resolve(j, max(self.emitted - self.offset, 0), hi)

    def _refresh_d(self, j: int) -> None:
        """Normalised dRR of j - 1 and j from the current values, once an interval before them was corrected:
        a corrected beat must not make its neighbour look like an artifact (batch gets this from its second
        pass)."""
        out, parts, deleted = self.out, self.parts, self.deleted
        for i in (j - 1, j):
            if deleted[i] or self.th1[i] <= 0:
                continue
            p = i - 1
            while p >= 0 and deleted[p]:
                p -= 1
            if p >= 0:
                self.d[i] = (out[i] / parts[i] - out[p] / parts[p]) / self.th1[i]

    def _learn(self, value: float, median: float) -> None:
        """Feed one final (corrected) interval to the threshold windows: Th1 and Th2 are learnt from the
        cleaned history, so that artifacts already corrected do not inflate them (the streaming analogue of
        the batch's second pass)."""
        if self.last_final is not None:
            self.d_window.add(value - self.last_final)
        self.last_final = value
        mrr = value - median
        self.m_window.add(-2.0 * mrr if mrr < 0 else mrr)

    def emit_ready(self, final: bool) -> list[tuple[int, float, float, int, bool, int]]:
        """(input index, t, value, kind code, corrected, final code) of the intervals that are final;
        a merged-away interval has NaN time and value."""
        last = self.count if final else self.count - 3
        if self.emitted >= last:
            return []
        ready: list[tuple[int, float, float, int, bool, int]] = []
        while self.emitted < last:
            i = self.emitted - self.offset
            self.emitted += 1
            code = int(self.code[i])
            if self.deleted[i]:
                ready.append((self.source[i], math.nan, math.nan, code, True, code))
                continue
            kind = int(self.kind[i])
            parts = int(self.parts[i])
            value = float(self.out[i])
            if parts == 1:
                self._learn(value, self.median[i])
                ready.append((self.source[i], float(self.t[i]), value, kind, kind != NORMAL, code))
                continue
            piece = value / parts
            for _ in range(parts):
                self._learn(piece, self.median[i])
            start = float(self.t[i]) - value / 1000.0
            ready += [
                (self.source[i], start + p * piece / 1000.0, piece, kind, True, code)
                for p in range(1, parts + 1)
            ]
        if self.emitted - self.offset >= _TRIM_AT:
            self._trim()
        return ready

    def _trim(self) -> None:
        """Drop buffer entries that were emitted long ago (keeps the last few for neighbour look-ups)."""
        cut = self.emitted - self.offset - _KEEP
        for column in self.columns:
            del column[:cut]
        self.offset += cut


class ArtifactStream:
    """Feed intervals one at a time with :meth:`push`; it returns the intervals that became final."""

    def __init__(self, config: ArtifactConfig = DEFAULT_CONFIG, *, record_classes: bool = False) -> None:
        self.config = config
        self._segment: _Segment | None = None
        self._input_segment: int | None = None
        self._out_segment = 0
        self._index = 0
        self._last_rr: float | None = None
        self._classes: list[tuple[int, int]] | None = [] if record_classes else None

    def input_classes(self) -> list[tuple[int, int]]:
        """(input index, class code) of every input interval so far (needs ``record_classes=True``)."""
        if self._classes is None:
            raise RuntimeError("ArtifactStream was created without record_classes=True")
        return sorted(self._classes)

    def _record(self, index: int, code: int) -> None:
        if self._classes is not None:
            self._classes.append((index, code))

    def _new_output_segment(self) -> None:
        self._out_segment += 1

    def _drain(self, final: bool) -> list[CleanBeat]:
        segment = self._segment
        if segment is None:
            return []
        ready = segment.emit_ready(final)
        if final:
            self._segment = None
        if not ready:
            return []
        beats: list[CleanBeat] = []
        config = self.config
        classes = self._classes
        last_recorded = -1
        for index, t_s, value, kind, corrected, code in ready:
            in_range = math.isnan(value) or config.min_rr_ms <= value <= config.max_rr_ms  # NaN: merged
            if classes is not None and index != last_recorded:
                last_recorded = index
                classes.append((index, code if in_range else int(_OUT_OF_RANGE)))
            if math.isnan(t_s):  # merged away
                continue
            if not in_range:
                beats.append(
                    CleanBeat(t_s, value, self._out_segment, BeatQuality.EXCLUDED, BeatClass.OUT_OF_RANGE)
                )
                self._new_output_segment()
                continue
            quality = BeatQuality.CORRECTED if corrected else BeatQuality.GOOD
            beats.append(CleanBeat(t_s, value, self._out_segment, quality, CLASSES[kind]))
        return beats

    def flush(self) -> list[CleanBeat]:
        """Emit everything still pending (end of recording, or before a break)."""
        return self._drain(final=True)

    def _exclude(self, t_s: float, rr_ms: float, cls: BeatClass) -> list[CleanBeat]:
        beats = self.flush()
        self._new_output_segment()
        quality = BeatQuality.NO_CONTACT if cls is BeatClass.NO_CONTACT else BeatQuality.EXCLUDED
        beats.append(CleanBeat(t_s, rr_ms, self._out_segment, quality, cls))
        self._record(self._index, int(CODE[cls]))
        self._new_output_segment()
        return beats

    def push(
        self,
        t_s: float,
        rr_ms: float,
        segment: int = 0,
        *,
        contact: bool | None = None,
        first_after_connect: bool = False,
        follows_in_packet: bool = False,
    ) -> list[CleanBeat]:
        """Add one interval (ms) ending at ``t_s`` (s); return the intervals that became final."""
        config = self.config
        beats: list[CleanBeat] = []
        if segment != self._input_segment:
            self._input_segment = segment
            beats = self.flush()
            self._new_output_segment()
            self._last_rr = None
        previous, self._last_rr = self._last_rr, rr_ms
        cls: BeatClass | None = None
        if contact is False:
            cls = BeatClass.NO_CONTACT
        elif first_after_connect:
            cls = BeatClass.FIRST_AFTER_CONNECT
        elif follows_in_packet and previous is not None and rr_ms < config.bogus_ratio * previous:
            cls = BeatClass.BOGUS_SHORT
        elif rr_ms < config.junk_below_ms or rr_ms > config.gap_above_ms:
            cls = BeatClass.OUT_OF_RANGE
        if cls is not None:
            beats += self._exclude(t_s, rr_ms, cls)
        else:
            if self._segment is None:
                self._segment = _Segment(config)
            self._segment.push(t_s, rr_ms, self._index)
            beats += self._drain(final=False)
        self._index += 1
        return beats
