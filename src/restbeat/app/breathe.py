"""The scripts of `restbeat breathe` and `restbeat resonance` on a live shift (a strap connected).

* **breathe**: 2 min of quiet breathing (the "before"), the pacer for the session's length, 2 min of quiet
  breathing after; the response (RMSSD before, during and after, RSA amplitude, whether the breathing in the
  RR followed the pacer) is measured by :class:`LiveShift` and stored as a practice outcome.
* **resonance** (Lehrer et al. 2000/2013; Shaffer & Meehan 2020): 2-min trials at 6.5, 6, 5.5, 5 and 4.5
  breaths/min with 1 min of normal breathing between them; the rate with the best sum of ranks over RSA
  amplitude, power at the pace and LF peak (:func:`restbeat.signal.breathing.resonance_assessment`) becomes
  the person's pace, stored as a ``resonance`` outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from restbeat.app.live import AFTER_S, LiveShift, PacerSettings
from restbeat.app.person import RESONANCE
from restbeat.signal.breathing import PacedTrial, ResonanceResult, resonance_assessment

QUIET_BEFORE_S = 120.0
RESONANCE_RATES = (6.5, 6.0, 5.5, 5.0, 4.5)
TRIAL_S = 120.0
REST_S = 60.0


def _minutes(seconds: float) -> str:
    whole = max(int(seconds + 0.999), 0)
    return f"{whole // 60}:{whole % 60:02d}"


@dataclass
class BreatheScript:
    """Quiet before, the pacer, quiet after; ends when the outcome is measured."""

    shift: LiveShift
    duration_s: float
    before_s: float = QUIET_BEFORE_S
    started: bool = False

    def __call__(self, now_s: float) -> bool:
        """Advance; True when done."""
        into = now_s - self.shift.origin_s
        if not self.started and into >= self.before_s:
            self.started = True
            self.shift.start_practice(None, now_s, duration_s=self.duration_s)
        return self.started and bool(self.shift.done)

    def headline(self, now_s: float) -> str:
        """What to do now, in words."""
        into = now_s - self.shift.origin_s
        if not self.started:
            return (
                f"Sit quietly and breathe normally: measuring before ({_minutes(self.before_s - into)} left)"
            )
        run = self.shift.practice
        if run is not None and run.ended_s is not None:
            left = run.ended_s + AFTER_S - now_s
            return f"Done. Breathe normally: measuring after ({_minutes(left)} left)"
        return "Follow the bar: in as it grows, out as it shrinks. Gently, not deeply."


@dataclass
class ResonanceScript:
    """The stepped protocol; :attr:`result` is set at the end."""

    shift: LiveShift
    rates: tuple[float, ...] = RESONANCE_RATES
    trial_s: float = TRIAL_S
    rest_s: float = REST_S
    inhale_share: float = 0.4
    trials: list[PacedTrial] = field(default_factory=list)
    result: ResonanceResult | None = None

    def _schedule(self, into_s: float) -> tuple[int, bool, float]:
        """(trial index, in the trial (else resting before it), seconds left in this part)."""
        block = self.rest_s + self.trial_s
        index = int(into_s // block)
        within = into_s - index * block
        if within < self.rest_s:
            return index, False, self.rest_s - within
        return index, True, block - within

    def __call__(self, now_s: float) -> bool:
        """Advance; True when the protocol is over and analysed."""
        shift = self.shift
        index, in_trial, _ = self._schedule(now_s - shift.origin_s)
        if index >= len(self.rates):
            if self.result is None:
                self.result = self.finish(now_s)
            return True
        if in_trial and len(self.trials) == index:
            pacer = PacerSettings(self.rates[index], self.inhale_share)
            shift.start_practice(None, now_s, duration_s=self.trial_s, pacer=pacer, measured=False)
            self.trials.append(PacedTrial(self.rates[index], now_s, now_s + self.trial_s, pacer.inhale_s))
        return False

    def headline(self, now_s: float) -> str:
        """Where in the protocol the person is."""
        index, in_trial, left = self._schedule(now_s - self.shift.origin_s)
        if index >= len(self.rates):
            return "Done: analysing the trials"
        rate = self.rates[index]
        if in_trial:
            return f"Trial {index + 1} of {len(self.rates)}: {rate:g} breaths/min ({_minutes(left)} left)"
        return f"Breathe normally; next: trial {index + 1} at {rate:g}/min in {_minutes(left)}"

    def finish(self, now_s: float) -> ResonanceResult:
        """Analyse the trials on the beats kept and store the result as a ``resonance`` outcome."""
        t_s, rr_ms = self.shift.recent_beats()
        result = resonance_assessment(t_s, rr_ms, self.trials)
        recorder = self.shift.recorder
        if recorder is not None and self.trials:
            detail = {
                "best_rate_per_min": result.best_rate_per_min,
                "reason": result.reason,
                "trials": [
                    {
                        "rate_per_min": trial.trial.rate_per_min,
                        "rsa_bpm": trial.rsa_bpm,
                        "power_at_pace_ms2": trial.power_at_pace_ms2,
                        "lf_peak_ms2_per_hz": trial.lf_peak_ms2_per_hz,
                        "observed_rate_per_min": trial.observed_rate_per_min,
                        "valid": trial.valid,
                        "note": trial.note,
                    }
                    for trial in result.trials
                ],
            }
            recorder.add_outcome(RESONANCE, self.trials[0].started_s, now_s, detail=detail)
        return result
