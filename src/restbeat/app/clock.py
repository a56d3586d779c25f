"""Clocks for the live path: the monotonic clock as it is, or scaled for the demo's accelerated shift.

Everything time-based in a live session (packet arrival stamps, the supervisor's watchdog, the strap's
notification rhythm, the pacer) reads one injected clock and sleeps with the matching ``sleep``, so a
shift can run at 60x and the pacer still moves smoothly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

MAX_REAL_NAP_S = 0.05


class ScaledClock:
    """Seconds of simulated time that run ``speed`` times as fast as the real monotonic clock.  The speed
    can change on the way (the demo slows down to show a prompt and the pacer); time stays continuous."""

    def __init__(self, speed: float = 1.0, real: Callable[[], float] = time.monotonic) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self._real = real
        self._anchor_real = real()
        self._anchor_s = 0.0
        self._speed = speed

    def now(self) -> float:
        """Simulated seconds since the clock started."""
        return self._anchor_s + (self._real() - self._anchor_real) * self._speed

    @property
    def speed(self) -> float:
        """Simulated seconds per real second."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value <= 0:
            raise ValueError(f"clock speed must be positive, got {value}")
        self._anchor_s = self.now()
        self._anchor_real = self._real()
        self._speed = value

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of simulated time, following speed changes within 50 ms of real time."""
        end = self.now() + seconds
        while (left := end - self.now()) > 0:
            await asyncio.sleep(min(left / self._speed, MAX_REAL_NAP_S))
