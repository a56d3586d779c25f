"""Every recording format, read through ``detect_format`` and ``read_recording(s)``, on real data.

Data (bundled in tests/data, see its README.md and each folder's SOURCE.txt; the full-record variants, marked
``corpus``, read the full corpus; files are copied and cropped inside tmp_path, never edited in place):

* physionet_rr_healthy_subjects: PhysioNet "RR interval time series from healthy subjects" v1.0.0
  (Irurzun et al. 2021, ODC-By 1.0) — raw RR text, 000 with CRLF endings, 008 with a stray '@' line.
* kubios_reference: pyHRV's SampleNNISeriesShort.npy (BSD-3-Clause; NN data from PhysioNet's nsrdb).
* polar_h10_detectPVC: Polar H10 RR and ECG from K. W. Broman's detectPVC (MIT).
* physionet_nsr2db: "Normal Sinus Rhythm RR Interval Database" (Goldberger 2000, ODC-By 1.0).
* physionet_mitdb: "MIT-BIH Arrhythmia Database" records 100 and 105 (Moody & Mark 2001, ODC-By 1.0).
* neurokit_data: NeuroKit2's ecg_1000hz.csv (Makowski et al. 2021, MIT).
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from restbeat.devices.files import (
    RecordingError,
    RRRecording,
    detect_format,
    read_recording,
    read_recordings,
    read_wfdb_annotations,
)
from restbeat.devices.formats.raw_hrm import write_raw_hrm
from restbeat.devices.formats.wfdb import WFDB_BEAT_SYMBOLS
from restbeat.devices.hrs import MS_PER_TICK, encode_measurement, measurement, ms_to_ticks
from restbeat.devices.recording import RawPacketRecord
from tests.support import fit_writer
from tests.support.shared_data import bundled, shared

# Central European time: UTC+2 in May.  Pinning it makes "naive times are local" a real check.
CEST_TZ = "CET-1CEST,M3.5.0,M10.5.0/3"
CEST_OFFSET_S = 7200


@pytest.fixture
def cest_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run the test with the machine's local zone set to Central European time."""
    monkeypatch.setenv("TZ", CEST_TZ)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def healthy_rr(record: str, count: int) -> list[int]:
    """The first ``count`` RR intervals (integer ms) of a PhysioNet healthy-subjects record (tests/data holds
    the first lines of the records read this way)."""
    cells = bundled("physionet_rr_healthy_subjects_heads", f"{record}.txt").read_bytes().split()
    assert len(cells) >= count, f"tests/data holds only {len(cells)} RR of {record}"
    return [int(cell) for cell in cells[:count]]


def polar_rr_only() -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """detectPVC's Polar H10 device RR: (time_ns, rr_ms) columns of polar_h10_rr_only.csv."""
    table = np.loadtxt(
        bundled("polar_h10_detectPVC", "polar_h10_rr_only.csv"), delimiter=",", skiprows=1, dtype=np.int64
    )
    return table[:, 0], table[:, 1].astype(np.float64)


def cumulative_s(rr_ms: NDArray[np.float64] | list[int] | list[float]) -> NDArray[np.float64]:
    return np.cumsum(np.asarray(rr_ms, dtype=np.float64)) / 1000.0


# --- 1. plain RR text -------------------------------------------------------------------------------


def test_physionet_stray_at_line_is_skipped_with_its_line_number() -> None:
    """PhysioNet healthy-subjects 008 (ODC-By 1.0): 98216 integer RR lines, then a line holding '@'."""
    path = bundled("physionet_rr_healthy_subjects", "008.txt")
    assert detect_format(path) == "rr-text"
    recording = read_recording(path)
    assert recording.format == "rr-text"
    assert recording.skipped_line_count == 1
    assert [(line.line_number, line.text) for line in recording.skipped_lines] == [(98217, "@")]
    manual = [float(line) for line in path.read_text().splitlines() if line.strip().isdigit()]
    assert recording.rr_ms.size == len(manual) == 98216
    np.testing.assert_array_equal(recording.rr_ms, manual)
    np.testing.assert_allclose(recording.t_s, np.cumsum(manual) / 1000.0)
    assert not recording.segment_ids.any()


def test_crlf_record_reads_like_a_manual_parse(tmp_path: Path) -> None:
    """Of the PhysioNet healthy-subjects files only 000 uses CRLF (every line); the rest are LF-only."""
    folder = bundled("physionet_rr_healthy_subjects")
    with_crlf = sorted(path.name for path in folder.glob("[0-9]*.txt") if b"\r\n" in path.read_bytes())
    assert with_crlf == ["000.txt"]
    raw = (folder / "000.txt").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")  # every line ends in CRLF (one blank line at the end)
    manual = [float(cell) for cell in raw.split(b"\r\n") if cell.strip()]
    recording = read_recording(folder / "000.txt")
    assert recording.format == "rr-text"
    assert recording.skipped_line_count == 0
    np.testing.assert_array_equal(recording.rr_ms, manual)

    # a cropped copy mixing CRLF and LF lines (a file edited on two systems) reads the same
    lines = raw.split(b"\r\n")[:200]
    mixed = tmp_path / "000_mixed.txt"
    mixed.write_bytes(b"\r\n".join(lines[:100]) + b"\n" + b"\n".join(lines[100:]) + b"\r\n")
    cropped = read_recording(mixed)
    np.testing.assert_array_equal(cropped.rr_ms, manual[:200])


