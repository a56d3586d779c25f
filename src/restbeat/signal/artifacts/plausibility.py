"""Plausibility: intervals no detector should see (junk, gaps, strap garbage, lost contact, reconnects)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from restbeat.beats import BeatClass
from restbeat.signal._arrays import BoolArray, FloatArray, as_float_array
from restbeat.signal.artifacts.config import CODE, DEFAULT_CONFIG, NORMAL, ArtifactConfig


def plausibility(
    rr_ms: FloatArray,
    contact: NDArray[np.bool_] | None = None,
    first_after_connect: BoolArray | None = None,
    follows_in_packet: BoolArray | None = None,
    config: ArtifactConfig = DEFAULT_CONFIG,
) -> NDArray[np.int8]:
    """Class codes of the plausibility stage: NORMAL for intervals that go on to detection.

    ``contact`` False marks intervals measured without skin contact (NO_CONTACT; kept but not analysed);
    ``first_after_connect`` marks the first interval of each connection (it may span the connect);
    ``follows_in_packet`` marks intervals that came after another one in the same BLE notification.
    Intervals shorter than ``junk_below_ms`` or longer than ``gap_above_ms`` are OUT_OF_RANGE.
    """
    rr = as_float_array(rr_ms)
    codes = np.full(rr.size, NORMAL, dtype=np.int8)
    codes[(rr < config.junk_below_ms) | (rr > config.gap_above_ms)] = CODE[BeatClass.OUT_OF_RANGE]
    if follows_in_packet is not None and rr.size > 1:
        previous = np.concatenate([[np.inf], rr[:-1]])
        bogus = np.asarray(follows_in_packet, dtype=bool) & (rr < config.bogus_ratio * previous)
        codes[bogus] = CODE[BeatClass.BOGUS_SHORT]
    if first_after_connect is not None:
        codes[np.asarray(first_after_connect, dtype=bool)] = CODE[BeatClass.FIRST_AFTER_CONNECT]
    if contact is not None:
        codes[~np.asarray(contact, dtype=bool)] = CODE[BeatClass.NO_CONTACT]
    return codes
