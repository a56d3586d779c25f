"""The range every value read from a recording must fall in, and the one-line error for one that does not.

The ranges are wide on purpose: they refuse what cannot be a measurement (a number that overflows a date,
an interval longer than any pause of a living heart, a sampling rate no ECG uses), not what is merely
unusual.  Unusual but possible values (an RR of 150 or 2500 ms) are kept and left to artifact detection,
whose physiological range (300-2000 ms, :class:`restbeat.signal.artifacts.ArtifactConfig`) flags them.

=======================  ===================================  ==========================================
value                    accepted                             why
=======================  ===================================  ==========================================
RR interval              finite, 0 < RR <= 65 536 ms          what a strap can send (65535/1024 s)
clock time               1970-01-01 .. 2100-01-01 UTC         Unix time; no strap logged outside it
time within a recording  finite, |t| <= 366 days (s)          a session of a year is already implausible
segment, connection      whole number, 0 .. 2**31 - 1         counters; a SQLite INTEGER holds them
quality, kind            :class:`restbeat.beats.BeatQuality`  the values the store holds
                         / :class:`restbeat.beats.BeatClass`
ECG sampling rate        50 .. 10 000 Hz                      R peaks need 50 Hz; no ECG samples faster
ECG sample               finite, |x| <= 1e9                   mV, uV or ADC counts; more is corrupt
=======================  ===================================  ==========================================

restbeat's own beat CSV (an export of the store) is read within the store's bounds instead
(:mod:`restbeat.store.rows`: RR 0 to 600 s, 0 only when excluded or without contact; times within 1e9 s;
starts from 1970 to 9999), so that whatever the store holds can be exported and imported again.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from restbeat.beats import BeatClass, BeatQuality
from restbeat.devices.recording import RecordingError

MAX_RR_MS = 65_536.0  # 65535/1024 s rounded up: the longest a Heart Rate Measurement carries
MIN_UTC_S = 0.0  # 1970-01-01T00:00:00Z
MAX_UTC_S = 4_102_444_800.0  # 2100-01-01T00:00:00Z
MAX_SPAN_S = 366 * 86_400.0
MAX_COUNTER = 2**31 - 1
MIN_SAMPLING_HZ = 50.0
MAX_SAMPLING_HZ = 10_000.0
MAX_ECG_ABS = 1e9
#: What the store holds (restbeat.store.rows, which devices may not import; a test keeps them equal):
#: restbeat's own beat CSV is read back within these, so that anything the store holds round-trips.
STORE_RR_MAX_MS = 600_000.0
STORE_T_ABS_MAX_S = 1e9
STORE_STARTED_MAX_UTC = 253_402_300_799.0
STORE_SEGMENT_ABS_MAX = 2**62
QUALITIES = frozenset(int(q) for q in BeatQuality)
KINDS = frozenset(str(k) for k in BeatClass)


def where(path: Path | str, line: int | None) -> str:
    """``path, line N`` (or the path alone when no line applies), the start of every message."""
    return f"{path}, line {line}" if line is not None else f"{path}"


class BadValueError(RecordingError):
    """A value in a recording is outside what restbeat accepts; the message names file, line and value."""

    def __init__(
        self,
        path: Path | str,
        line: int | None,
        what: str,
        value: object,
        expected: str,
        verdict: str = "is out of range",
    ) -> None:
        shown = value if isinstance(value, str) else repr(value)
        super().__init__(f"{where(path, line)}: {what} {shown!r} {verdict} (expected {expected})")
        self.path = Path(path)
        self.line = line
        self.what = what
        self.value = value


def rr_ok(value_ms: float) -> bool:
    """True for an RR interval a file may hold (finite, 0 < RR <= 65.536 s)."""
    return math.isfinite(value_ms) and 0.0 < value_ms <= MAX_RR_MS


def check_rr(path: Path, line: int | None, value_ms: float, shown: object = None) -> float:
    """``value_ms`` if it is a possible RR interval, else :class:`BadValueError`."""
    if not rr_ok(value_ms):
        raise BadValueError(
            path, line, "RR interval", value_ms if shown is None else shown, "0 < RR <= 65536 ms"
        )
    return value_ms


def check_utc(path: Path, line: int | None, value_s: float, what: str, shown: object = None) -> float:
    """A clock time (Unix s) between 1970 and 2100, else :class:`BadValueError`."""
    if not (math.isfinite(value_s) and MIN_UTC_S <= value_s <= MAX_UTC_S):
        raise BadValueError(path, line, what, value_s if shown is None else shown, "a time from 1970 to 2100")
    return value_s


def check_span(path: Path, line: int | None, value_s: float, what: str, shown: object = None) -> float:
    """A time within a recording (s), finite and at most 366 days from its start."""
    if not (math.isfinite(value_s) and abs(value_s) <= MAX_SPAN_S):
        raise BadValueError(path, line, what, value_s if shown is None else shown, "at most 366 days in s")
    return value_s


def check_counter(
    path: Path, line: int | None, value: object, what: str, low: int = 0, high: int = MAX_COUNTER
) -> int:
    """A whole number ``low`` .. ``high`` (default 0 .. 2**31 - 1; a float like 3.0 or a decimal string
    like '3' is accepted)."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value.strip()) <= 20:
        number = int(value.strip())
    if number is None or not low <= number <= high:
        raise BadValueError(path, line, what, value, f"a whole number {low} to {high}")
    return number


