"""The breathing pacer: where in the breath the person should be, as a pure function of the time since the
pacer started, checked against a reference written independently (fill = sin² over the inhale, cos² over
the exhale), at exact turns and at irregular refresh times read from a scaled clock; and the bar."""

from __future__ import annotations

import math

import numpy as np
import pytest

from restbeat.app.clock import ScaledClock
from restbeat.app.live import PacerSettings
from restbeat.ui.pacer import PacerFrame, bar, pacer_frame, render_pacer

SIX = PacerSettings()  # 6/min, 4 s in : 6 s out
DURATION_S = 150.0
EIGHTHS = " ▏▎▍▌▋▊▉█"


def reference(elapsed_s: float, rate_per_min: float, inhale_share: float, duration_s: float) -> PacerFrame:
    """The pacer written from its description: breath k (from 1) starts at (k - 1) x period; the bar rises
    as sin² over the inhale and falls as cos² over the exhale."""
    t = min(max(elapsed_s, 0.0), duration_s)
    period = 60.0 / rate_per_min
    inhale = inhale_share * period
    exhale = period - inhale
    breath = math.floor(t / period)
    into = t - breath * period
    if into < inhale:
        fill = math.sin(0.5 * math.pi * into / inhale) ** 2
        return PacerFrame(breath + 1, True, fill, inhale - into, duration_s - t)
    out = into - inhale
    fill = math.cos(0.5 * math.pi * out / exhale) ** 2
    return PacerFrame(breath + 1, False, fill, exhale - out, duration_s - t)


def assert_same(frame: PacerFrame, expected: PacerFrame) -> None:
    assert (frame.breath, frame.inhaling) == (expected.breath, expected.inhaling)
    assert frame.fill == pytest.approx(expected.fill, abs=1e-9)
    assert frame.phase_left_s == pytest.approx(expected.phase_left_s, abs=1e-9)
    assert frame.remaining_s == pytest.approx(expected.remaining_s, abs=1e-9)


def test_settings_split_one_breath() -> None:
    assert (SIX.period_s, SIX.inhale_s, SIX.exhale_s) == pytest.approx((10.0, 4.0, 6.0))
    slow = PacerSettings(rate_per_min=4.5, inhale_share=0.5)
    assert (slow.period_s, slow.inhale_s, slow.exhale_s) == pytest.approx((40 / 3, 20 / 3, 20 / 3))


def test_six_per_minute_four_six_at_the_turns() -> None:
    start = pacer_frame(0.0, SIX, DURATION_S)
    assert start == PacerFrame(1, True, 0.0, 4.0, DURATION_S)
    top = pacer_frame(4.0, SIX, DURATION_S)
    assert (top.breath, top.inhaling) == (1, False)
    assert top.fill == pytest.approx(1.0) and top.phase_left_s == pytest.approx(6.0)
    assert top.remaining_s == pytest.approx(146.0)
    second = pacer_frame(10.0, SIX, DURATION_S)
    assert (second.breath, second.inhaling) == (2, True)
    assert second.fill == pytest.approx(0.0, abs=1e-12) and second.phase_left_s == pytest.approx(4.0)
    assert pacer_frame(2.0, SIX, DURATION_S).fill == pytest.approx(0.5)  # half-way in
    assert pacer_frame(7.0, SIX, DURATION_S).fill == pytest.approx(0.5)  # half-way out


def test_the_inhale_ends_exactly_at_four_seconds() -> None:
    before = pacer_frame(4.0 - 1e-9, SIX, DURATION_S)
    after = pacer_frame(4.0, SIX, DURATION_S)
    assert before.inhaling and not after.inhaling
    assert before.fill == pytest.approx(1.0, abs=1e-6)
    assert before.phase_left_s == pytest.approx(0.0, abs=1e-6) and after.phase_left_s == pytest.approx(6.0)
    end_of_breath = pacer_frame(10.0 - 1e-9, SIX, DURATION_S)
    assert not end_of_breath.inhaling and end_of_breath.breath == 1
    assert end_of_breath.fill == pytest.approx(0.0, abs=1e-6)


