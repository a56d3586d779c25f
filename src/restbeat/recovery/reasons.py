"""Why the state of a shift changed, as numbers and one plain sentence (the 60-s RMSSD, the person's usual
range and where it comes from, heart rate, recovery times)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from restbeat.recovery.baseline import ReferenceSource


class ReasonKind(StrEnum):
    """What a reason is about."""

    LOW_SUSTAINED = "low-sustained"
    COMING_BACK = "coming-back"
    BACK_IN_RANGE = "back-in-range"
    MOVING = "moving"
    STRESSOR = "stressor"
    HALF_RECOVERED = "half-recovered"
    SLOW_RECOVERY = "slow-recovery"


_USUAL_WHERE = {
    ReferenceSource.CONTEXT: "your usual at this point of a shift",
    ReferenceSource.POOLED: "your usual on shift",
    ReferenceSource.CHECK_IN: "your check-in",
    ReferenceSource.POPULATION: "typical for adults at rest",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the state changed, as numbers: the 60-s RMSSD (ms) now or over ``span_s``, the person's usual
    range (ms) and its source, HR and resting HR (bpm), and for recoveries the times (s)."""

    kind: ReasonKind
    rmssd_ms: float
    span_s: float
    usual_low_ms: float
    usual_high_ms: float
    source: ReferenceSource
    window_s: float = 60.0
    hr_bpm: float | None = None
    resting_hr_bpm: float | None = None
    from_rmssd_ms: float | None = None
    hr_rise_bpm: float | None = None
    half_recovery_s: float | None = None
    usual_half_recovery_s: float | None = None

    def text(self) -> str:
        """The reason in plain words, e.g. "60-s RMSSD 18 ms for 9 min; your usual on shift 27-41 ms"."""
        usual = f"{_USUAL_WHERE[self.source]} {self.usual_low_ms:.0f}-{self.usual_high_ms:.0f} ms"
        window = f"{self.window_s:.0f}-s RMSSD"
        minutes = _minutes(self.span_s)
        if self.kind is ReasonKind.LOW_SUSTAINED:
            return f"{window} {self.rmssd_ms:.0f} ms for {minutes}; {usual}"
        if self.kind is ReasonKind.COMING_BACK:
            return f"{window} back up to {self.rmssd_ms:.0f} ms; {usual}"
        if self.kind is ReasonKind.BACK_IN_RANGE:
            return f"{window} {self.rmssd_ms:.0f} ms, near your usual for {minutes}; {usual}"
        if self.kind is ReasonKind.MOVING:
            above = (self.hr_bpm or 0.0) - (self.resting_hr_bpm or 0.0)
            return (
                f"heart rate {self.hr_bpm:.0f} bpm, {above:.0f} above your resting "
                f"{self.resting_hr_bpm:.0f}, "
                f"for {minutes}: moving, so low HRV is not read as strain"
            )
        if self.kind is ReasonKind.STRESSOR:
            return (
                f"{window} fell from {self.from_rmssd_ms:.0f} to {self.rmssd_ms:.0f} ms within "
                f"{minutes} while heart rate rose {self.hr_rise_bpm:.0f} bpm to {self.hr_bpm:.0f}; {usual}"
            )
        usual_half = (
            f"your usual {_minutes(self.usual_half_recovery_s)}"
            if self.usual_half_recovery_s is not None
            else "more than 10 min is slow for most people"
        )
        if self.kind is ReasonKind.HALF_RECOVERED:
            return f"half-way back to your usual after {_minutes(self.half_recovery_s or 0.0)} ({usual_half})"
        return (
            f"{window} still {self.rmssd_ms:.0f} ms, not half-way back {minutes} after the drop "
            f"({usual_half}); {usual}"
        )


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes = seconds / 60.0
    return f"{minutes:.0f} min" if minutes >= 10 or minutes == round(minutes) else f"{minutes:.1f} min"