def test_elite_hrv_integers_without_a_trailing_newline(tmp_path: Path) -> None:
    """Elite HRV's RR export: integer ms one per line, no newline after the last (PhysioNet healthy 003)."""
    rr = healthy_rr("003", 300)
    path = tmp_path / "elite_hrv.txt"
    path.write_text("\n".join(str(value) for value in rr))
    assert not path.read_bytes().endswith(b"\n")
    assert detect_format(path) == "rr-text"
    recording = read_recording(path)
    assert recording.rr_ms.tolist() == rr  # the last value, with no newline after it, is read too
    np.testing.assert_allclose(recording.t_s, cumulative_s(rr))
    assert recording.skipped_line_count == 0
    assert recording.notes == ()  # integer ms, not seconds


# --- 2. Kubios text ----------------------------------------------------------------------------------


def kubios_nn() -> NDArray[np.float64]:
    """pyHRV's SampleNNISeriesShort.npy (BSD-3-Clause): 337 NN intervals (ms), 5 min, from PhysioNet nsrdb."""
    return np.asarray(np.load(bundled("kubios_pyhrv", "SampleNNISeriesShort.npy")), dtype=np.float64)


def test_kubios_one_column_in_seconds(tmp_path: Path) -> None:
    nn = kubios_nn()
    path = tmp_path / "kubios_one_column.txt"
    path.write_text("".join(f"{value / 1000:.3f}\n" for value in nn))
    assert detect_format(path) == "rr-text"  # one column: plain RR text, whatever the program
    recording = read_recording(path)
    np.testing.assert_allclose(recording.rr_ms, nn, atol=1e-9)
    np.testing.assert_allclose(recording.t_s, cumulative_s(nn))
    assert any("seconds" in note for note in recording.notes)


@pytest.mark.parametrize(("separator", "indent"), [("\t", ""), ("   ", "  ")], ids=["tab", "spaces"])
def test_kubios_two_columns_time_and_rr_in_seconds(tmp_path: Path, separator: str, indent: str) -> None:
    nn = kubios_nn()
    times = cumulative_s(nn)
    path = tmp_path / "kubios_two_columns.txt"
    path.write_text(
        "".join(f"{indent}{t:.6f}{separator}{rr / 1000:.6f}\n" for t, rr in zip(times, nn, strict=True))
    )
    assert detect_format(path) == "kubios-text"
    recording = read_recording(path)
    assert recording.format == "kubios-text"
    np.testing.assert_allclose(recording.rr_ms, nn, atol=1e-6)
    np.testing.assert_allclose(recording.t_s, times, atol=1e-6)
    assert not recording.segment_ids.any()


def test_kubios_gap_in_the_time_column_starts_a_segment(tmp_path: Path) -> None:
    nn = kubios_nn()
    times = cumulative_s(nn)
    keep = np.ones(nn.size, dtype=bool)
    keep[150:155] = False  # five beats (~4 s) removed: the time column jumps
    path = tmp_path / "kubios_gap.txt"
    path.write_text(
        "".join(f"{t:.6f}\t{rr / 1000:.6f}\n" for t, rr in zip(times[keep], nn[keep], strict=True))
    )
    recording = read_recording(path)
    assert recording.rr_ms.size == nn.size - 5
    np.testing.assert_allclose(recording.rr_ms, nn[keep], atol=1e-6)
    assert recording.segment_ids.tolist() == [0] * 150 + [1] * (nn.size - 155)
    np.testing.assert_allclose(recording.t_s, times[keep], atol=1e-6)  # the gap stays a gap


# --- 3. Polar Sensor Logger and generic RR CSV -------------------------------------------------------


