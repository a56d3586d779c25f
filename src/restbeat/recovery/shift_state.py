"""The vocabulary of a shift's assessment: its parameters, states and gates, what it reads (a 60-s window),
what it knows of the person before the session (the profile), and what it says (events, the latest tick)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from restbeat.recovery.baseline import CheckIn, Epoch, Reference
from restbeat.recovery.dips import DipConfig
from restbeat.recovery.effort import EffortConfig
from restbeat.recovery.practices import Trigger
from restbeat.recovery.reasons import Reason
from restbeat.recovery.sleep import SleepConfig, SleepSource


@dataclass(frozen=True, slots=True)
class AssessConfig:
    """The assessment's parameters (s, ln ms, z); defaults from the design brief, sections 3.3-3.5.

    ``mature_epochs``: a reference learned from the person's low-effort minutes decides a prompt on its own
    only once it holds this many (180: 3 h); before that a prompt needs the low to be deeper, ``deep_z``
    (-2.0) over ``deep_span_s`` (15 min), or the person's check-in as the reference.
    """

    tick_s: float = 5.0
    enter_z: float = -1.0
    strict_enter_z: float = -1.5
    enter_span_s: float = 450.0
    enter_share: float = 0.8  # of eligible ticks at or below enter_z
    enter_cover: float = 0.8  # eligible ticks as a share of the span
    exit_z: float = -0.5
    exit_hold_s: float = 180.0
    turn_s: float = 60.0  # strained <-> recovering needs this long of eligible ticks past the threshold
    effort_exit_s: float = 120.0
    low_stretch_break_s: float = 60.0
    mature_epochs: int = 180
    deep_z: float = -2.0
    deep_span_s: float = 600.0
    reference_every_s: float = 600.0
    own_epochs_after_s: float = 1800.0
    shift_length_s: float = 12 * 3600.0
    effort: EffortConfig = field(default_factory=EffortConfig)
    sleep: SleepConfig = field(default_factory=SleepConfig)
    dips: DipConfig = field(default_factory=DipConfig)


class State(StrEnum):
    """The state of a shift."""

    SETTLED = "settled"
    STRAINED = "strained"
    RECOVERING = "recovering"


class Gate(StrEnum):
    """Whether a tick can be read as strain, and if not, why."""

    READABLE = "readable"
    NO_DATA = "no usable data"
    NO_REST_HR = "resting heart rate not known yet"
    EFFORT = "moving"
    AFTER_EFFORT = "settling after moving"
    ASLEEP = "probably asleep"


@dataclass(frozen=True, slots=True)
class WindowReading:
    """One 60-s window at beat time ``t_s`` (s): lnRMSSD (ln ms) and mean HR (bpm), None when not usable."""

    t_s: float
    ln_rmssd: float | None
    hr_bpm: float | None
    quality: str = "ok"


@dataclass(frozen=True, slots=True)
class Profile:
    """What is known of the person when a session starts: past low-effort epochs, today's check-in, resting
    HR (bpm), past half-recovery times (s), the shift (start time s, night or day) and, when the session has
    a clock, the local time of day (s after local midnight) at beat time 0."""

    epochs: tuple[Epoch, ...] = ()
    check_in: CheckIn | None = None
    resting_hr_bpm: float | None = None
    half_recoveries_s: tuple[float, ...] = ()
    start_s: float | None = None
    night: bool = False
    local_start_s: float | None = None


@dataclass(frozen=True, slots=True)
class StateChange:
    """The shift's state changed at ``t_s`` (s), for ``reason``."""

    t_s: float
    before: State
    after: State
    reason: Reason


@dataclass(frozen=True, slots=True)
class TriggerEvent:
    """A moment a practice may help (the recommender decides whether to prompt): episode number, z values."""

    t_s: float
    trigger: Trigger
    episode: int
    reason: Reason
    z: float
    z_hr: float | None


Event = StateChange | TriggerEvent


@dataclass(frozen=True, slots=True)
class Assessment:
    """The latest tick: state, gate, the 60-s values and their z against the reference in use.

    ``reason_now`` is the open episode's reason with this tick's numbers while it is still true (the value
    still low), None otherwise: a prompt is delivered only then, and says what is true now.
    ``sleep_source`` says what found the person asleep (None while awake).
    """

    t_s: float
    state: State
    gate: Gate
    rmssd_ms: float | None
    hr_bpm: float | None
    z: float | None
    z_hr: float | None
    reference: Reference
    resting_hr_bpm: float | None
    episode: int | None  # the open episode (strain or stressor), if any
    reason_now: Reason | None = None
    sleep_source: SleepSource | None = None
    reference_mature: bool = False
