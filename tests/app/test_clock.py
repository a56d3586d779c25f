"""The scaled clock: simulated time from an injected real clock, continuous across speed changes, and a
sleep (in real time) that follows speed changes made while it waits."""

from __future__ import annotations

import asyncio
import time

import pytest

from restbeat.app.clock import ScaledClock


class FakeReal:
    """A real (monotonic) clock moved by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_now_starts_at_zero_and_runs_speed_times_as_fast() -> None:
    real = FakeReal()
    clock = ScaledClock(60.0, real=real)
    assert clock.now() == 0.0
    assert clock.speed == 60.0
    real.now += 1.5
    assert clock.now() == pytest.approx(90.0)
    real.now += 0.25
    assert clock.now() == pytest.approx(105.0)


def test_a_speed_change_keeps_time_continuous() -> None:
    real = FakeReal()
    clock = ScaledClock(120.0, real=real)
    real.now += 2.0
    assert clock.now() == pytest.approx(240.0)
    clock.speed = 1.0
    assert clock.now() == pytest.approx(240.0)  # no jump at the change
    real.now += 3.0
    assert clock.now() == pytest.approx(243.0)
    clock.speed = 6.0
    clock.speed = 6.0  # setting the same speed again changes nothing
    assert clock.now() == pytest.approx(243.0)
    real.now += 0.5
    assert clock.now() == pytest.approx(246.0)
    assert clock.speed == 6.0


@pytest.mark.parametrize("speed", [0.0, -1.0])
def test_a_speed_must_be_positive(speed: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(speed, real=FakeReal())
    clock = ScaledClock(2.0, real=FakeReal())
    with pytest.raises(ValueError, match="positive"):
        clock.speed = speed
    assert clock.speed == 2.0


def test_the_default_real_clock_is_monotonic_time() -> None:
    before = time.monotonic()
    clock = ScaledClock(1000.0)
    time.sleep(0.01)
    simulated = clock.now()
    elapsed = time.monotonic() - before
    assert 10.0 <= simulated <= 1000.0 * elapsed


@pytest.mark.asyncio
async def test_sleep_takes_the_scaled_real_time() -> None:
    clock = ScaledClock(100.0)
    start_real, start_sim = time.monotonic(), clock.now()
    await clock.sleep(10.0)
    real = time.monotonic() - start_real
    assert clock.now() - start_sim >= 10.0
    assert 0.099 <= real < 0.3


@pytest.mark.asyncio
async def test_sleep_of_nothing_returns_at_once() -> None:
    clock = ScaledClock(1.0)
    start = time.monotonic()
    await clock.sleep(0.0)
    await clock.sleep(-5.0)
    assert time.monotonic() - start < 0.02


@pytest.mark.asyncio
async def test_sleep_follows_a_speed_change_made_while_it_waits() -> None:
    clock = ScaledClock(1.0)
    start = time.monotonic()
    sleeper = asyncio.create_task(clock.sleep(60.0))
    await asyncio.sleep(0.05)
    assert not sleeper.done()
    clock.speed = 600.0  # the remaining ~59.95 s now take ~0.1 s
    await asyncio.wait_for(sleeper, timeout=2.0)
    real = time.monotonic() - start
    assert 0.14 <= real < 0.3
    assert clock.now() >= 60.0
