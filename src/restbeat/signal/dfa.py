"""Detrended fluctuation analysis (Peng et al. 1995) of an NN series, vectorised per scale.

The mean-removed series is integrated; for each box size n (beats) the profile is cut into
non-overlapping boxes from the start, a least-squares line is removed from each box, and F(n) is the
root mean square of the residuals.  The scaling exponent is the slope of log10 F(n) against log10 n
over every integer n in the range: α1 over 4–16 beats, α2 over 16–64 beats (Peng et al.; Kubios uses
17–64 for α2).

As Kubios HRV does, long series are cut into consecutive pieces of 1000 beats from the first beat (a
remainder shorter than 1000 beats is dropped; a series shorter than 1000 beats is used whole) and the
exponents of the pieces are averaged.  This reproduces Kubios 3.1 reports to 4 decimals (found by
matching five 1-h reports; no public document states it) and keeps a 24-h value from being dominated
by slow drifts across hours.
"""

from __future__ import annotations

import math

import numpy as np

from restbeat.signal._arrays import FloatArray, as_float_array

ALPHA1_SCALES = (4, 16)
ALPHA2_SCALES = (16, 64)
KUBIOS_ALPHA2_SCALES = (17, 64)
PIECE_BEATS = 1000


def fluctuation(profile: FloatArray, box: int) -> float:
    """F(n): RMS of the residuals after a linear fit in each whole box of ``box`` samples."""
    boxes = profile.size // box
    if boxes == 0:
        return math.nan
    segments = profile[: boxes * box].reshape(boxes, box)
    centred = segments - segments.mean(axis=1, keepdims=True)
    ramp = np.arange(box, dtype=np.float64) - (box - 1) / 2.0
    ramp_ss = float(ramp @ ramp)
    projection = centred @ ramp
    residual_ss = float(np.einsum("ij,ij->", centred, centred) - (projection @ projection) / ramp_ss)
    return math.sqrt(max(residual_ss, 0.0) / (boxes * box))


def dfa_alpha(nn_ms: FloatArray, scales: tuple[int, int], piece_beats: int | None = PIECE_BEATS) -> float:
    """Scaling exponent over every integer box size in ``scales`` (inclusive), averaged over pieces.

    ``piece_beats=None`` analyses the whole series as one piece.  NaN when the series (or piece) holds
    fewer than two boxes of the largest size.
    """
    nn = as_float_array(nn_ms)
    if piece_beats is None or nn.size < piece_beats:
        return _alpha_of_piece(nn, scales)
    pieces = nn[: (nn.size // piece_beats) * piece_beats].reshape(-1, piece_beats)
    return float(np.mean([_alpha_of_piece(piece, scales) for piece in pieces]))


def _alpha_of_piece(nn: FloatArray, scales: tuple[int, int]) -> float:
    low, high = scales
    if nn.size < 2 * high or low < 3:
        return math.nan
    profile = np.cumsum(nn - nn.mean())
    sizes = np.arange(low, high + 1)
    fluct = np.array([fluctuation(profile, int(n)) for n in sizes])
    if not np.all(fluct > 0):
        return math.nan
    slope = np.polyfit(np.log10(sizes), np.log10(fluct), 1)[0]
    return float(slope)