def polar_sensor_logger_file(path: Path, gap_from: int | None = None) -> tuple[list[str], list[float]]:
    """A Polar Sensor Logger ``*_RR.txt`` from detectPVC's Polar H10 RR: phone-local stamps to the ms,
    optionally 60 s later from row ``gap_from`` on.  Returns the stamps and RR values written."""
    time_ns, rr = polar_rr_only()
    stamps = []
    for index, ns in enumerate(time_ns.tolist()):
        seconds = ns / 1e9 + (60.0 if gap_from is not None and index >= gap_from else 0.0)
        stamps.append(dt.datetime.fromtimestamp(seconds).isoformat(timespec="milliseconds"))
    lines = ["Phone timestamp;RR-interval [ms]"]
    lines += [f"{stamp};{int(value)}" for stamp, value in zip(stamps, rr.tolist(), strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return stamps, rr.tolist()


def local_unix(stamp: str) -> float:
    """A naive ISO time as the reader takes it: in this machine's zone."""
    return dt.datetime.fromisoformat(stamp).astimezone().timestamp()


@pytest.mark.usefixtures("cest_zone")
def test_polar_sensor_logger_rr_file(tmp_path: Path) -> None:
    path = tmp_path / "Polar_H10_ABCD1234_20240505_165000_RR.txt"
    stamps, rr = polar_sensor_logger_file(path)
    assert stamps[0] == "2024-05-05T16:50:00.436"  # 14:50:00.436 UTC on a phone in CEST
    assert path.read_text().splitlines()[1] == "2024-05-05T16:50:00.436;421"
    assert detect_format(path) == "rr-csv"
    recording = read_recording(path)
    assert recording.format == "polar-sensor-logger"
    assert recording.rr_ms.tolist() == rr
    assert recording.rr_ms.size == 798
    expected_start = local_unix(stamps[0]) - rr[0] / 1000.0
    assert recording.started_utc == pytest.approx(expected_start, abs=1e-6)
    time_ns, _ = polar_rr_only()  # the true UTC time: the stamps lose only the sub-ms part
    assert recording.started_utc == pytest.approx(time_ns[0] / 1e9 - rr[0] / 1000.0, abs=1e-3)
    assert recording.tz_offset_s == CEST_OFFSET_S
    assert not recording.segment_ids.any()
    np.testing.assert_allclose(recording.t_s, cumulative_s(rr))


@pytest.mark.usefixtures("cest_zone")
def test_polar_sensor_logger_gap_in_stamps_starts_a_segment(tmp_path: Path) -> None:
    path = tmp_path / "gap_RR.txt"
    stamps, rr = polar_sensor_logger_file(path, gap_from=400)
    recording = read_recording(path)
    assert recording.rr_ms.tolist() == rr
    assert recording.segment_ids.tolist() == [0] * 400 + [1] * (len(rr) - 400)
    np.testing.assert_allclose(recording.t_s[:400], cumulative_s(rr[:400]))
    # the new segment is re-anchored at its arrival stamp, ~60 s after the beats before it
    origin = local_unix(stamps[0])
    assert recording.t_s[400] == pytest.approx(local_unix(stamps[400]) - origin + rr[0] / 1000.0, abs=1e-6)
    assert recording.t_s[400] - recording.t_s[399] > 60.0
    np.testing.assert_allclose(np.diff(recording.t_s[400:]), np.asarray(rr[401:]) / 1000.0, atol=1e-9)


def test_generic_rr_csv_with_a_time_ns_column() -> None:
    """detectPVC's polar_h10_rr_only.csv itself: ``time_ns,rr_ms`` (Unix ns, UTC)."""
    path = bundled("polar_h10_detectPVC", "polar_h10_rr_only.csv")
    time_ns, rr = polar_rr_only()
    assert detect_format(path) == "rr-csv"
    recording = read_recording(path)
    assert recording.format == "rr-csv"
    np.testing.assert_array_equal(recording.rr_ms, rr)
    assert recording.started_utc == pytest.approx(time_ns[0] / 1e9 - rr[0] / 1000.0, abs=1e-6)
    assert dt.datetime.fromtimestamp(recording.started_utc or 0, dt.UTC).strftime("%F %T") == (
        "2024-05-05 14:50:00"
    )
    assert not recording.segment_ids.any()  # packet stamps stay within 3 s of the cumulative RR
    np.testing.assert_allclose(recording.t_s, cumulative_s(rr))
    assert recording.skipped_line_count == 0


# --- 4. HRV Logger -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("cest_zone")
def test_hrv_logger_epoch_ms_variant(tmp_path: Path) -> None:
    """HRV Logger (Altini) ``*_RRIntervals.csv``, Android layout; RR from PhysioNet healthy 009."""
    rr = healthy_rr("009", 300)
    since_start = np.cumsum(rr).tolist()
    start_ms = 1675977255748 - rr[0]
    path = tmp_path / "2023-02-09 22-14-15_RRIntervals.csv"
    rows = [f"{start_ms + elapsed},{value},{elapsed}" for value, elapsed in zip(rr, since_start, strict=True)]
    path.write_text("timestamp, rr, since_start \n\n" + "\n".join(rows) + "\n")
    assert path.read_text().splitlines()[2] == f"1675977255748,{rr[0]},{rr[0]}"
    assert detect_format(path) == "rr-csv"
    recording = read_recording(path)
    assert recording.format == "hrv-logger"
    assert recording.rr_ms.tolist() == rr
    assert recording.started_utc == pytest.approx(start_ms / 1000.0, abs=1e-6)
    assert recording.skipped_line_count == 0  # the blank second line is not junk
    assert recording.tz_offset_s == 3600  # February: CET
    np.testing.assert_allclose(recording.t_s, cumulative_s(rr))
    assert not recording.segment_ids.any()


def test_hrv_logger_ios_date_variant(tmp_path: Path) -> None:
    """The older iOS layout: whole-second dates with a zone; RR from PhysioNet healthy 010."""
    rr = healthy_rr("010", 200)
    start = dt.datetime(2013, 12, 10, 0, 48, 3, tzinfo=dt.UTC) - dt.timedelta(milliseconds=rr[0])
    ends = start.timestamp() + cumulative_s(rr)
    rows = [
        f"{dt.datetime.fromtimestamp(float(np.floor(end)), dt.UTC):%Y-%m-%d %H:%M:%S +0000}, {value}, {value}"
        for end, value in zip(ends, rr, strict=True)
    ]
    path = tmp_path / "RRIntervals.csv"
    path.write_text("date, rr, since start\n" + "\n".join(rows) + "\n")
    assert rows[0] == f"2013-12-10 00:48:03 +0000, {rr[0]}, {rr[0]}"
    recording = read_recording(path)
    assert recording.format == "hrv-logger"
    assert recording.rr_ms.tolist() == rr
    first_date = dt.datetime(2013, 12, 10, 0, 48, 3, tzinfo=dt.UTC).timestamp()
    assert recording.started_utc == pytest.approx(first_date - rr[0] / 1000.0)
    assert not recording.segment_ids.any()  # 1-s date resolution is no gap
    np.testing.assert_allclose(recording.t_s, cumulative_s(rr))


# --- 5. OpenHRV --------------------------------------------------------------------------------------


def openhrv_log(rr: list[int], start: dt.datetime) -> tuple[list[str], dt.datetime]:
    """OpenHRV's event log for beats starting at naive local ``start`` (logged at each beat's end, some
    stamps on a whole second): a Sensors row, IBIs, HRV every 10 beats, one annotation after beat 60.
    Returns the lines and the annotation's time."""
    lines = ["event,value,timestamp", f"Sensors,Polar H10 ABCD, AA:BB:CC:DD:EE:FF,{start.isoformat()}"]
    annotated = start
    for index, elapsed in enumerate(np.cumsum(rr).tolist()):
        when = start + dt.timedelta(milliseconds=elapsed)
        if index % 7 == 3:
            when = when.replace(microsecond=0)
        lines.append(f"InterBeatInterval,{rr[index]},{when.isoformat()}")
        if index % 10 == 9:
            lines.append(f"HeartRateVariability,87.53,{when.isoformat()}")
        if index == 60:
            annotated = when + dt.timedelta(milliseconds=250)
            lines.append(f"Annotation,hard case,{annotated.isoformat()}")
    return lines, annotated


@pytest.mark.usefixtures("cest_zone")
def test_openhrv_log(tmp_path: Path) -> None:
    """RR from PhysioNet healthy 013; OpenHRV stamps naive local times with microseconds."""
    rr = healthy_rr("013", 120)
    start = dt.datetime(2024, 5, 1, 14, 3, 22, 123456) - dt.timedelta(milliseconds=rr[0])
    lines, annotated = openhrv_log(rr, start)
    assert lines[2] == f"InterBeatInterval,{rr[0]},2024-05-01T14:03:22.123456"
    assert any("." not in line.rpartition(",")[2] for line in lines[2:])  # some stamps on a whole second
    path = tmp_path / "OpenHRV_2024-05-01.csv"
    path.write_text("\n".join(lines) + "\n")
    assert detect_format(path) == "openhrv"
    recording = read_recording(path)
    assert recording.format == "openhrv"
    assert recording.rr_ms.tolist() == rr
    assert recording.device == "Polar H10 ABCD, AA:BB:CC:DD:EE:FF"
    true_first = dt.datetime(2024, 5, 1, 12, 3, 22, 123456, tzinfo=dt.UTC).timestamp()  # CEST = UTC+2
    assert recording.started_utc == pytest.approx(true_first - rr[0] / 1000.0, abs=1e-6)
    assert recording.tz_offset_s == CEST_OFFSET_S
    assert len(recording.annotations) == 1
    offset, text = recording.annotations[0]
    assert text == "hard case"
    assert offset == pytest.approx(
        annotated.astimezone().timestamp() - (recording.started_utc or 0), abs=1e-6
    )
    assert offset == pytest.approx(sum(rr[:61]) / 1000.0 + 0.25, abs=1e-3)
    assert not recording.segment_ids.any()
    np.testing.assert_allclose(recording.t_s, cumulative_s(rr))


def test_openhrv_bad_timestamp_names_the_line(tmp_path: Path) -> None:
    rr = healthy_rr("013", 20)
    lines, _ = openhrv_log(rr, dt.datetime(2024, 5, 1, 14, 3, 22, 123456))
    lines[7] = "InterBeatInterval,812,2024-05-01 at noon"
    path = tmp_path / "openhrv_bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordingError, match=r"openhrv_bad\.csv, line 8: bad timestamp '2024-05-01 at noon'"):
        read_recording(path)


# --- 6. FIT ------------------------------------------------------------------------------------------


def test_fit_crc_is_crc16_arc() -> None:
    import fitdecode.utils

    assert fit_writer.crc16(b"123456789") == 0xBB3D
    data = bytes(range(256)) * 3
    assert fit_writer.crc16(data) == fitdecode.utils.compute_crc(data)
    header = fit_writer.file_header(1234)
    assert len(header) == 14
    assert (
        header[:12]
        == bytes([14, 0x20]) + (2132).to_bytes(2, "little") + (1234).to_bytes(4, "little") + b".FIT"
    )
    assert int.from_bytes(header[12:], "little") == fit_writer.crc16(header[:12])


def nsr_rr(count: int) -> NDArray[np.float64]:
    """The first NN intervals of PhysioNet nsr2db nsr001 (ODC-By 1.0), 128 Hz: multiples of 7.8125 ms."""
    return read_wfdb_annotations(bundled("physionet_nsr2db", "nsr001.ecg")).rr_ms[:count]


START_UTC = 1714920600  # 2024-05-05 14:50:00 UTC


def test_fit_hrv_activity(tmp_path: Path) -> None:
    rr = nsr_rr(603)  # 121 hrv messages, the last with two 0xFFFF padding slots
    path = tmp_path / "2024-05-05-14-50-00.fit"
    # time_created at the end of the activity: the session's start is the one to use
    created = START_UTC + int(rr.sum() / 1000)
    path.write_bytes(fit_writer.fit_file_bytes(rr.tolist(), START_UTC, time_created_utc=created))
    assert detect_format(path) == "fit-hrv"
    recording = read_recording(path)
    assert recording.format == "fit-hrv"
    assert recording.rr_ms.size == 603
    np.testing.assert_allclose(recording.rr_ms, rr, atol=0.5)  # written as whole ms
    np.testing.assert_allclose(recording.rr_ms, np.round(rr), atol=1e-9)
    assert recording.started_utc == START_UTC
    assert recording.device == "garmin"
    assert recording.notes == ("121 HRV messages",)
    np.testing.assert_allclose(recording.t_s, cumulative_s(np.round(rr)))
    assert not recording.segment_ids.any()


def test_fit_with_a_corrupted_byte_is_a_recording_error(tmp_path: Path) -> None:
    rr = nsr_rr(50).tolist()
    data = bytearray(fit_writer.fit_file_bytes(rr, START_UTC))
    # the high byte of the first RR in the first hrv data message
    first_hrv = (
        len(fit_writer.file_header(0))
        + len(fit_writer.file_id_records(START_UTC))
        + len(fit_writer.definition_message(2, fit_writer.MESG_HRV, fit_writer.HRV_FIELDS))
    )
    assert data[first_hrv] == 2  # the record header of local message 2
    assert int.from_bytes(data[first_hrv + 1 : first_hrv + 3], "little") == round(rr[0])
    data[first_hrv + 2] ^= 0x01
    path = tmp_path / "corrupt.fit"
    path.write_bytes(bytes(data))
    assert detect_format(path) == "fit-hrv"
    with pytest.raises(RecordingError, match=r"corrupt\.fit: not a readable FIT file \(.*CRC"):
        read_recording(path)


def test_fit_any_single_flipped_bit_is_a_recording_error(tmp_path: Path) -> None:
    data = fit_writer.fit_file_bytes(nsr_rr(12).tolist(), START_UTC)
    path = tmp_path / "flipped.fit"
    escaped = []
    for index in range(len(data)):
        corrupt = bytearray(data)
        corrupt[index] ^= 0x01
        path.write_bytes(bytes(corrupt))
        try:
            read_recording(path)
        except RecordingError as error:
            assert "flipped.fit" in str(error)
        except Exception as error:  # collecting what escapes
            escaped.append((index, type(error).__name__))
    assert escaped == []


def test_fit_without_hrv_messages(tmp_path: Path) -> None:
    path = tmp_path / "no_hrv.fit"
    path.write_bytes(fit_writer.fit_file_bytes([], START_UTC, with_hrv=False))
    assert detect_format(path) == "fit-hrv"
    with pytest.raises(RecordingError, match=r"no_hrv\.fit: the FIT file has no HRV .*messages"):
        read_recording(path)


# --- 7. WFDB -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "folder", "nn_count", "beats"),
    [
        pytest.param(shared, "physionet_mitdb", 2204, 2273, marks=pytest.mark.corpus, id="full"),
        pytest.param(bundled, "physionet_mitdb_5min", 362, 371, id="first-5-min"),
    ],
)
def test_mitdb_annotations_give_nn_intervals(
    where: Callable[..., Path], folder: str, nn_count: int, beats: int
) -> None:
    """MIT-BIH 100 (ODC-By 1.0): 2273 beats (33 A, 1 V), 371 in the first 5 min (4 A); NN intervals are N-to-N
    pairs only."""
    import wfdb

    path = where(folder, "100.atr")
    assert detect_format(path) == "wfdb-beats"
    assert detect_format(where(folder, "100.hea")) == "wfdb-beats"
    recording = read_recording(path)
    annotation = wfdb.rdann(str(path.with_suffix("")), "atr")
    symbols = np.asarray(annotation.symbol)
    samples = np.asarray(annotation.sample)
    pairs = np.flatnonzero((symbols[:-1] == "N") & (symbols[1:] == "N"))
    np.testing.assert_allclose(recording.rr_ms, (samples[pairs + 1] - samples[pairs]) * 1000.0 / 360.0)
    assert recording.rr_ms.size == nn_count
    assert recording.excluded_intervals == beats - 1 - nn_count


def mitdb_match_rates(where: Path, record: str) -> tuple[float, float, RRRecording]:
    """(sensitivity, positive predictivity) in % of the R peaks restbeat finds in a MIT-BIH ECG against
    the reference beats, a match being within 50 ms (18 samples at 360 Hz)."""
    import wfdb

    fs = 360
    recording = read_recording(where / f"{record}.dat")
    first_peak = recording.t_s[0] - recording.rr_ms[0] / 1000.0
    peaks = np.rint(np.concatenate([[first_peak], recording.t_s]) * fs).astype(np.int64)
    annotation = wfdb.rdann(str(where / record), "atr")
    is_beat = np.isin(np.asarray(annotation.symbol), sorted(WFDB_BEAT_SYMBOLS))
    reference = np.asarray(annotation.sample, dtype=np.int64)[is_beat]

    def distance_to_nearest(points: NDArray[np.int64], targets: NDArray[np.int64]) -> NDArray[np.int64]:
        right = np.clip(np.searchsorted(targets, points), 1, targets.size - 1)
        distance = np.minimum(np.abs(points - targets[right - 1]), np.abs(points - targets[right]))
        return np.asarray(distance, dtype=np.int64)

    tolerance = round(0.050 * fs)
    sensitivity = 100.0 * float(np.mean(distance_to_nearest(reference, peaks) <= tolerance))
    predictivity = 100.0 * float(np.mean(distance_to_nearest(peaks, reference) <= tolerance))
    return sensitivity, predictivity, recording


@pytest.mark.parametrize(("record", "minimum"), [("100", 99.5), ("105", 98.0)])
@pytest.mark.parametrize(
    ("where", "folder", "duration_s"),
    [
        pytest.param(shared, "physionet_mitdb", 29 * 60, marks=pytest.mark.corpus, id="full"),
        pytest.param(bundled, "physionet_mitdb_5min", 290, id="first-5-min"),
    ],
)
def test_mitdb_ecg_r_peaks_match_the_reference_beats(
    where: Callable[..., Path], folder: str, duration_s: float, record: str, minimum: float
) -> None:
    """MIT-BIH 100 (clean) and 105 (high-grade noise), ODC-By 1.0: neurokit2 R peaks vs the 'atr' beats, on
    the whole 30-min records and on their first 5 min (bundled; measured 99.73 / 100 % and 100 / 100 %)."""
    assert detect_format(where(folder, f"{record}.dat")) == "wfdb-ecg"
    sensitivity, predictivity, recording = mitdb_match_rates(where(folder), record)
    print(f"mitdb {record}: sensitivity {sensitivity:.2f} %, positive predictivity {predictivity:.2f} %")
    assert recording.format == "wfdb-ecg"
    assert not recording.segment_ids.any()
    assert recording.duration_s > duration_s
    assert sensitivity >= minimum
    assert predictivity >= minimum


# --- 8. ECG CSV --------------------------------------------------------------------------------------


def test_ecg_csv_needs_a_sampling_rate_without_a_time_column() -> None:
    """NeuroKit2's ecg_1000hz.csv (MIT): one column 'ECG', 50 s at 1000 Hz, no time column."""
    path = bundled("neurokit_data", "ecg_1000hz.csv")
    assert detect_format(path) == "ecg-csv"
    with pytest.raises(RecordingError, match=r"ecg_1000hz\.csv: .*--sampling-rate"):
        read_recording(path)
    recording = read_recording(path, sampling_rate_hz=1000)
    assert recording.format == "ecg-csv"
    heart_rate = 60_000.0 / float(np.median(recording.rr_ms))
    assert 40 <= heart_rate <= 120
    assert 45.0 < recording.duration_s <= 50.0  # peaks span nearly all of the 50 s
    assert recording.rr_ms.size == pytest.approx(recording.duration_s * heart_rate / 60, rel=0.1)
    assert recording.started_utc is None


POLAR_ECG = [
    pytest.param(shared, "polar_h10_detectPVC", marks=pytest.mark.corpus, id="10-min"),
    pytest.param(bundled, "polar_h10_detectPVC_60s", id="first-60-s"),
]


@pytest.mark.parametrize(("where", "folder"), POLAR_ECG)
def test_polar_ecg_with_device_rr_reads_the_device_rr(where: Callable[..., Path], folder: str) -> None:
    """detectPVC's polar_h10_ecg_hr_rr.csv holds ECG and the strap's RR: the strap's RR are read (what a
    live session would have seen), equal to polar_h10_rr_only.csv (the whole 10 min, and both files cut at
    60 s in tests/data)."""
    path = where(folder, "polar_h10_ecg_hr_rr.csv")
    assert detect_format(path) == "rr-csv"
    recording = read_recording(path)
    only = read_recording(where(folder, "polar_h10_rr_only.csv"))
    assert recording.format == "rr-csv"
    np.testing.assert_array_equal(recording.rr_ms, only.rr_ms)
    np.testing.assert_allclose(recording.t_s, only.t_s)
    assert recording.started_utc == only.started_utc
    # no row holding an RR value was lost: every skipped line is an ECG row with an empty RR cell
    assert all(line.text.endswith(",,") for line in recording.skipped_lines)


@pytest.mark.parametrize(("where", "folder"), POLAR_ECG)
def test_polar_ecg_rows_without_rr_are_not_junk(where: Callable[..., Path], folder: str) -> None:
    recording = read_recording(where(folder, "polar_h10_ecg_hr_rr.csv"))
    assert recording.skipped_line_count == 0


# --- 9. restbeat raw JSON lines ----------------------------------------------------------------------


STRAP = "AA:BB:CC:DD:EE:FF"


def raw_packets(count: int = 300) -> tuple[list[RawPacketRecord], list[int], NDArray[np.float64]]:
    """Notifications a strap would have sent for detectPVC's first Polar H10 RR: one per second holding
    the beats that ended in it, arriving 50 ms after its last beat.  Returns packets, ticks, beat ends."""
    _, rr = polar_rr_only()
    rr = rr[:count]
    ends = cumulative_s(rr)
    ticks = [ms_to_ticks(value) for value in rr.tolist()]
    packets = []
    second = np.floor(ends).astype(np.int64)
    for whole in np.unique(second).tolist():
        members = np.flatnonzero(second == whole).tolist()
        heart_rate = round(60_000 / float(np.mean(rr[members])))
        payload = encode_measurement(measurement(heart_rate, [ticks[i] for i in members], contact=True))
        packets.append(RawPacketRecord(float(ends[members[-1]]) + 0.05, 0, payload))
    return packets, ticks, ends


def write_raw(path: Path, packets: list[RawPacketRecord]) -> None:
    handle = io.StringIO()
    assert write_raw_hrm(handle, STRAP, START_UTC, packets) == len(packets)
    path.write_text(handle.getvalue())


def test_raw_hrm_replays_the_notifications(tmp_path: Path) -> None:
    packets, ticks, ends = raw_packets()
    assert 200 < len(packets) < 300  # several beats in some packets, none in some seconds
    path = tmp_path / "session.raw.jsonl"
    write_raw(path, packets)
    assert detect_format(path) == "restbeat-raw"
    recording = read_recording(path)
    assert recording.format == "restbeat-raw"
    assert recording.rr_ms.tolist() == [value * MS_PER_TICK for value in ticks]
    assert recording.packets == tuple(packets)
    assert recording.device == STRAP
    assert recording.started_utc == START_UTC
    assert recording.notes == ()
    assert not recording.segment_ids.any()
    assert recording.contact is not None and recording.contact.all()
    # placed by cumulative ticks from the least-delayed packet: ~50 ms after each true beat
    lateness = recording.t_s - ends
    assert np.all((lateness > 0.035) & (lateness < 0.065))


def test_raw_hrm_bad_json_line_names_it(tmp_path: Path) -> None:
    packets, _, _ = raw_packets(40)
    path = tmp_path / "bad.raw.jsonl"
    write_raw(path, packets)
    lines = path.read_text().splitlines()
    lines.insert(5, '{"t_s": 4.2, "connection": 0, "hex": "10')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordingError, match=r"bad\.raw\.jsonl, line 6: not a notification or event"):
        read_recording(path)


