"""Beat-level vocabulary shared by every layer (devices produce beats, signal consumes them).

This module holds only plain data definitions, so that ``devices`` and ``signal`` can both use them
without importing each other.
"""

from __future__ import annotations

from enum import IntEnum


class BeatQuality(IntEnum):
    """How far a beat's RR value can be trusted for HRV.

    GOOD: measured and accepted as it came.  CORRECTED: the value was replaced by artifact correction
    (interpolated, split from a missed beat or merged from an extra one).  NO_CONTACT: measured while the
    strap reported lost skin contact; the value is kept but a window holding it is low quality.
    """

    GOOD = 0
    CORRECTED = 1
    NO_CONTACT = 2
