"""What a stored row may hold: the enumerations and bounds the schema's CHECK constraints enforce, and the
same rules for readers, which skip a row they cannot use instead of failing on it.

The bounds are wide (they hold everything the live path and the importers produce, excluded intervals
included) and only keep out values no computation can use: an unknown quality or class, a non-finite or
absurd time or interval.  Schema version 4 wrote these rules into its CHECK constraints; changing them
needs a new migration.
"""

from __future__ import annotations

import math
import re

from restbeat.beats import BeatClass, BeatQuality

#: Quality codes and class names a beat may carry.
QUALITIES: frozenset[int] = frozenset(int(q) for q in BeatQuality)
KINDS: frozenset[str] = frozenset(str(k) for k in BeatClass)
#: The longest interval kept, even flagged (ms): 10 min; a strap's 16-bit field tops out at 64 s.
RR_MAX_MS = 600_000.0
#: A time within a session (s from its start) lies within this many seconds of the start (31.7 years).
T_ABS_MAX_S = 1e9
#: Session start times (Unix s, UTC): 1970-01-01 to 9999-12-31, what a calendar date can show.
STARTED_MIN_UTC = 0.0
STARTED_MAX_UTC = 253_402_300_799.0
#: UTC offsets (s): at most a day either way.
TZ_ABS_MAX_S = 86_400
#: Session states: ``importing`` while an import's chunks are being written (readers never see it).
STATUSES = ("recording", "complete", "interrupted", "importing")


_UNUSED = f"{int(BeatQuality.NO_CONTACT)}, {int(BeatQuality.EXCLUDED)}"  # qualities never used for HRV


def _in(values: frozenset[int] | frozenset[str] | tuple[str, ...]) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in sorted(values))


#: SQL condition over a beats row (columns t_s, rr_ms, segment, quality, kind, drr_ms): true for a row a
#: reader can use.  An RR of 0 (strap junk) is kept only flagged as excluded or measured without contact;
#: a beat used for HRV has a positive RR.
BEAT_ROW_OK = (
    f"typeof(seq) = 'integer' AND seq >= 0 AND typeof(segment) = 'integer'"
    f" AND typeof(t_s) IN ('real', 'integer') AND abs(t_s) <= {T_ABS_MAX_S:.0f}"
    f" AND typeof(rr_ms) IN ('real', 'integer') AND rr_ms >= 0 AND rr_ms <= {RR_MAX_MS:.0f}"
    f" AND (rr_ms > 0 OR quality IN ({_UNUSED}))"
    f" AND quality IN ({_in(QUALITIES)}) AND kind IN ({_in(KINDS)})"
    f" AND (drr_ms IS NULL OR abs(drr_ms) <= {RR_MAX_MS:.0f})"
)

#: The same rule, cheaper, for readers: a comparison with a number is false for text, blobs and NULL in
#: SQLite, so no typeof() is needed to keep out what the arrays cannot hold.
BEAT_READ_OK = (
    f"t_s BETWEEN -{T_ABS_MAX_S:.0f} AND {T_ABS_MAX_S:.0f} AND rr_ms BETWEEN 0 AND {RR_MAX_MS:.0f}"
    f" AND (rr_ms > 0 OR quality IN ({_UNUSED})) AND segment BETWEEN -{2**62} AND {2**62}"
    f" AND quality IN ({_in(QUALITIES)}) AND kind IN ({_in(KINDS)})"
)

#: SQL condition over a sessions row.
SESSION_ROW_OK = (
    f"typeof(started_utc) IN ('real', 'integer') AND started_utc BETWEEN {STARTED_MIN_UTC:.0f}"
    f" AND {STARTED_MAX_UTC:.0f}"
    f" AND (ended_utc IS NULL OR (typeof(ended_utc) IN ('real', 'integer')"
    f" AND ended_utc BETWEEN {STARTED_MIN_UTC:.0f} AND {STARTED_MAX_UTC:.0f}))"
    f" AND typeof(tz_offset_s) = 'integer' AND abs(tz_offset_s) <= {TZ_ABS_MAX_S}"
    f" AND status IN ({_in(STATUSES)})"
)

#: SQL condition over a packets row.
PACKET_ROW_OK = (
    f"typeof(seq) = 'integer' AND seq >= 0 AND typeof(arrival_s) IN ('real', 'integer')"
    f" AND abs(arrival_s) <= {T_ABS_MAX_S:.0f} AND typeof(connection) = 'integer' AND connection >= 0"
    " AND typeof(raw) = 'blob'"
)

#: SQL condition over a link_events row.  Its detail is not required to be JSON SQLite accepts: Python
#: writes NaN as ``NaN``, which json_valid() refuses, and a live recording must never be refused over a
#: detail; readers read a detail that is not JSON as empty (queries.session_records).
EVENT_ROW_OK = (
    f"typeof(t_s) IN ('real', 'integer') AND abs(t_s) <= {T_ABS_MAX_S:.0f} AND typeof(kind) = 'text'"
)


def _equalities(condition: str) -> str:
    """``x IN (a, b)`` over constants written as ``(x = a OR x = b)``: the same truth (NULL included), but
    SQLite evaluates an IN list inside a CHECK constraint by building it anew for every row, which made
    inserting a beat 4 times as slow (5.9 s instead of 1.5 s per million; as equalities 1.9 s)."""

    def chain(match: re.Match[str]) -> str:
        column, values = match.group(1), [value.strip() for value in match.group(2).split(",")]
        return "(" + " OR ".join(f"{column} = {value}" for value in values) + ")"

    return re.sub(r"(\w+(?:\(\w+\))?) IN \(([^()]*)\)", chain, condition)


BEAT_ROW_OK = _equalities(BEAT_ROW_OK)
SESSION_ROW_OK = _equalities(SESSION_ROW_OK)
PACKET_ROW_OK = _equalities(PACKET_ROW_OK)
EVENT_ROW_OK = _equalities(EVENT_ROW_OK)
BEAT_READ_OK = _equalities(BEAT_READ_OK)


def usable_beat(t_s: object, rr_ms: object, quality: object, kind: object) -> bool:
    """The rule of :data:`BEAT_ROW_OK` in Python, for values already read (arrays, a file)."""
    if not isinstance(t_s, int | float) or not isinstance(rr_ms, int | float):
        return False
    if not (math.isfinite(t_s) and abs(t_s) <= T_ABS_MAX_S and 0 <= rr_ms <= RR_MAX_MS):
        return False
    if quality not in QUALITIES or kind not in KINDS:
        return False
    return rr_ms > 0 or quality in (int(BeatQuality.NO_CONTACT), int(BeatQuality.EXCLUDED))
