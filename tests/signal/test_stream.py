"""Streaming metrics: equal to batch on the same window (24 h, no drift), segment resets, quality gates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from restbeat.beats import BeatQuality
from restbeat.devices.files import RRRecording, read_wfdb_annotations
from restbeat.signal.metrics import time_domain
from restbeat.signal.stream import HRVSnapshot, HRVStream, StreamConfig, WindowQuality
from tests.support.shared_data import bundled

NO_SPECTRAL = StreamConfig(spectral_every_s=math.inf)


@pytest.fixture(scope="module")
def nsr001() -> RRRecording:
    """24 h of N-to-N intervals (PhysioNet nsr2db record nsr001, ODC-By 1.0)."""
    return read_wfdb_annotations(bundled("physionet_nsr2db", "nsr001.ecg"))


def _batch_window(
    t_s: np.ndarray, rr: np.ndarray, seg: np.ndarray, snap: HRVSnapshot, length: float
) -> np.ndarray:
    inside = (t_s > snap.t_s - length) & (t_s <= snap.t_s) & (seg == snap.segment)
    window: np.ndarray = rr[inside]
    return window


def _assert_stream_equals_batch(t_s: np.ndarray, rr: np.ndarray, seg: np.ndarray, check_every: int) -> int:
    stream = HRVStream(NO_SPECTRAL)
    compared = 0
    for i, (t, value, segment) in enumerate(zip(t_s.tolist(), rr.tolist(), seg.tolist(), strict=True)):
        snap = stream.push(t, value, segment=segment)
        if i % check_every and i != rr.size - 1:
            continue
        for window in snap.windows:
            if window.quality is not WindowQuality.OK:
                continue
            batch = time_domain(_batch_window(t_s, rr, seg, snap, window.window_s))
            assert window.n_beats == batch.n_intervals
            assert window.rmssd_ms == pytest.approx(batch.rmssd_ms, rel=1e-9)
            assert window.sdnn_ms == pytest.approx(batch.sdnn_ms, rel=1e-9)
            assert window.mean_hr_bpm == pytest.approx(batch.mean_hr_bpm, rel=1e-9)
            assert window.pnn50_pct == pytest.approx(batch.pnn50_pct, rel=1e-9, abs=1e-12)
            assert window.ln_rmssd == pytest.approx(batch.ln_rmssd, rel=1e-9)
            compared += 1
    return compared


def test_stream_equals_batch_over_a_whole_day(nsr001: RRRecording) -> None:
    compared = _assert_stream_equals_batch(nsr001.t_s, nsr001.rr_ms, nsr001.segment_ids, check_every=211)
    assert compared > 500


def test_no_drift_with_values_that_are_not_exact_in_binary(nsr001: RRRecording) -> None:
    """128-Hz annotations are exact binary fractions; jitter them so rounding really happens, for 24 h."""
    rng = np.random.default_rng(3)
    rr = nsr001.rr_ms + rng.uniform(-0.3, 0.3, nsr001.rr_ms.size) / 3.0
    compared = _assert_stream_equals_batch(nsr001.t_s, rr, nsr001.segment_ids, check_every=997)
    assert compared > 100


def _steady_beats(n: int, rr_ms: float = 1000.0, start_s: float = 0.0) -> list[tuple[float, float]]:
    """n beats of alternating rr ± 20 ms."""
    beats, t = [], start_s
    for i in range(n):
        rr = rr_ms + (20.0 if i % 2 else -20.0)
        t += rr / 1000.0
        beats.append((t, rr))
    return beats


def test_windows_warm_up_then_report() -> None:
    stream = HRVStream(NO_SPECTRAL)
    snaps = [stream.push(t, rr) for t, rr in _steady_beats(400)]
    first_minute = [s for s in snaps if s.t_s < 0.9 * 60]
    assert all(s.window(60).quality is WindowQuality.WARMING_UP for s in first_minute)
    assert snaps[-1].window(60).quality is WindowQuality.OK
    assert snaps[-1].window(60).rmssd_ms == pytest.approx(40.0)
    assert snaps[100].window(300).quality is WindowQuality.WARMING_UP
    assert snaps[100].window(300).rmssd_ms is None
    assert snaps[-1].window(300).quality is WindowQuality.OK


def test_a_new_segment_starts_every_window_afresh() -> None:
    stream = HRVStream(NO_SPECTRAL)
    beats = _steady_beats(200)
    for t, rr in beats:
        stream.push(t, rr, segment=0)
    # after a 30-s gap the strap comes back with a different rhythm in segment 1
    snap = stream.push(beats[-1][0] + 30.0, 600.0, segment=1)
    assert snap.window(60).n_beats == 1
    assert snap.window(60).quality is WindowQuality.WARMING_UP
    t = snap.t_s
    for _ in range(120):
        t += 0.6
        snap = stream.push(t, 600.0, segment=1)
    assert snap.window(60).quality is WindowQuality.OK
    assert snap.window(60).rmssd_ms == 0.0  # no difference taken across the gap
    assert snap.window(60).mean_hr_bpm == pytest.approx(100.0)


def test_too_many_corrected_beats_make_the_window_low_quality() -> None:
    stream = HRVStream(NO_SPECTRAL)
    snap = None
    for i, (t, rr) in enumerate(_steady_beats(120)):
        quality = BeatQuality.CORRECTED if i % 10 == 0 else BeatQuality.GOOD  # 10 % corrected
        snap = stream.push(t, rr, quality)
    assert snap is not None
    assert snap.window(60).quality is WindowQuality.TOO_MANY_CORRECTED
    assert snap.window(60).rmssd_ms is None


def test_a_few_corrected_beats_are_accepted() -> None:
    stream = HRVStream(NO_SPECTRAL)
    snap = None
    for i, (t, rr) in enumerate(_steady_beats(120)):
        quality = BeatQuality.CORRECTED if i % 40 == 0 else BeatQuality.GOOD  # 2.5 %
        snap = stream.push(t, rr, quality)
    assert snap is not None
    assert snap.window(60).quality is WindowQuality.OK
    assert snap.window(60).n_corrected >= 1


def test_lost_contact_makes_every_window_holding_it_low_quality() -> None:
    stream = HRVStream(NO_SPECTRAL)
    beats = _steady_beats(400)
    snaps = [
        stream.push(t, rr, BeatQuality.NO_CONTACT if i == 300 else BeatQuality.GOOD)
        for i, (t, rr) in enumerate(beats)
    ]
    assert snaps[310].window(60).quality is WindowQuality.NO_CONTACT
    # 60 s later the beat has left the 60-s window but not the 300-s one
    later = next(s for s in snaps if s.t_s > beats[300][0] + 61)
    assert later.window(60).quality is WindowQuality.OK
    assert later.window(300).quality is WindowQuality.NO_CONTACT


def test_an_excluded_beat_breaks_the_series_like_a_gap() -> None:
    """No successive difference is taken across an excluded interval: the windows start again."""
    stream = HRVStream(NO_SPECTRAL)
    beats = _steady_beats(400)
    snaps = [
        stream.push(t, rr, BeatQuality.EXCLUDED if i == 300 else BeatQuality.GOOD)
        for i, (t, rr) in enumerate(beats)
    ]
    assert snaps[299].window(60).quality is WindowQuality.OK
    assert snaps[300].beat_quality is BeatQuality.EXCLUDED
    assert snaps[301].window(60).quality is WindowQuality.WARMING_UP
    assert snaps[301].window(60).n_beats <= 1
    after = next(s for s in snaps if s.t_s > beats[300][0] + 60)
    assert after.window(60).quality is WindowQuality.OK


def test_too_few_beats_in_a_window() -> None:
    stream = HRVStream(NO_SPECTRAL)
    t, snap = 0.0, None
    for _ in range(100):  # 35 bpm: 35 differences per minute < 40
        t += 1.7
        snap = stream.push(t, 1700.0)
    assert snap is not None
    assert snap.window(60).quality is WindowQuality.TOO_FEW_BEATS


def _rsa_beats(duration_s: float, breaths_per_min: float) -> list[tuple[float, float]]:
    beats, t = [], 0.0
    while t < duration_s:
        rr = 900.0 + 40.0 * math.sin(2 * math.pi * breaths_per_min / 60.0 * t)
        t += rr / 1000.0
        beats.append((t, rr))
    return beats


def test_spectral_values_refresh_on_a_ten_second_timer() -> None:
    stream = HRVStream()
    snaps = [stream.push(t, rr) for t, rr in _rsa_beats(400.0, 15.0)]
    computed_at = sorted({s.spectral.t_s for s in snaps if s.spectral is not None})
    gaps = np.diff(computed_at)
    assert np.all((gaps >= 10.0) & (gaps < 11.5))
    early = next(s for s in snaps if s.spectral is not None and s.spectral.span_s < 60)
    assert early.spectral is not None and early.spectral.hf_ms2 is None
    mid = next(s for s in snaps if s.spectral is not None and 70 < s.spectral.span_s < 110)
    assert mid.spectral is not None
    assert mid.spectral.hf_ms2 is not None and mid.spectral.lf_ms2 is None  # LF needs 120 s
    last = snaps[-1].spectral
    assert last is not None and last.quality is WindowQuality.OK
    assert last.hf_ms2 == pytest.approx(800.0, rel=0.1)  # A²/2 with A = 40 ms
    assert last.lf_hf_ratio is not None and last.lf_hf_ratio < 0.05
    assert last.breathing_rate_per_min == pytest.approx(15.0, abs=0.5)
    assert last.span_s == pytest.approx(300.0, abs=2.0)


def test_windows_read_now_and_then_equal_windows_read_every_beat(nsr001: RRRecording) -> None:
    """The live path adds beats and reads the windows only on its 5-s ticks: what it reads must be what a
    stream read on every beat shows at that beat (the metrics are computed on read and cached per beat)."""
    lazy, eager = HRVStream(NO_SPECTRAL), HRVStream(NO_SPECTRAL)
    t_s, rr, seg = nsr001.t_s[:20_000].tolist(), nsr001.rr_ms[:20_000].tolist(), nsr001.segment_ids[:20_000]
    read = 0
    for i, (t, value, segment) in enumerate(zip(t_s, rr, seg.tolist(), strict=True)):
        quality = BeatQuality.CORRECTED if i % 97 == 0 else BeatQuality.GOOD
        lazy.add(t, value, quality, segment)
        expected = eager.push(t, value, quality, segment)
        if i % 37 == 0:
            assert lazy.window(60.0) == expected.window(60.0)
            assert lazy.snapshot() == expected
            assert lazy.window(300.0) is lazy.window(300.0)  # read twice between beats: computed once
            read += 1
    assert read > 500


def test_spectral_off_keeps_no_beats_for_it() -> None:
    stream = HRVStream(NO_SPECTRAL)
    for t, rr in _steady_beats(600):
        stream.add(t, rr)
    assert stream._spectral is None
    assert stream.snapshot().spectral is None
    assert stream.window(300.0).quality is WindowQuality.OK
    with pytest.raises(KeyError, match="no 30-s window"):
        stream.window(30.0)
