"""Streaming artifact correction: latency bound, agreement with batch, plausibility, bounded memory."""

from __future__ import annotations

import numpy as np
import pytest

from restbeat.beats import BeatClass, BeatQuality
from restbeat.signal import artifacts as art
from restbeat.signal.artifacts.stream import ArtifactStream, CleanBeat
from restbeat.signal.artifacts.windows import JOIN, PAD
from restbeat.signal.stream import HRVStream, StreamConfig
from tests.signal.test_artifacts import sinus
from tests.support.shared_data import bundled


def run(rr: np.ndarray, **kwargs: object) -> tuple[list[CleanBeat], ArtifactStream]:
    stream = ArtifactStream(record_classes=True)
    out: list[CleanBeat] = []
    t = 0.0
    for value in rr.tolist():
        t += value / 1000.0
        out += stream.push(t, value, **kwargs)  # type: ignore[arg-type]
    out += stream.flush()
    return out, stream


def with_artifacts() -> tuple[np.ndarray, np.ndarray]:
    """A sinus series with one isolated artifact of each class, far from the edges and from each other."""
    clean = sinus(800, seed=5)
    rr = clean.copy()
    rr[150] -= 240  # ectopic pair
    rr[151] += 240
    rr[300] += 180  # late (misaligned) beat
    rr[301] -= 180
    rr = np.concatenate([rr[:450], [rr[450] * 0.4, rr[450] * 0.6], rr[451:]])  # extra beat at 450
    rr = np.concatenate([rr[:600], [rr[600] + rr[601]], rr[602:]])  # missed beat at 600
    total = rr[700:703].sum()  # a couplet of premature beats and its compensatory pause at 700 (clean 700)
    rr[700], rr[701] = 0.55 * rr[700], 0.55 * rr[701]
    rr[702] = total - rr[700] - rr[701]
    return clean, rr


def test_every_beat_is_final_within_its_stated_latency() -> None:
    """3 beats with no flag nearby; 7 beats after the last flag of its window (docs/artifacts.md)."""
    _, rr = with_artifacts()
    stream = ArtifactStream(record_classes=True)
    final_at: dict[int, int] = {}
    t = 0.0
    for k, value in enumerate(rr.tolist()):
        t += value / 1000.0
        stream.push(t, value)
        for index, _ in stream.input_classes():
            final_at.setdefault(index, k)
    flagged = [index for index, code in stream.input_classes() if code != art.NORMAL]
    assert flagged
    for index, at in final_at.items():
        nearest = min(abs(index - f) for f in flagged)
        if nearest > JOIN + PAD:
            assert at - index <= 3, index
        else:
            last_flag = max(f for f in flagged if abs(f - index) <= JOIN + PAD)
            assert at - max(index, last_flag) <= JOIN + 2, index
    assert len(final_at) >= rr.size - 3


def test_stream_corrects_each_class_like_batch() -> None:
    clean, rr = with_artifacts()
    out, stream = run(rr)
    batch = art.correct_rr(rr, config=art.ArtifactConfig(passes=1))
    streamed = np.array([beat.rr_ms for beat in out])
    assert streamed.size == batch.rr_ms.size == clean.size
    assert np.abs(streamed - batch.rr_ms).max() < 1e-9
    assert np.abs(streamed - clean)[20:].max() < 35
    codes = dict(stream.input_classes())
    flagged = {art.CLASSES[code].value for code in codes.values() if code != art.NORMAL}
    assert {"ectopic", "extra", "missed"} <= flagged
    corrected = [beat for beat in out if beat.quality is BeatQuality.CORRECTED]
    assert {beat.kind for beat in corrected} >= {BeatClass.ECTOPIC, BeatClass.EXTRA, BeatClass.MISSED}


def test_stream_agrees_with_batch_on_a_real_day() -> None:
    """Every beat of nsr2db nsr001 (PhysioNet, ODC-By 1.0), ectopic beats included: >= 99 % same class."""
    from benchmarks.artifact_real import all_beat_intervals

    rr, _ = all_beat_intervals(bundled("physionet_nsr2db", "nsr001"), "ecg")
    _, stream = run(rr)
    streamed = np.zeros(rr.size, np.int8)
    for index, code in stream.input_classes():
        streamed[index] = code
    batch = art.correct_rr(rr).input_class
    assert np.mean(streamed == batch) >= 0.99
    assert np.count_nonzero(streamed) > 100  # the record's ectopic beats are seen


def test_plausibility_in_the_stream() -> None:
    rr = sinus(80)
    stream = ArtifactStream(record_classes=True)
    out: list[CleanBeat] = []
    t = 0.0
    for i, value in enumerate(rr.tolist()):
        t += value / 1000.0
        out += stream.push(
            t,
            value,
            first_after_connect=i == 0,
            contact=False if 40 <= i < 43 else None,
            follows_in_packet=i == 61,
        )
    t += 0.05
    out += stream.push(t, 50.0, follows_in_packet=True)  # bogus value after a real one
    out += stream.push(t + 4.0, 4000.0)  # a gap
    out += stream.flush()
    kinds = [beat.kind for beat in out]
    assert kinds[0] is BeatClass.FIRST_AFTER_CONNECT and out[0].quality is BeatQuality.EXCLUDED
    assert kinds.count(BeatClass.NO_CONTACT) == 3
    assert all(b.quality is BeatQuality.NO_CONTACT for b in out if b.kind is BeatClass.NO_CONTACT)
    assert out[-2].kind is BeatClass.BOGUS_SHORT and out[-1].kind is BeatClass.OUT_OF_RANGE
    # a good beat never shares a segment with an excluded or no-contact beat
    bad_segments = {b.segment for b in out if b.quality in (BeatQuality.EXCLUDED, BeatQuality.NO_CONTACT)}
    assert not bad_segments & {b.segment for b in out if b.quality is BeatQuality.GOOD}


def test_input_segment_change_flushes_and_restarts() -> None:
    stream = ArtifactStream()
    out: list[CleanBeat] = []
    t = 0.0
    for seg in (0, 1):
        for value in sinus(50, seed=seg).tolist():
            t += value / 1000.0
            out += stream.push(t, value, segment=seg)
    out += stream.flush()
    assert len(out) == 100
    assert len({beat.segment for beat in out[:50]}) == 1
    assert out[49].segment != out[50].segment


def test_buffers_stay_bounded() -> None:
    rr = sinus(20000, seed=9)
    stream = ArtifactStream()
    t = 0.0
    for value in rr.tolist():
        t += value / 1000.0
        stream.push(t, value)
    segment = stream._segment
    assert segment is not None
    assert max(len(column) for column in segment.columns) < 80


def test_feeding_the_hrv_stream_gives_artifact_free_rmssd() -> None:
    clean, rr = with_artifacts()
    out, _ = run(rr)
    hrv = HRVStream(StreamConfig(spectral_every_s=float("inf")))
    snaps = [hrv.push(beat.t_s, beat.rr_ms, beat.quality, beat.segment) for beat in out]
    clean_hrv = HRVStream(StreamConfig(spectral_every_s=float("inf")))
    t = np.cumsum(clean) / 1000.0
    clean_snaps = [clean_hrv.push(float(a), float(b)) for a, b in zip(t, clean, strict=True)]
    ours = snaps[-1].window(300).rmssd_ms
    truth = clean_snaps[-1].window(300).rmssd_ms
    assert ours is not None and truth is not None
    assert ours == pytest.approx(truth, rel=0.05)
