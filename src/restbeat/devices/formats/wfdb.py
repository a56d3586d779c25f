"""PhysioNet WFDB records: beat annotations (N-to-N intervals) or the ECG signal itself.

A record is addressed by any of its files.  An annotation file (``rec.atr``, ``.ecg``, ``.qrs``, ``.ann``)
gives its beats; the header or record name gives the beats when an annotation file lies beside it, else
the ECG; a signal file (``rec.dat``) always gives the ECG, whose R peaks are detected by neurokit2.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from restbeat.devices.formats.lines import MAX_BEATS, MAX_ECG_SAMPLES, check_count
from restbeat.devices.formats.lines import check_file as check_readable
from restbeat.devices.formats.values import MAX_RR_MS, MAX_SPAN_S, BadValueError, check_sampling_rate
from restbeat.devices.recording import RecordingError, RRRecording

#: WFDB beat annotation codes (non-beat codes such as ~ | + are annotations, not beats).
WFDB_BEAT_SYMBOLS = frozenset("NLRBAaJSVFejnE/fQ")
WFDB_ANNOTATORS = ("atr", "ecg", "qrs", "ann")
_ECG_LEADS = ("MLII", "II", "ECG", "I", "V5", "V1")


def looks_like_wfdb(path: Path) -> bool:
    """True for a WFDB header, a signal or annotation file with a ``.hea`` header beside it, or a record
    name (no such file) with a header ``NAME.hea``.  Any other file is read for its content, even beside
    a same-named header (``rr.txt`` next to ``rr.hea`` is RR text)."""
    if path.suffix == ".hea":
        return True
    if path.suffix in (".dat", *(f".{a}" for a in WFDB_ANNOTATORS)):
        return path.with_suffix(".hea").exists()
    if path.is_file() or path.is_symlink():
        return False
    return path.with_name(f"{path.name}.hea").exists()


def _annotator_beside(base: Path) -> str | None:
    for annotator in WFDB_ANNOTATORS:
        if base.with_name(f"{base.name}.{annotator}").exists():
            return annotator
    return None


def wfdb_kind(path: Path) -> str:
    """'wfdb-beats' or 'wfdb-ecg': what a WFDB path gives (see the module docstring)."""
    if path.suffix[1:] in WFDB_ANNOTATORS:
        return "wfdb-beats"
    if path.suffix == ".dat":
        return "wfdb-ecg"
    base = path.with_suffix("") if path.suffix == ".hea" else path
    return "wfdb-beats" if _annotator_beside(base) else "wfdb-ecg"


def _record_and_annotator(path: Path) -> tuple[Path, str]:
    """Split ``rec.ext`` into record base and annotator; for ``rec`` or ``rec.hea`` find the annotator."""
    if path.suffix[1:] in WFDB_ANNOTATORS:
        return path.with_suffix(""), path.suffix[1:]
    base = path.with_suffix("") if path.suffix in (".hea", ".dat") else path
    annotator = _annotator_beside(base)
    if annotator is None:
        raise RecordingError(f"{path}: no WFDB annotation file ({', '.join(WFDB_ANNOTATORS)}) next to it")
    return base, annotator


_DEFINITION_NOTES = (b"## annotation type definitions", b"## end of definitions")
_FS_NOTE = re.compile(rb"## time resolution: \d")
_SKIP, _AUX = 59, 63  # WFDB annotation codes followed by data: 4 bytes of interval, or N bytes of note


def _aux_notes(data: bytes) -> list[bytes]:
    """The auxiliary notes of a WFDB annotation file (16-bit words: 6-bit code, 10-bit value)."""
    notes = []
    index = 0
    while index + 1 < len(data):
        word = data[index] | data[index + 1] << 8
        index += 2
        if word == 0:
            break  # the end of the annotations
        code, value = word >> 10, word & 0x3FF
        if code == _SKIP:
            index += 4
        elif code == _AUX:
            notes.append(data[index : index + value])
            index += value + (value & 1)
    return notes


def _check_definition_notes(annotation_file: Path) -> None:
    """Refuse an annotation file whose ``## `` notes wfdb cannot read: wfdb 4 loops forever on a ``## ``
    note that is neither the time resolution (the first one only) nor a label definition marker."""
    try:
        data = annotation_file.read_bytes()
    except OSError as error:
        raise RecordingError(f"{annotation_file}: cannot read ({error.strerror or error})") from error
    resolution_seen = False
    for note in _aux_notes(data):
        if not note.startswith(b"## "):
            continue
        if not resolution_seen and _FS_NOTE.match(note):
            resolution_seen = True
        elif not note.startswith(_DEFINITION_NOTES):
            shown = note[:40].decode("latin-1")
            raise RecordingError(f"{annotation_file}: not a readable WFDB annotation file (a note {shown!r})")


_MAX_HEADER_BYTES = 256 * 1024
_MAX_HEADER_LINE = 1024  # wfdb's header regexes take quadratic time in a line's length (48 s at 70 000)


def _check_header(header: Path) -> None:
    """Refuse a WFDB header wfdb would take minutes over: over 256 KiB, or a line over 1024 characters
    (real headers have lines under 200)."""
    if not header.exists():
        return
    check_readable(header)
    try:
        with header.open("rb") as handle:
            data = handle.read(_MAX_HEADER_BYTES + 1)
    except OSError as error:
        raise RecordingError(f"{header}: cannot read ({error.strerror or error})") from error
    if len(data) > _MAX_HEADER_BYTES:
        raise RecordingError(f"{header}: not a WFDB header (over {_MAX_HEADER_BYTES >> 10} KiB)")
    for number, line in enumerate(data.splitlines(), start=1):
        if len(line) > _MAX_HEADER_LINE:
            raise RecordingError(
                f"{header}, line {number}: not a WFDB header line (over {_MAX_HEADER_LINE} bytes)"
            )


def read_wfdb_annotations(path: str | Path) -> RRRecording:
    """NN intervals from WFDB beat annotations: the intervals between two consecutive N beats.

    An interval is kept only when both beats are labelled N and no other annotation (a non-N beat, a
    signal-quality change ``~`` or an artifact mark ``|``) lies between them; a dropped interval starts a
    new segment, so no successive difference is taken across it.
    """
    import wfdb

    source = Path(path)
    record, annotator = _record_and_annotator(source)
    annotation_file = record.with_name(f"{record.name}.{annotator}")
    check_readable(annotation_file)
    _check_definition_notes(annotation_file)
    _check_header(record.with_name(f"{record.name}.hea"))
    try:
        annotation = wfdb.rdann(str(record), annotator)
    except Exception as error:  # wfdb raises bare ValueError/IndexError/etc. on corrupt files
        raise RecordingError(f"{annotation_file}: not a readable WFDB annotation file ({error})") from error
    samples = np.asarray(annotation.sample, dtype=np.int64)
    symbols = np.asarray(annotation.symbol)
    fs = float(annotation.fs) if annotation.fs else 0.0
    if not 0 < fs < float("inf"):
        raise RecordingError(f"{annotation_file}: the annotation carries no sampling frequency")
    check_count(annotation_file, None, samples.size, 2 * MAX_BEATS, "annotations")
    is_normal = symbols == "N"
    # interval k runs from annotation k to annotation k+1 and is NN when both are N (nothing between)
    nn_mask = is_normal[:-1] & is_normal[1:]
    n_beats = int(np.isin(symbols, list(WFDB_BEAT_SYMBOLS)).sum())
    start = np.flatnonzero(nn_mask)
    if start.size < 2:
        raise RecordingError(f"{annotation_file}: fewer than two N-to-N intervals")
    rr_ms = (samples[start + 1] - samples[start]) * (1000.0 / fs)
    possible = (rr_ms > 0) & (rr_ms <= MAX_RR_MS) & np.isfinite(rr_ms)  # a corrupt file's or a lost signal's
    start, rr_ms = start[possible], rr_ms[possible]
    if start.size < 2:
        raise RecordingError(f"{annotation_file}: fewer than two N-to-N intervals")
    t_s = samples[start + 1] / fs
    if not float(np.max(np.abs(t_s))) <= MAX_SPAN_S:
        raise BadValueError(annotation_file, None, "annotation time (s)", float(np.max(t_s)), "366 days")
    new_segment = np.ones(start.size, dtype=bool)
    new_segment[1:] = start[1:] != start[:-1] + 1
    segment_ids = np.cumsum(new_segment).astype(np.int64) - 1
    return RRRecording(
        path=source,
        format="wfdb-beats",
        notes=(f"WFDB annotator {annotator!r}",),
        rr_ms=np.asarray(rr_ms, dtype=np.float64),
        t_s=np.asarray(t_s, dtype=np.float64),
        segment_ids=segment_ids,
        excluded_intervals=max(n_beats - 1 - int(start.size), 0),
    )


def read_wfdb_ecg(path: str | Path) -> RRRecording:
    """RR intervals from a WFDB record's ECG (the first of MLII, II, ECG, I, V5, V1, else channel 0)."""
    import wfdb

    from restbeat.devices.formats.ecg import recording_from_ecg

    source = Path(path)
    base = source.with_suffix("") if source.suffix in (".hea", ".dat") else source
    check_readable(base.with_name(f"{base.name}.hea"))
    _check_header(base.with_name(f"{base.name}.hea"))
    try:
        header = wfdb.rdheader(str(base))
        length = int(header.sig_len or 0) * int(header.n_sig or 0)
    except Exception as error:  # wfdb raises bare ValueError/IndexError/etc. on corrupt files
        raise RecordingError(f"{source}: not a readable WFDB record ({error})") from error
    check_sampling_rate(source, float(header.fs or 0.0))
    check_count(source, None, length, MAX_ECG_SAMPLES, "ECG samples (all channels)")
    try:
        record = wfdb.rdrecord(str(base))
    except Exception as error:  # wfdb raises bare ValueError/IndexError/etc. on corrupt files
        raise RecordingError(f"{source}: not a readable WFDB record ({error})") from error
    names = list(record.sig_name or [])
    channel = next((names.index(lead) for lead in _ECG_LEADS if lead in names), 0)
    if record.p_signal is None:
        raise RecordingError(f"{source}: the WFDB record holds no signal")
    ecg = np.asarray(record.p_signal[:, channel], dtype=np.float64)
    return recording_from_ecg(source, "wfdb-ecg", ecg, float(record.fs))
