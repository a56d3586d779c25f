"""Readers of RR recordings: plain text (junk lines, CRLF, seconds) and WFDB N-to-N intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from restbeat.devices.files import RecordingError, read_recording, read_rr_text, read_wfdb_annotations
from tests.support.shared_data import bundled


def test_plain_text_with_a_stray_line_reports_it() -> None:
    """PhysioNet 'RR interval time series from healthy subjects' 008 ends with a line holding '@'."""
    recording = read_rr_text(bundled("physionet_rr_healthy_subjects", "008.txt"))
    assert recording.skipped_line_count == 1
    assert recording.skipped_lines[0].text == "@"
    assert recording.rr_ms.size == 98216
    assert recording.format == "rr-text"


def test_crlf_line_endings_are_read() -> None:
    """Record 000 of the same database uses CRLF endings."""
    path = bundled("physionet_rr_healthy_subjects", "000.txt")
    assert b"\r\n" in path.read_bytes()[:100]
    recording = read_rr_text(path)
    assert recording.skipped_line_count == 0
    assert recording.rr_ms.size == sum(1 for line in path.read_text().splitlines() if line.strip())


def test_junk_blank_and_comment_lines(tmp_path: Path) -> None:
    path = tmp_path / "rr.txt"
    path.write_text("# exported\n800\n\n810.5\nabc\n-5\n820\nnan\n")
    recording = read_rr_text(path)
    assert recording.rr_ms.tolist() == [800.0, 810.5, 820.0]
    assert [line.line_number for line in recording.skipped_lines] == [5, 6, 8]
    assert recording.t_s.tolist() == pytest.approx([0.8, 1.6105, 2.4305])


def test_seconds_are_detected_and_converted(tmp_path: Path) -> None:
    path = tmp_path / "rr_s.txt"
    path.write_text("0.812\n0.790\n0.801\n")
    recording = read_rr_text(path)
    assert recording.rr_ms.tolist() == pytest.approx([812.0, 790.0, 801.0])
    assert recording.notes


def test_missing_file_and_directory_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"nope\.txt: no such file"):
        read_recording(tmp_path / "nope.txt")
    with pytest.raises(RecordingError, match="is a directory"):
        read_recording(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("hello\n")
    with pytest.raises(RecordingError, match=r"empty\.txt: not a recording restbeat knows"):
        read_recording(empty)


def test_wfdb_nn_intervals_from_n_to_n_pairs_only() -> None:
    """PhysioNet nsr2db nsr001 (ODC-By 1.0): NN = consecutive N beats with nothing between them."""
    import wfdb

    path = bundled("physionet_nsr2db", "nsr001.ecg")
    recording = read_recording(path)
    assert recording.format == "wfdb-beats"
    annotation = wfdb.rdann(str(path.with_suffix("")), "ecg")
    symbols = np.asarray(annotation.symbol)
    samples = np.asarray(annotation.sample)
    expected = [
        (samples[i + 1] - samples[i]) / 128 * 1000
        for i in range(len(symbols) - 1)
        if symbols[i] == "N" and symbols[i + 1] == "N"
    ]
    assert recording.rr_ms.tolist() == pytest.approx(expected)
    assert recording.excluded_intervals > 0
    # every interval touching a non-N annotation breaks the segment
    assert recording.segment_ids.max() > 100
    breaks = np.flatnonzero(np.diff(recording.segment_ids))
    starts_of_next = recording.t_s[breaks + 1] - recording.rr_ms[breaks + 1] / 1000
    assert np.all(starts_of_next > recording.t_s[breaks] + 1e-9)


def test_wfdb_record_name_or_header_finds_the_annotator() -> None:
    base = bundled("physionet_nsr2db", "nsr001")
    by_name = read_recording(base)
    by_header = read_recording(base.with_suffix(".hea"))
    assert by_name.rr_ms.size == by_header.rr_ms.size > 100_000


def test_corrupt_wfdb_annotation_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.hea").write_text("bad 0 128 0\n")
    (tmp_path / "bad.atr").write_bytes(b"\x00\x01garbage")
    with pytest.raises(RecordingError, match=r"bad\.atr"):
        read_wfdb_annotations(tmp_path / "bad.atr")


def test_wfdb_ltdb_atr_annotator() -> None:
    """PhysioNet ltdb 14149 (ODC-By 1.0): a nearly all-N 23-h Holter with 'atr' annotations."""
    recording = read_recording(bundled("physionet_ltdb", "14149.atr"))
    assert recording.format == "wfdb-beats"
    assert recording.duration_s > 20 * 3600
