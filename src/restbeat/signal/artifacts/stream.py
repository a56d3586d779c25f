"""Streaming artifact correction: the batch rules, one beat at a time, with causal thresholds.

For interval j of a segment:

* Th1 comes from the last 91 dRR values and Th2 from the last 91 |mRR| values of the intervals already
  emitted, that is of the corrected series (causal windows that artifacts already removed do not inflate:
  the streaming analogue of the batch's second pass);
* the local median is the median of the 11 intervals ending at j + 2 (j - 8 .. j + 2);
* interval j is classified when interval j + 2 arrives (S22 needs dRR_{j+1} and dRR_{j+2}), by
  :func:`~restbeat.signal.artifacts.detection.classify_one`;
* flagged intervals are grouped into windows by the same
  :class:`~restbeat.signal.artifacts.runs.WindowRule` as batch and corrected by the same
  :func:`~restbeat.signal.artifacts.runs.explain`.

Latency: with no flag nearby an interval is final 3 beats after it ended (its right neighbour must be
classified, in case it opens a window).  A window closes when ``JOIN`` (5) unflagged intervals followed its
last flag, classified 2 beats later: the last flagged interval is final 7 beats after it ended, and a
window's first interval n + 7 beats after (n intervals in the window, at most ``MAX_WINDOW`` = 32).

Thresholds come from at least ``MIN_WINDOW`` corrected values; before that (the first beats of a segment)
from the measured values seen so far (at least ``BOOT_MIN``), so an artifact among the first beats of a
short reading is still caught.  Work per beat is O(1) amortised: the sorted windows hold at most 91 values
and the buffers are trimmed to the last few beats.  Every input interval leaves as :class:`CleanBeat` (a
merged extra interval leaves nothing; a split missed interval leaves several): excluded intervals carry
``BeatQuality.EXCLUDED`` and start a new output segment, as do input segment changes and lost contact.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from restbeat.beats import BeatClass, BeatQuality
from restbeat.signal.artifacts.config import (
    CLASSES,
    CODE,
    DEFAULT_CONFIG,
    NORMAL,
    OUT_OF_RANGE,
    ArtifactConfig,
)
from restbeat.signal.artifacts.detection import classify_one
from restbeat.signal.artifacts.runs import explain, spread_from_th1
from restbeat.signal.artifacts.sorted_window import SortedWindow
from restbeat.signal.artifacts.windows import PAD, REFS, Window, WindowRule

MIN_WINDOW = 8
BOOT_MIN = 4
_TRIM_AT = 64
_KEEP = 8

#: (input index, end time s, value ms, kind code, corrected, class code of the input); NaN time and value
#: for an input interval merged away
Emitted = tuple[int, float, float, int, bool, int]


@dataclass(frozen=True, slots=True)
class CleanBeat:
    """One output interval: time (s) of its ending beat, value (ms), output segment, quality and class."""

    t_s: float
    rr_ms: float
    segment: int
    quality: BeatQuality
    kind: BeatClass


class _Segment:
    """Detection and correction state of one contiguous run of usable intervals."""

    def __init__(self, config: ArtifactConfig) -> None:
        self.config = config
        self.d_window = SortedWindow(config.threshold_window)
        self.m_window = SortedWindow(config.threshold_window)
        self.d_boot = SortedWindow(MIN_WINDOW)  # the first measured dRR and |mRR|, until enough are corrected
        self.m_boot = SortedWindow(MIN_WINDOW)
        self.recent = SortedWindow(config.median_window)
        self.rule = WindowRule()
        self.offset = 0  # absolute index of list position 0
        self.count = 0  # intervals received
        self.classified = 0  # intervals classified (absolute: every index below it)
        self.emitted = 0  # intervals emitted (absolute)
        self.last_final: float | None = None  # the last value emitted (ms)
        self.tail: deque[float] = deque(maxlen=REFS)  # the last values emitted (ms): left references
        self.raw: list[float] = []
        self.t: list[float] = []
        self.d: list[float] = []  # normalised dRR
        self.th1: list[float] = []  # Th1 (ms) each dRR was normalised by; 0 before the window filled
        self.code: list[int] = []
        self.median: list[float] = []
        self.source: list[int] = []
        self.columns = (self.raw, self.t, self.d, self.th1, self.code, self.median, self.source)

    def push(self, t_s: float, rr_ms: float, source: int) -> list[Emitted]:
        """Add interval k; classify interval k - 2; return what became final."""
        config = self.config
        k_rel = self.count - self.offset
        previous = self.raw[k_rel - 1] if k_rel > 0 else None
        self.raw.append(rr_ms)
        self.t.append(t_s)
        self.code.append(NORMAL)
        self.median.append(rr_ms)
        self.source.append(source)
        self.count += 1
        self.recent.add(rr_ms)
        th1 = 0.0
        if previous is not None and self.d_window.count < MIN_WINDOW:
            self.d_boot.add(rr_ms - previous)
        d_source = self.d_window if self.d_window.count >= MIN_WINDOW else self.d_boot
        if previous is not None and d_source.count >= BOOT_MIN:
            th1 = min(
                config.alpha * d_source.quartile_deviation(), config.threshold_cap * self.recent.median()
            )
        self.th1.append(th1)
        self.d.append((rr_ms - previous) / th1 if previous is not None and th1 > 0 else 0.0)
        if self.count < 3:
            return []
        j = self.count - 3
        flagged = self._classify(j - self.offset)
        self.classified = j + 1
        windows = self.rule.flag(j) if flagged else [w for w in (self.rule.close_before(j + 1),) if w]
        out: list[Emitted] = []
        for window in windows:
            out += self._resolve(window)
        open_start = self.rule.open_start
        out += self._emit_raw(open_start if open_start is not None else self.classified - PAD)
        if self.emitted - self.offset >= _TRIM_AT:
            self._trim()
        return out

    def finish(self) -> list[Emitted]:
        """The segment ended: resolve the open window and emit everything."""
        out: list[Emitted] = []
        window = self.rule.finish(self.count)
        if window is not None:
            out += self._resolve(window)
        return out + self._emit_raw(self.count)

    def _classify(self, j: int) -> bool:
        """Classify interval j (list position); True when it is flagged."""
        config = self.config
        median = self.recent.median()
        raw = self.raw
        mrr = raw[j] - median
        if mrr < 0:
            mrr *= 2.0
        self.median[j] = median
        if self.m_window.count < MIN_WINDOW:
            self.m_boot.add(abs(mrr))
        m_source = self.m_window if self.m_window.count >= MIN_WINDOW else self.m_boot
        if m_source.count < BOOT_MIN:
            return False
        if self.th1[j] <= 0 and not self._bootstrap_d(j):
            return False
        th2 = min(config.alpha * m_source.quartile_deviation(), config.threshold_cap * median)
        d = self.d
        if abs(d[j]) <= 1.0 and abs(mrr) <= 3.0 * th2:
            return False  # the fast path: no rule can fire (every class needs |dRR| > 1 or |mRR| > 3)
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
        self.code[j] = code
        return code != NORMAL

    def _bootstrap_d(self, j: int) -> bool:
        """The first intervals of a segment arrived before any threshold existed: normalise their dRR (j - 1
        .. j + 2) by the one the measured values give now.  False when there is none yet."""
        config = self.config
        if self.d_boot.count < BOOT_MIN:
            return False
        cap = config.threshold_cap * self.recent.median()
        th1 = min(config.alpha * self.d_boot.quartile_deviation(), cap)
        if th1 <= 0:
            return False
        raw = self.raw
        for i in range(max(j - 1, 1), min(j + 3, len(raw))):
            if self.th1[i] <= 0:
                self.th1[i] = th1
                self.d[i] = (raw[i] - raw[i - 1]) / th1
        return self.th1[j] > 0

    def _resolve(self, window: Window) -> list[Emitted]:
        """Emit up to the window, then the window as its explanation corrects it."""
        out = self._emit_raw(window.start)
        lo, hi = window.start - self.offset, window.stop - self.offset
        codes = self.code[lo:hi]
        flags = [code != NORMAL for code in codes]
        first = lo + flags.index(True) if True in flags else lo
        groups = explain(
            self.raw[lo:hi],
            flags,
            codes,
            list(self.tail),
            self.raw[hi : window.refs_stop - self.offset],
            spread_from_th1(self.th1[first], self.median[first], self.config),
            self.median[first],
            self.config,
        )
        for group in groups:
            start, stop = lo + group.start, lo + group.stop
            if not group.retimed:
                out.append(self._final(start, self.raw[start], self.t[start], NORMAL, NORMAL))
                continue
            n, k = stop - start, group.beats
            end = self.t[stop - 1]
            remaining = sum(group.beats_ms)
            credited = [min(n - 1, -((-(p + 1) * n) // k) - 1) for p in range(k)]
            for offset in range(n):
                if offset not in credited:  # merged away
                    out.append(
                        (self.source[start + offset], math.nan, math.nan, group.code, True, group.code)
                    )
            for offset, piece in zip(credited, group.beats_ms, strict=True):
                remaining -= piece
                out.append(
                    self._final(start + offset, piece, end - remaining / 1000.0, group.code, group.code)
                )
        self.emitted = window.stop
        return out

    def _final(self, position: int, value: float, t_s: float, kind: int, code: int) -> Emitted:
        """One output interval becomes final: it feeds the thresholds and the left references."""
        if self.last_final is not None:
            self.d_window.add(value - self.last_final)
        self.last_final = value
        mrr = value - self.median[position]
        self.m_window.add(-2.0 * mrr if mrr < 0 else mrr)
        self.tail.append(value)
        return (self.source[position], t_s, value, kind, kind != NORMAL, code)

    def _emit_raw(self, stop: int) -> list[Emitted]:
        """Emit unchanged intervals up to absolute index ``stop`` (exclusive)."""
        out: list[Emitted] = []
        while self.emitted < stop:
            i = self.emitted - self.offset
            self.emitted += 1
            out.append(self._final(i, self.raw[i], self.t[i], NORMAL, self.code[i]))
        return out

    def _trim(self) -> None:
        """Drop buffer entries emitted long ago (keeps the last few for neighbour look-ups)."""
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

    def _beats(self, ready: list[Emitted]) -> list[CleanBeat]:
        beats: list[CleanBeat] = []
        config = self.config
        last_recorded = -1
        for index, t_s, value, kind, corrected, code in ready:
            in_range = math.isnan(value) or config.min_rr_ms <= value <= config.max_rr_ms  # NaN: merged
            if index != last_recorded:
                last_recorded = index
                self._record(index, code if in_range else OUT_OF_RANGE)
            if math.isnan(t_s):  # merged away
                continue
            if not in_range:
                beats.append(
                    CleanBeat(t_s, value, self._out_segment, BeatQuality.EXCLUDED, BeatClass.OUT_OF_RANGE)
                )
                self._out_segment += 1
                continue
            quality = BeatQuality.CORRECTED if corrected else BeatQuality.GOOD
            beats.append(CleanBeat(t_s, value, self._out_segment, quality, CLASSES[kind]))
        return beats

    def flush(self) -> list[CleanBeat]:
        """Emit everything still pending (end of recording, or before a break)."""
        segment, self._segment = self._segment, None
        return self._beats(segment.finish()) if segment is not None else []

    def _exclude(self, t_s: float, rr_ms: float, cls: BeatClass) -> list[CleanBeat]:
        beats = self.flush()
        self._out_segment += 1
        quality = BeatQuality.NO_CONTACT if cls is BeatClass.NO_CONTACT else BeatQuality.EXCLUDED
        beats.append(CleanBeat(t_s, rr_ms, self._out_segment, quality, cls))
        self._record(self._index, int(CODE[cls]))
        self._out_segment += 1
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
            self._out_segment += 1
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
            beats += self._beats(self._segment.push(t_s, rr_ms, self._index))
        self._index += 1
        return beats