def test_raw_hrm_undecodable_packet_is_skipped_with_a_note(tmp_path: Path) -> None:
    packets, ticks, _ = raw_packets(60)
    truncated = RawPacketRecord(packets[10].arrival_s + 0.3, 0, b"\x11\x48")  # uint16 HR, one byte only
    with_bad = [*packets[:11], truncated, *packets[11:]]
    path = tmp_path / "truncated.raw.jsonl"
    write_raw(path, with_bad)
    recording = read_recording(path)
    assert recording.packets == tuple(with_bad)
    assert recording.rr_ms.tolist() == [value * MS_PER_TICK for value in ticks]
    assert recording.notes == ("1 notifications were not Heart Rate Measurements and were skipped",)


def test_raw_hrm_non_object_json_line_names_it(tmp_path: Path) -> None:
    packets, _, _ = raw_packets(20)
    path = tmp_path / "number.raw.jsonl"
    write_raw(path, packets)
    path.write_text(path.read_text() + "5\n")
    with pytest.raises(RecordingError, match=r"number\.raw\.jsonl, line \d+"):
        read_recording(path)


# --- 10. detect_format errors ------------------------------------------------------------------------


def test_binary_file_that_is_not_fit(tmp_path: Path) -> None:
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    with pytest.raises(RecordingError, match=r"picture\.png: a binary file that is not a FIT file"):
        detect_format(path)
    with pytest.raises(RecordingError, match=r"picture\.png"):
        read_recordings(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(RecordingError, match=r"empty\.txt: empty file"):
        detect_format(path)


def test_csv_without_an_rr_column(tmp_path: Path) -> None:
    path = tmp_path / "hr_only.csv"
    path.write_text("timestamp,hr,speed\n1714920600,72,3.1\n1714920601,73,3.2\n")
    with pytest.raises(RecordingError, match=r"hr_only\.csv, line 1: a CSV header with no RR column"):
        detect_format(path)


def test_two_column_csv_without_an_rr_column(tmp_path: Path) -> None:
    path = tmp_path / "time_hr.csv"
    path.write_text("time,hr\n0,72\n1,73\n2,71\n")
    with pytest.raises(RecordingError, match=r"time_hr\.csv, line 1: a CSV header with no RR column"):
        detect_format(path)


@pytest.mark.usefixtures("cest_zone")
def test_a_logger_in_local_time_across_the_autumn_clock_change_keeps_its_beats_in_order(
    tmp_path: Path,
) -> None:
    """Polar Sensor Logger writes phone local time; at 03:00 CEST on 27 Oct 2024 clocks went back to 02:00."""
    rr = healthy_rr("003", 12_000)  # about 2.5 h of real RR (PhysioNet healthy subjects, ODC-By)
    change = dt.datetime(2024, 10, 27, 1, 0, tzinfo=dt.UTC)
    utc = change - dt.timedelta(hours=1, minutes=30)  # 01:30 CEST
    lines = ["Phone timestamp;RR-interval [ms]"]
    cest, cet = dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=1))
    for value in rr:
        utc += dt.timedelta(milliseconds=value)
        local = utc.astimezone(cet if utc >= change else cest).replace(tzinfo=None)
        lines.append(f"{local.isoformat(timespec='milliseconds')};{value}")
    path = tmp_path / "night_RR.txt"
    path.write_text("\n".join(lines) + "\n")
    recording = read_recording(path)
    assert recording.segment_ids.max() == 0  # one contiguous series: the hour repeated is not a gap
    assert np.all(np.diff(recording.t_s) > 0)
    assert recording.duration_s == pytest.approx(sum(rr) / 1000, abs=0.01)
    assert sum(rr) / 1000 > 1.5 * 3600  # the recording does run past the change


def test_a_time_column_counting_from_the_start_is_not_a_date_and_seconds_are_seconds(tmp_path: Path) -> None:
    path = tmp_path / "relative.csv"
    rows = [f"{0.8 * (k + 1):.3f},{0.8 + 0.01 * (k % 3):.3f}" for k in range(200)]
    path.write_text("time,rr\n" + "\n".join(rows) + "\n")
    recording = read_recording(path)
    assert recording.started_utc is None
    assert recording.rr_ms[:3].tolist() == pytest.approx([800.0, 810.0, 820.0])
    assert any("read as seconds" in note for note in recording.notes)
    assert any("counts from the start" in note for note in recording.notes)


def test_an_unreadable_time_names_its_line_and_value(tmp_path: Path) -> None:
    path = tmp_path / "polar_RR.txt"
    path.write_text(
        "Phone timestamp;RR-interval [ms]\n2024-03-01T23:50:00.800;800\n01/03/2024 23:50:01.600;800\n"
    )
    with pytest.raises(RecordingError, match=r"polar_RR\.txt, line 3: '01/03/2024 23:50:01.600' in column"):
        read_recording(path)
