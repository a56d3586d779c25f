"""ECG recordings turned into RR intervals: R peaks found by neurokit2 (its default cleaning and detector).

On MIT-BIH records 100 (clean) and 105 (noisy) this finds 99.9 % and 98.8 % of the reference beats within
50 ms (tests/devices/test_formats.py).  The RR series then goes through artifact correction like any
other import.
"""

from __future__ import annotations

import csv
import math
from array import array
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from restbeat.devices.formats.lines import MAX_ECG_SAMPLES, check_count, numbered_lines
from restbeat.devices.formats.values import MAX_ECG_ABS, MAX_UTC_S, BadValueError, check_sampling_rate
from restbeat.devices.recording import RecordingError, RRRecording

ECG_COLUMNS = ("ecg", "ecg_mv", "ecg_raw", "ecg (mv)", "ecg_uv", "ecg (uv)")
TIME_COLUMNS = {"time": 1.0, "time_s": 1.0, "timestamp": 1.0, "time_ms": 1e-3, "time_ns": 1e-9, "t": 1.0}
_MIN_SECONDS = 10.0
_MIN_SAMPLES = 2


def r_peaks(ecg: NDArray[np.float64], sampling_rate_hz: float) -> NDArray[np.int64]:
    """Sample indices of the R peaks in one ECG lead."""
    import neurokit2 as nk

    cleaned = nk.ecg_clean(ecg, sampling_rate=sampling_rate_hz)
    _, info = nk.ecg_peaks(cleaned, sampling_rate=sampling_rate_hz, correct_artifacts=False)
    return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)


def recording_from_ecg(
    source: Path,
    fmt: str,
    ecg: NDArray[np.float64],
    sampling_rate_hz: float,
    started_utc: float | None = None,
) -> RRRecording:
    """The RR recording of an ECG lead (peaks to intervals, in ms)."""
    check_sampling_rate(source, sampling_rate_hz)
    if ecg.size > MAX_ECG_SAMPLES:
        raise RecordingError(
            f"{source}: more than {MAX_ECG_SAMPLES:,} ECG samples in one file; split the file"
        )
    finite = np.isfinite(ecg)
    if finite.any() and float(np.max(np.abs(ecg[finite]))) > MAX_ECG_ABS:
        index = int(np.flatnonzero(finite & (np.abs(ecg) > MAX_ECG_ABS))[0])
        raise BadValueError(source, None, f"ECG sample {index}", float(ecg[index]), f"|x| <= {MAX_ECG_ABS:g}")
    if finite.sum() < _MIN_SECONDS * sampling_rate_hz:
        raise RecordingError(
            f"{source}: less than {_MIN_SECONDS:.0f} s of ECG ({int(finite.sum())} finite samples of "
            f"{ecg.size} at {sampling_rate_hz:g} Hz)"
        )
    if not finite.all():
        ecg = np.interp(np.arange(ecg.size), np.flatnonzero(finite), ecg[finite])
    try:
        peaks = r_peaks(ecg, sampling_rate_hz)
    except Exception as error:  # neurokit2 raises bare ValueError/IndexError/etc. on signals it cannot use
        raise RecordingError(f"{source}: no heartbeats found in the ECG ({type(error).__name__})") from error
    if peaks.size < 3:
        raise RecordingError(f"{source}: no heartbeats found in the ECG")
    rr = np.diff(peaks) * (1000.0 / sampling_rate_hz)
    return RRRecording(
        path=source,
        format=fmt,
        rr_ms=rr.astype(np.float64),
        t_s=peaks[1:] / sampling_rate_hz,
        segment_ids=np.zeros(rr.size, dtype=np.int64),
        started_utc=started_utc,
        notes=(f"{peaks.size} R peaks detected by neurokit2 in {ecg.size / sampling_rate_hz:.0f} s of ECG",),
    )


def ecg_column(header: list[str]) -> int | None:
    """Index of the ECG column in a CSV header, or None."""
    names = [name.strip().lower() for name in header]
    for candidate in ECG_COLUMNS:
        if candidate in names:
            return names.index(candidate)
    return None


def _time(source: Path, number: int, cell: str, scale: float) -> float:
    """A time cell in s (Unix s up to 2100, or s from the start)."""
    value = float(cell) * scale
    if not (math.isfinite(value) and abs(value) <= MAX_UTC_S):
        raise BadValueError(source, number, "time", cell.strip(), "a time up to 2100, or s from the start")
    return value


def read_ecg_csv(path: str | Path, sampling_rate_hz: float | None = None) -> RRRecording:
    """An ECG CSV (a column named ECG; a time column in s, ms or ns, or ``sampling_rate_hz``), read a
    line at a time into packed arrays (at most ``MAX_ECG_SAMPLES`` rows)."""
    source = Path(path)
    numbered = numbered_lines(source)
    first = next(numbered, None)
    header = first[1] if first else ""
    delimiter = max((";", ",", "\t"), key=header.count)
    names = [name.strip().strip('"').strip().lower() for name in header.split(delimiter)]
    column = ecg_column(names)
    if column is None:
        raise RecordingError(f"{source}, line 1: no ECG column (expected one named ECG)")
    time_column = next((names.index(name) for name in TIME_COLUMNS if name in names), None)
    scale = TIME_COLUMNS[names[time_column]] if time_column is not None else 1.0
    values = array("d")
    times = array("d")
    current = [1]

    def texts() -> Iterator[str]:
        for number, line in numbered:
            current[0] = number
            yield line

    for row in csv.reader(texts(), delimiter=delimiter):
        number = current[0]
        if not row:
            continue
        try:
            sample = float(row[column]) if row[column].strip() else np.nan
            if abs(sample) > MAX_ECG_ABS and math.isfinite(sample):
                raise BadValueError(
                    source, number, "ECG sample", row[column].strip(), f"|x| <= {MAX_ECG_ABS:g}"
                )
            values.append(sample)
            if time_column is not None:
                times.append(_time(source, number, row[time_column], scale))
        except (ValueError, IndexError) as error:
            raise RecordingError(
                f"{source}, line {number}: not a number in the ECG or time column"
            ) from error
        check_count(source, number, len(values), MAX_ECG_SAMPLES, "ECG samples")
    ecg = np.array(values, dtype=np.float64)
    started_utc = None
    if sampling_rate_hz is None:
        if time_column is None:
            raise RecordingError(
                f"{source}: an ECG without a time column; give its sampling rate (--sampling-rate HZ)"
            )
        t = np.array(times, dtype=np.float64)
        if t.size < _MIN_SAMPLES:
            raise RecordingError(f"{source}: less than {_MIN_SECONDS:.0f} s of ECG")
        step = float(np.median(np.diff(t)))
        if not step > 0:
            raise RecordingError(f"{source}: the time column does not increase")
        sampling_rate_hz = 1.0 / step
        if scale == 1e-9:
            started_utc = float(t[0])
    return recording_from_ecg(source, "ecg-csv", ecg, float(sampling_rate_hz), started_utc)
