"""Reading any RR or ECG recording restbeat knows, the format told by the file's content.

=====================  ==============================================================================
format                 what it is
=====================  ==============================================================================
rr-text                one RR interval per line, ms or s (Elite HRV, PhysioNet RR files)
kubios-text            Kubios HRV RR text: R-wave time and RR, two columns
polar-sensor-logger    Polar Sensor Logger ``*_RR.txt``
hrv-logger             HRV Logger (Altini) RR CSV
rr-csv                 any CSV with an RR column (and optionally a time column)
restbeat-csv           restbeat's own beat export (beats restored as they were)
openhrv                OpenHRV's CSV event log
fit-hrv                Garmin FIT activity with HRV messages
wfdb-beats             PhysioNet WFDB beat annotations (N-to-N intervals)
wfdb-ecg / ecg-csv     an ECG (WFDB record or CSV with an ECG column): R peaks by neurokit2
restbeat-raw           restbeat's raw strap notifications (``restbeat record --raw``)
=====================  ==============================================================================

Every reader returns :class:`RRRecording`; bad input raises :class:`RecordingError` (a value out of range
:class:`BadValueError`, ranges in :mod:`restbeat.devices.formats.values`) with a one-line
message naming the file, the line where it applies, and what was wrong.
"""

from __future__ import annotations

from pathlib import Path

from restbeat.devices.formats.fit import is_fit, read_fit
from restbeat.devices.formats.lines import HEAD_BYTES, numbered_lines, read_head
from restbeat.devices.formats.openhrv import is_openhrv, read_openhrv
from restbeat.devices.formats.raw_hrm import is_raw_hrm, read_raw_hrm
from restbeat.devices.formats.rr_csv import (
    RESTBEAT_COLUMNS,
    read_restbeat_csv,
    read_rr_csv,
    rr_column,
    split_header,
)
from restbeat.devices.formats.rr_text import column_count, is_numeric_line, read_rr_text
from restbeat.devices.formats.values import BadValueError
from restbeat.devices.formats.wfdb import (
    WFDB_BEAT_SYMBOLS,
    looks_like_wfdb,
    read_wfdb_annotations,
    read_wfdb_ecg,
    wfdb_kind,
)
from restbeat.devices.recording import RecordingError, RRRecording, SkippedLine

__all__ = [
    "WFDB_BEAT_SYMBOLS",
    "BadValueError",
    "RRRecording",
    "RecordingError",
    "SkippedLine",
    "detect_format",
    "looks_like_wfdb",
    "read_recording",
    "read_recordings",
    "read_rr_text",
    "read_wfdb_annotations",
]


def _ecg_header(names: list[str]) -> bool:
    from restbeat.devices.formats.ecg import ecg_column

    return ecg_column(names) is not None


def detect_format(path: str | Path) -> str:
    """The format of a recording, by its content (WFDB by the header beside it); raises
    :class:`RecordingError` when restbeat does not know it."""
    source = Path(path)
    if looks_like_wfdb(source):
        return wfdb_kind(source)
    head, text = read_head(source)
    if is_fit(head):
        return "fit-hrv"
    if len(head) == HEAD_BYTES and not any(end in text for end in "\n\r"):
        next(numbered_lines(source), None)  # a first line over the limit is an error naming line 1
    if "\x00" in text:
        raise RecordingError(
            f"{source}: a binary file that is not a FIT file; not a recording restbeat reads"
        )
    if is_raw_hrm(text):
        return "restbeat-raw"
    if is_openhrv(text):
        return "openhrv"
    first = next((line for line in text.splitlines() if line.strip()), "")
    _, names = split_header(first)
    if tuple(names) == RESTBEAT_COLUMNS:
        return "restbeat-csv"
    if rr_column(names) is not None:
        return "rr-csv"
    if _ecg_header(names):
        return "ecg-csv"
    if not text.strip():
        raise RecordingError(f"{source}: empty file")
    if len(names) > 1 and not first.lstrip().startswith("#") and not is_numeric_line(first):
        raise RecordingError(
            f"{source}, line 1: a CSV header with no RR column (expected one named rr, rr_ms, ibi, RR (s)...)"
        )
    columns = column_count(text)
    if columns == 1:
        return "rr-text"
    if columns == 2:
        return "kubios-text"
    raise RecordingError(
        f"{source}: not a recording restbeat knows (RR text or CSV, Kubios, OpenHRV, FIT, WFDB, ECG, raw)"
    )


def read_recordings(path: str | Path, *, sampling_rate_hz: float | None = None) -> list[RRRecording]:
    """Every recording in a file (a restbeat CSV export may hold several sessions; other files one).
    ``sampling_rate_hz`` is needed only for an ECG CSV without a time column."""
    source = Path(path)
    fmt = detect_format(source)
    if fmt == "restbeat-csv":
        return read_restbeat_csv(source)
    if fmt == "wfdb-beats":
        return [read_wfdb_annotations(source)]
    if fmt == "wfdb-ecg":
        return [read_wfdb_ecg(source)]
    if fmt == "ecg-csv":
        from restbeat.devices.formats.ecg import read_ecg_csv

        return [read_ecg_csv(source, sampling_rate_hz)]
    if fmt == "fit-hrv":
        return [read_fit(source)]
    if fmt == "restbeat-raw":
        return [read_raw_hrm(source)]
    if fmt == "openhrv":
        return [read_openhrv(source)]
    if fmt == "rr-csv":
        return [read_rr_csv(source)]
    return [read_rr_text(source)]


def read_recording(path: str | Path, *, sampling_rate_hz: float | None = None) -> RRRecording:
    """The one recording in a file (see :func:`read_recordings`)."""
    recordings = read_recordings(path, sampling_rate_hz=sampling_rate_hz)
    if len(recordings) != 1:
        raise RecordingError(f"{path}: holds {len(recordings)} sessions; import it with `restbeat import`")
    return recordings[0]
