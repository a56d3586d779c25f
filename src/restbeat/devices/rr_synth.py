"""Plausible RR intervals for a scripted shift, for the demo strap and for tests.

The heart period is built in continuous time and sampled at each beat (an integrate-and-fire heart):

``RR(t) = mean(t) + rsa(t)/2 * sin(breathing phase) + mayer(t)/2 * sin(2 pi 0.1 t) + drift(t)``,
plus white beat-to-beat noise.

* respiratory sinus arrhythmia at the breathing rate, whose phase advances with +/- 8 % breath-to-breath
  jitter (paced breathing has none: the pacer sets it);
* Mayer waves near 0.1 Hz (baroreflex), the main LF rhythm;
* a slow drift: an AR(1) process with a 60-s time constant (the 1/f-like wander of real RR);
* vagal wander: the RSA amplitude scaled by exp of an AR(1) process (5-min time constant, SD
  ``vagal_wander``), so 60-s RMSSD varies from minute to minute as in real recordings;
* a few artifacts when asked: a missed beat (two intervals merged, as when a strap loses an R peak) or an
  extra one (an interval split in two).

A script is a sequence of :class:`Phase`; values move between phases along a 30-s raised-cosine ramp.
Vagal withdrawal (stress, effort) is a smaller ``rsa_ms`` and ``noise_ms`` with a higher ``hr_bpm``; paced
breathing at 6/min is ``breathing_per_min=6`` with a large ``rsa_ms``, which puts the RSA at the pacer's rate
in the RR exactly as a real strap would see it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MAYER_HZ = 0.1
DRIFT_TAU_S = 60.0
WANDER_TAU_S = 300.0
RAMP_S = 30.0
BREATH_JITTER = 0.08


@dataclass(frozen=True, slots=True)
class Phase:
    """A stretch of a script: length (s), mean HR (bpm), RSA and Mayer-wave peak-to-peak amplitudes (ms),
    white noise and drift SDs (ms), breathing rate (breaths/min), and whether it is paced (no jitter)."""

    duration_s: float
    hr_bpm: float
    rsa_ms: float
    mayer_ms: float = 20.0
    noise_ms: float = 8.0
    drift_ms: float = 15.0
    breathing_per_min: float = 14.0
    paced: bool = False
    vagal_wander: float = 0.1
    label: str = ""


@dataclass(frozen=True, slots=True)
class SyntheticRR:
    """Beat times (s, each beat's end), intervals (ms), the phase index of each beat, and where artifacts
    were put (indices into the intervals)."""

    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    phase: NDArray[np.int64]
    artifacts: tuple[int, ...]


class HeartModel:
    """The integrate-and-fire heart, one beat at a time: :meth:`next_rr_ms` gives the next interval (ms) and
    advances :attr:`t_s`; :meth:`switch` moves to another phase along the 30-s ramp.  The demo's person
    switches phases as the shift unfolds (a stress episode, the pacer's rate); :func:`synthesize` switches
    at a script's boundaries."""

    def __init__(self, phase: Phase, seed: int = 0, rng: np.random.Generator | None = None) -> None:
        self._rng = rng if rng is not None else np.random.default_rng(seed)
        self.t_s = 0.0
        self._breath_phase = self._rng.uniform(0, 2 * math.pi)
        self._mayer_phase = self._rng.uniform(0, 2 * math.pi)
        self._drift = 0.0
        self._wander = 0.0
        self._jitter = 1.0
        self.phase = phase
        self._before = phase
        self._switched_at = -math.inf

    def switch(self, phase: Phase, at_s: float | None = None) -> None:
        """From now (or ``at_s``, s) on, ramp from the current phase to ``phase``."""
        self._before = self.phase
        self.phase = phase
        self._switched_at = self.t_s if at_s is None else at_s

    def _weight(self) -> float:
        into = self.t_s - self._switched_at
        return 1.0 if into >= RAMP_S else 0.5 - 0.5 * math.cos(math.pi * into / RAMP_S)

    def next_rr_ms(self) -> float:
        """The next interval (ms); :attr:`t_s` becomes the time of the beat that ends it."""
        rng, now, before, w = self._rng, self.phase, self._before, self._weight()

        def mix(name: str) -> float:
            return float(w * getattr(now, name) + (1 - w) * getattr(before, name))

        mean_ms = 60000.0 / mix("hr_bpm")
        rr = (
            mean_ms
            + 0.5 * mix("rsa_ms") * math.exp(self._wander) * math.sin(self._breath_phase)
            + 0.5 * mix("mayer_ms") * math.sin(self._mayer_phase)
            + self._drift
            + rng.normal(0.0, mix("noise_ms"))
        )
        rr = max(rr, 250.0)
        step = rr / 1000.0
        if not now.paced and rng.random() < step * mix("breathing_per_min") / 60.0:
            self._jitter = 1.0 + rng.normal(0.0, BREATH_JITTER)  # a new breath, a new length
        jitter = 1.0 if now.paced else self._jitter
        self._breath_phase += 2 * math.pi * mix("breathing_per_min") / 60.0 * jitter * step
        self._mayer_phase += 2 * math.pi * MAYER_HZ * step
        decay = math.exp(-step / DRIFT_TAU_S)
        self._drift = self._drift * decay + mix("drift_ms") * math.sqrt(1 - decay * decay) * rng.normal()
        slow = math.exp(-step / WANDER_TAU_S)
        self._wander = self._wander * slow + mix("vagal_wander") * math.sqrt(1 - slow * slow) * rng.normal()
        self.t_s += step
        return rr


def synthesize(phases: Sequence[Phase], seed: int = 0, artifacts_per_hour: float = 0.0) -> SyntheticRR:
    """The beats of a script (deterministic under ``seed``)."""
    if not phases:
        raise ValueError("a script needs at least one phase")
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0.0], np.cumsum([p.duration_s for p in phases])])
    total = float(starts[-1])
    model = HeartModel(phases[0], rng=rng)
    index = 0
    times: list[float] = []
    intervals: list[float] = []
    labels: list[int] = []
    while model.t_s < total:
        while index + 1 < len(phases) and model.t_s >= starts[index + 1]:
            index += 1
            model.switch(phases[index], at_s=float(starts[index]))
        intervals.append(model.next_rr_ms())
        times.append(model.t_s)
        labels.append(index)
    t_s = np.asarray(times)
    rr_ms = np.asarray(intervals)
    phase = np.asarray(labels, dtype=np.int64)
    artifacts: list[int] = []
    count = rng.poisson(artifacts_per_hour * total / 3600.0) if artifacts_per_hour > 0 else 0
    if count:
        for position in sorted(rng.choice(np.arange(5, rr_ms.size - 5), size=count, replace=False)):
            artifacts.append(int(position))
        rr_list, t_list, ph_list = list(rr_ms), list(t_s), list(phase)
        for position in reversed(artifacts):
            if rng.random() < 0.5:  # a missed beat: merge with the next interval
                rr_list[position] += rr_list.pop(position + 1)
                t_list.pop(position)
                ph_list.pop(position)
            else:  # an extra beat: split the interval in two
                first = rr_list[position] * rng.uniform(0.3, 0.6)
                rr_list[position : position + 1] = [first, rr_list[position] - first]
                t_list.insert(position, t_list[position] - (rr_list[position + 1]) / 1000.0)
                ph_list.insert(position, ph_list[position])
        rr_ms, t_s, phase = np.asarray(rr_list), np.asarray(t_list), np.asarray(ph_list, dtype=np.int64)
    return SyntheticRR(t_s, rr_ms, phase, tuple(artifacts))