def check_quality(path: Path, line: int | None, text: str) -> int:
    """A beat quality code the store knows (:class:`restbeat.beats.BeatQuality`)."""
    stripped = text.strip()
    if stripped.lstrip("-").isdigit() and len(stripped) <= 4 and int(stripped) in QUALITIES:
        return int(stripped)
    known = ", ".join(f"{int(q)} {q.name.lower()}" for q in BeatQuality)
    raise BadValueError(path, line, "quality", text, f"one of {known}", "is not a quality the store knows")


def check_kind(path: Path, line: int | None, text: str) -> str:
    """A beat class the store knows (:class:`restbeat.beats.BeatClass`)."""
    if text in KINDS:
        return text
    raise BadValueError(
        path, line, "kind", text, "one of " + ", ".join(sorted(KINDS)), "is not a beat class the store knows"
    )


def check_sampling_rate(path: Path, value_hz: float) -> float:
    """An ECG sampling rate restbeat can find R peaks in (50 .. 10 000 Hz)."""
    if not (math.isfinite(value_hz) and MIN_SAMPLING_HZ <= value_hz <= MAX_SAMPLING_HZ):
        raise BadValueError(path, None, "ECG sampling rate (Hz)", value_hz, "50 to 10000 Hz")
    return value_hz


def utc_seconds(
    path: Path,
    line: int | None,
    when: dt.datetime,
    what: str,
    shown: str,
    max_utc_s: float = MAX_UTC_S,
    min_utc_s: float = MIN_UTC_S,
) -> float:
    """Unix s of a parsed date-time (naive: this machine's zone), checked to lie in 1970 .. 2100 (or
    ``min_utc_s`` .. ``max_utc_s``)."""
    expected = "a time from 1970 to 2100" if max_utc_s == MAX_UTC_S else "a time from 1939 to 9999"
    try:
        seconds = (when if when.tzinfo else when.astimezone()).timestamp()
    except (OverflowError, OSError, ValueError) as error:
        raise BadValueError(path, line, what, shown, expected) from error
    if not min_utc_s <= seconds <= max_utc_s:
        raise BadValueError(path, line, what, shown, expected)
    return seconds


def iso_time(path: Path, line: int | None, text: str, what: str) -> dt.datetime:
    """An ISO-8601 date-time, with a message that says what is wrong with it."""
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise RecordingError(
            f"{where(path, line)}: {what} {text.strip()!r} is not an ISO-8601 time"
        ) from error
