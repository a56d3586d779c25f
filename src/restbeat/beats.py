"""Beat-level vocabulary shared by every layer (devices produce beats, signal consumes them).

This module holds only plain data definitions, so that ``devices`` and ``signal`` can both use them
without importing each other.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class BeatQuality(IntEnum):
    """How far a beat's RR value can be trusted for HRV.

    GOOD: measured and accepted as it came.  CORRECTED: the value was replaced by artifact correction
    (interpolated, split from a missed beat or merged from an extra one).  NO_CONTACT: measured while the
    strap reported lost skin contact; the value is kept but a window holding it is low quality.
    EXCLUDED: not a usable interval (out of range, strap junk, first after a connect); it is recorded but
    never enters HRV, and it breaks the series like a gap.
    """

    GOOD = 0
    CORRECTED = 1
    NO_CONTACT = 2
    EXCLUDED = 3


class BeatClass(StrEnum):
    """What artifact detection concluded about one RR interval.

    The first six are the classes of Lipponen & Tarvainen (2019); the last four come from the plausibility
    stage in front of it and mean the interval was not used for HRV (NO_CONTACT beats are passed on but
    flagged).
    """

    NORMAL = "normal"
    ECTOPIC = "ectopic"
    MISSED = "missed"
    EXTRA = "extra"
    LONG = "long"
    SHORT = "short"
    OUT_OF_RANGE = "out_of_range"
    BOGUS_SHORT = "bogus_short"
    FIRST_AFTER_CONNECT = "first_after_connect"
    NO_CONTACT = "no_contact"

    @property
    def is_excluded(self) -> bool:
        """True when the interval is dropped before HRV (it starts a new segment)."""
        return self in _EXCLUDED


_EXCLUDED = frozenset({BeatClass.OUT_OF_RANGE, BeatClass.BOGUS_SHORT, BeatClass.FIRST_AFTER_CONNECT})
