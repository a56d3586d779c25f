"""Artifact detection after Lipponen & Tarvainen (2019): features of each interval and its class, vectorised
(batch) and one interval at a time (stream), with the same rules.

For interval j of a segment (J Med Eng Technol 43(3):173-181, the Kubios "automatic" method):

* dRR_j = RR_j - RR_{j-1}, normalised by Th1_j = α·QD(dRR) over 91 beats centred on j (α = 5.2,
  QD = (Q3 - Q1)/2 of the signed series, linear quartiles, ends mirrored);
* mRR_j = RR_j - median of the 11 intervals centred on j, doubled when negative, normalised by
  Th2_j = α·QD(|mRR|);  both thresholds are capped at 30 % of the local median (dense ectopy);
* S1 ectopic: |dRR_j| > 1.6 and S12 beyond -c1·dRR_j ∓ c2 (c1 = 0.13, c2 = 0.17);
* S2 long/short: |dRR_j| > 1.6 and S22 past ∓1, or |mRR_j| > 3;
* missed: long and |RR_j/2 - med_j| below max(Th2_j, 10 % of med_j); extra: short and
  |RR_j + RR_{j+1} - med_j| below the same tolerance.

Every interval is classified from its own local features, so the streaming detector applies the same rule
function (:func:`classify_one`).  A flag is a candidate: what the flagged intervals were is decided by the
correction (:mod:`restbeat.signal.artifacts.runs`), which may find them normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from restbeat.signal._arrays import FloatArray, as_float_array
from restbeat.signal.artifacts.config import (
    DEFAULT_CONFIG,
    ECTOPIC,
    EXTRA,
    LONG,
    MISSED,
    NORMAL,
    SHORT,
    ArtifactConfig,
)


def rolling_quartile_deviation(values: FloatArray, window: int) -> FloatArray:
    """(Q3 - Q1)/2 over ``window`` samples centred on each sample; ends mirrored; linear quartiles."""
    from scipy.ndimage import rank_filter

    size = min(window, values.size if values.size % 2 else values.size - 1)
    size = max(size, 1)
    quartiles = []
    for q in (0.25, 0.75):
        position = q * (size - 1)
        low = math.floor(position)
        frac = position - low
        lower = rank_filter(values, low, size=size, mode="mirror")
        if frac == 0.0:
            quartiles.append(lower)
        else:
            upper = rank_filter(values, low + 1, size=size, mode="mirror")
            quartiles.append(lower + frac * (upper - lower))
    return np.asarray((quartiles[1] - quartiles[0]) / 2.0, dtype=np.float64)


def rolling_median(values: FloatArray, window: int) -> FloatArray:
    """Median over ``window`` samples centred on each sample, ends mirrored."""
    from scipy.ndimage import median_filter

    size = max(1, min(window, values.size if values.size % 2 else values.size - 1))
    return np.asarray(median_filter(values, size=size, mode="mirror"), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Features:
    """Normalised dRR and mRR with the local median, Th1 and Th2 (ms) of every interval of a segment."""

    rr: FloatArray
    d: FloatArray
    m: FloatArray
    median: FloatArray
    th2: FloatArray
    th1: FloatArray | None = None


def _normalise(values: FloatArray, threshold: FloatArray) -> FloatArray:
    out = np.zeros_like(values)
    np.divide(values, threshold, out=out, where=threshold > 0)
    return out


def features(rr_ms: FloatArray, config: ArtifactConfig = DEFAULT_CONFIG) -> Features:
    """Centred-window features of one contiguous segment (batch)."""
    rr = as_float_array(rr_ms)
    drr = np.empty_like(rr)
    drr[1:] = np.diff(rr)
    drr[0] = drr[1:].mean() if rr.size > 1 else 0.0
    median = rolling_median(rr, config.median_window)
    th1 = np.minimum(
        config.alpha * rolling_quartile_deviation(drr, config.threshold_window), config.threshold_cap * median
    )
    mrr = rr - median
    mrr[mrr < 0] *= 2.0
    th2 = np.minimum(
        config.alpha * rolling_quartile_deviation(np.abs(mrr), config.threshold_window),
        config.threshold_cap * median,
    )
    return Features(rr=rr, d=_normalise(drr, th1), m=_normalise(mrr, th2), median=median, th2=th2, th1=th1)


def classify(f: Features, config: ArtifactConfig = DEFAULT_CONFIG) -> NDArray[np.int8]:
    """Class code of every interval from its features (see the module docstring); vectorised."""
    d, m, rr, med, th2 = f.d, f.m, f.rr, f.median, f.th2
    n = d.size
    padded = np.pad(d, 2, mode="reflect") if n > 2 else np.pad(d, 2, mode="edge")
    before, after, after2 = padded[1 : n + 1], padded[3 : n + 3], padded[4 : n + 4]
    s12 = np.where(d > 0, np.maximum(before, after), np.minimum(before, after))
    s22 = np.where(d >= 0, np.minimum(after, after2), np.maximum(after, after2))
    k = config.ectopic_min_d
    ectopic = ((d > k) & (s12 < -config.c1 * d - config.c2)) | ((d < -k) & (s12 > -config.c1 * d + config.c2))
    long = (d > config.long_short_min_d) & (s22 < -1)
    short = (d < -config.long_short_min_d) & (s22 > 1)
    off_median = np.abs(m) > 3
    rr_next = np.append(rr[1:], np.inf)
    tolerance = np.maximum(th2, config.beat_tolerance * med)
    extra = short & (np.abs(rr + rr_next - med) < tolerance)
    missed = long & ~extra & (np.abs(rr / 2 - med) < tolerance)
    longshort = (long | short | off_median) & ~extra & ~missed
    is_long = long | (~short & (m > 0))
    codes = np.full(n, NORMAL, dtype=np.int8)
    codes[longshort & is_long] = LONG
    codes[longshort & ~is_long] = SHORT
    codes[missed] = MISSED
    codes[extra] = EXTRA
    codes[ectopic] = ECTOPIC
    return codes


def classify_one(
    d_prev: float,
    d: float,
    d_next: float,
    d_next2: float,
    m: float,
    rr: float,
    rr_next: float,
    median: float,
    th2: float,
    config: ArtifactConfig = DEFAULT_CONFIG,
) -> int:
    """The rules of :func:`classify` for one interval (used by the streaming detector)."""
    k = config.ectopic_min_d
    if d > k:
        if max(d_prev, d_next) < -config.c1 * d - config.c2:
            return ECTOPIC
    elif d < -k and min(d_prev, d_next) > -config.c1 * d + config.c2:
        return ECTOPIC
    s22 = min(d_next, d_next2) if d >= 0 else max(d_next, d_next2)
    long = d > config.long_short_min_d and s22 < -1
    short = d < -config.long_short_min_d and s22 > 1
    if not (long or short or abs(m) > 3):
        return NORMAL
    tolerance = max(th2, config.beat_tolerance * median)
    if short and abs(rr + rr_next - median) < tolerance:
        return EXTRA
    if long and abs(rr / 2 - median) < tolerance:
        return MISSED
    return LONG if long or (not short and m > 0) else SHORT