def test_the_breath_number_goes_up_every_ten_seconds_and_the_time_left_down() -> None:
    for t in np.arange(0.0, DURATION_S, 0.25):
        frame = pacer_frame(float(t), SIX, DURATION_S)
        assert frame.breath == int(t // 10) + 1, t
        assert frame.remaining_s == pytest.approx(DURATION_S - t)
        assert frame.inhaling == (t % 10 < 4), t


def test_before_the_start_and_after_the_end_the_pacer_holds() -> None:
    assert pacer_frame(-3.0, SIX, DURATION_S) == pacer_frame(0.0, SIX, DURATION_S)
    late = pacer_frame(DURATION_S + 40.0, SIX, DURATION_S)
    assert late == pacer_frame(DURATION_S, SIX, DURATION_S)
    assert late.remaining_s == 0.0


def test_the_bar_grows_through_the_inhale_and_shrinks_through_the_exhale() -> None:
    inhale = [pacer_frame(float(t), SIX, DURATION_S) for t in np.linspace(20.0, 24.0, 81)[:-1]]
    exhale = [pacer_frame(float(t), SIX, DURATION_S) for t in np.linspace(24.0, 30.0, 121)[:-1]]
    assert all(frame.inhaling and frame.breath == 3 for frame in inhale)
    assert all(not frame.inhaling and frame.breath == 3 for frame in exhale)
    assert np.all(np.diff([f.fill for f in inhale]) > 0)
    assert np.all(np.diff([f.fill for f in exhale]) < 0)
    assert np.all(np.diff([f.phase_left_s for f in inhale]) < 0)
    assert np.all(np.diff([f.phase_left_s for f in exhale]) < 0)
    # slow at the turns, fastest in the middle (a half cosine)
    steps = np.diff([f.fill for f in inhale])
    assert steps[0] < steps[len(steps) // 2] > steps[-1]


@pytest.mark.parametrize(
    ("rate", "share"), [(6.0, 0.4), (6.0, 0.5), (4.5, 0.4), (4.5, 0.5), (5.5, 0.45), (7.0, 0.4)]
)
def test_frames_at_irregular_times_match_the_reference(rate: float, share: float) -> None:
    settings = PacerSettings(rate_per_min=rate, inhale_share=share)
    rng = np.random.default_rng(int(rate * 100 + share * 10))
    times = np.cumsum(rng.exponential(0.07, size=3000))  # a screen refreshing irregularly
    times = times[times < DURATION_S]
    frames = {float(t): pacer_frame(float(t), settings, DURATION_S) for t in times}
    for t, frame in frames.items():
        assert_same(frame, reference(t, rate, share, DURATION_S))
    # a pure function of the time: asked again, in any order, the same frame
    for t in rng.permutation(times)[:200]:
        assert pacer_frame(float(t), settings, DURATION_S) == frames[float(t)]


@pytest.mark.parametrize(("rate", "share"), [(6.0, 0.5), (4.5, 0.4), (4.5, 0.5)])
def test_other_ratios_and_rates_turn_at_their_own_times(rate: float, share: float) -> None:
    settings = PacerSettings(rate_per_min=rate, inhale_share=share)
    period = 60.0 / rate
    inhale = period * share
    for k in range(int(DURATION_S // period)):
        start = k * period
        assert pacer_frame(start + 1e-6, settings, DURATION_S).breath == k + 1
        assert pacer_frame(start + inhale - 1e-6, settings, DURATION_S).inhaling
        top = pacer_frame(start + inhale + 1e-6, settings, DURATION_S)
        assert not top.inhaling and top.fill == pytest.approx(1.0, abs=1e-6)
        assert top.phase_left_s == pytest.approx(period - inhale, abs=1e-5)
        assert pacer_frame(start + period - 1e-6, settings, DURATION_S).breath == k + 1


def test_frames_read_from_a_scaled_clock_follow_simulated_time() -> None:
    real = [0.0]
    clock = ScaledClock(6.0, real=lambda: real[0])
    real[0] = 3.0
    started = clock.now()  # the pacer starts 18 s into the session
    rng = np.random.default_rng(5)
    for step in rng.uniform(0.01, 0.4, size=200):
        real[0] += float(step)
        if rng.random() < 0.05:
            clock.speed = float(rng.choice([1.0, 6.0, 60.0]))  # the demo slows down and speeds up
        elapsed = clock.now() - started
        assert_same(pacer_frame(elapsed, SIX, 10 * DURATION_S), reference(elapsed, 6.0, 0.4, 10 * DURATION_S))


def decode(text: str) -> int:
    """The eighths a bar shows."""
    return sum(EIGHTHS.index(char) for char in text)


def test_bar_widths_and_eighths() -> None:
    assert bar(0.0, 10) == " " * 10
    assert bar(1.0, 10) == "█" * 10
    assert bar(0.5, 10) == "█" * 5 + " " * 5
    assert bar(1 / 80, 10) == "▏" + " " * 9
    assert bar(3 / 80, 10) == "▍" + " " * 9
    assert bar(0.55, 10) == "█████▌    "
    assert bar(7 / 16, 2) == "▉ "
    assert bar(1.7, 4) == "████" and bar(-0.2, 4) == "    "
    for width in (1, 7, 40):
        for fill in np.linspace(0.0, 1.0, 97):
            text = bar(float(fill), width)
            assert len(text) == width
            assert decode(text) == round(float(fill) * width * 8)
            assert text.rstrip(" ")[:-1].strip("█") == ""  # full cells, then at most one partial one


def test_render_pacer_shows_the_cue_the_count_and_the_rate() -> None:
    inhaling = render_pacer(pacer_frame(0.5, SIX, DURATION_S), SIX, width=20, hr_bpm=71.6).plain
    first, second = inhaling.split("\n")
    assert first.startswith("breathe in ")
    assert first.endswith("  4 s")
    assert second == "breath 1 · 6/min, in 4.0 s : out 6.0 s · 2:30 left · HR 72"
    exhaling = render_pacer(pacer_frame(95.0, SIX, DURATION_S), SIX, width=20).plain
    assert exhaling.startswith("breathe out")
    assert "  5 s\n" in exhaling and "breath 10 ·" in exhaling and "0:55 left" in exhaling
    assert "HR" not in exhaling
    assert bar(pacer_frame(95.0, SIX, DURATION_S).fill, 20) in exhaling
