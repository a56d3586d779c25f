"""Import into the store and export out of it: one transaction per file, no duplicates, and round trips.

Real recordings (bundled in tests/data; sources and licences in tests/data/README.md): 24-h records of
PhysioNet nsr2db (ODC-By 1.0), the RR time series of healthy subjects (ODC-By 1.0), the first 5 min of
MIT-BIH 100.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from restbeat.app.exporting import ExportError, export_sessions, select_sessions
from restbeat.app.importing import ImportResult, import_file, import_files
from restbeat.devices.files import read_wfdb_annotations
from restbeat.devices.formats.raw_hrm import write_raw_hrm
from restbeat.devices.hrs import encode_measurement, measurement, ms_to_ticks
from restbeat.devices.recording import RawPacketRecord, RecordingError
from restbeat.signal.metrics import hrv_metrics
from restbeat.store.database import open_database
from restbeat.store.queries import list_sessions, session_beats, session_packets
from tests.support.shared_data import bundled, shared

HEALTHY = bundled("physionet_rr_healthy_subjects")


def _counts(conn: sqlite3.Connection) -> tuple[int, ...]:
    tables = ("sessions", "beats", "packets", "link_events", "annotations", "imports")
    return tuple(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables)


def _same_beats(conn_a: sqlite3.Connection, a: int, conn_b: sqlite3.Connection, b: int) -> None:
    first, second = session_beats(conn_a, a), session_beats(conn_b, b)
    assert np.array_equal(first.t_s, second.t_s)
    assert np.array_equal(first.rr_ms, second.rr_ms)
    assert np.array_equal(first.segment, second.segment)
    assert np.array_equal(first.quality, second.quality)
    assert first.kind == second.kind


def _nn_metrics(conn: sqlite3.Connection, session_id: int) -> dict[str, float]:
    beats = session_beats(conn, session_id)
    usable = np.isin(beats.quality, (0, 1))
    metrics = hrv_metrics(beats.rr_ms[usable], beats.t_s[usable], beats.segment[usable])
    return {"rmssd": metrics.time.rmssd_ms, "sdnn": metrics.time.sdnn_ms, "mean": metrics.time.mean_nn_ms}


@pytest.mark.parametrize(
    ("where", "count"),
    [pytest.param(shared, 9, marks=pytest.mark.corpus, id="corpus"), pytest.param(bundled, 4, id="bundled")],
)
def test_the_nine_healthy_subject_files_import_each_once(
    tmp_path: Path, where: Callable[..., Path], count: int
) -> None:
    """All nine files of the corpus, and the four of them bundled in tests/data."""
    conn = open_database(tmp_path / "db.sqlite3")
    paths = sorted(where("physionet_rr_healthy_subjects").glob("[0-9]*.txt"))
    assert len(paths) == count
    started: list[Path] = []
    done: list[Path] = []
    results = import_files(conn, paths, on_start=started.append, on_done=lambda path, _: done.append(path))
    assert started == paths == done
    imported = [r for r in results if isinstance(r, ImportResult)]
    assert [r.status for r in imported] == ["imported"] * count
    by_name = {r.path.name: r for r in imported}
    assert by_name["008.txt"].skipped_lines == 1 and by_name["008.txt"].skipped_examples[0].text == "@"
    assert all(r.beats > 50_000 and r.duration_s > 11 * 3600 for r in imported)
    before = _counts(conn)
    again = import_files(conn, paths[:2])
    assert [r.status for r in again if isinstance(r, ImportResult)] == ["duplicate", "duplicate"]
    assert _counts(conn) == before
    # a copy under another name is the same recording
    copy = tmp_path / "renamed.txt"
    shutil.copy(paths[0], copy)
    assert import_file(conn, copy).status == "duplicate"


def test_a_broken_file_changes_nothing_and_names_the_line(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "db.sqlite3")
    import_file(conn, HEALTHY / "000.txt")
    before = _counts(conn)
    out = tmp_path / "export.csv"
    export_sessions(conn, list_sessions(conn), "csv", out)
    lines = out.read_text().splitlines()
    # two sessions in one file, the second with a broken row: neither may land
    second = [line.replace("1,other,", "2,other,", 1) for line in lines[1:200]]
    second[150] = second[150].replace(",0,normal", ",zero,normal")
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join([*lines[:500], *second]) + "\n")
    with pytest.raises(RecordingError, match=r"broken\.csv, line 651: quality 'zero' is not a quality"):
        import_file(conn, broken)
    assert _counts(conn) == before
    fit = tmp_path / "watch.fit"
    fit.write_bytes(b"\x0e\x20\x00\x00\x10\x00\x00\x00.FIT\x00\x00garbage")
    with pytest.raises(RecordingError, match=r"watch\.fit: not a readable FIT file"):
        import_file(conn, fit)
    assert _counts(conn) == before


def test_round_trip_of_a_real_24h_record_gives_the_same_beats_and_metrics(tmp_path: Path) -> None:
    record = bundled("physionet_nsr2db", "nsr001.ecg")
    source = open_database(tmp_path / "a.sqlite3")
    first = import_file(source, record, context="sleep")
    assert first.beats > 100_000 and first.corrected > 0
    [session] = list_sessions(source)

    export_sessions(source, [session], "csv", tmp_path / "beats.csv")
    export_sessions(source, [session], "kubios", tmp_path / "kubios.txt")
    export_sessions(source, [session], "json", tmp_path / "all.json")

    target = open_database(tmp_path / "b.sqlite3")
    from_csv = import_file(target, tmp_path / "beats.csv")
    assert from_csv.format == "restbeat-csv"
    _same_beats(source, session.id, target, from_csv.session_ids[0])
    [restored] = list_sessions(target)
    assert restored.context == "sleep"
    assert restored.started_utc == pytest.approx(session.started_utc, abs=1e-5)
    assert _nn_metrics(target, restored.id) == _nn_metrics(source, session.id)

    from_kubios = import_file(target, tmp_path / "kubios.txt", correct=False)
    assert from_kubios.format == "kubios-text"
    original = _nn_metrics(source, session.id)
    kubios = _nn_metrics(target, from_kubios.session_ids[0])
    for name, value in original.items():
        assert kubios[name] == pytest.approx(value, rel=1e-6), name
    nn = session_beats(source, session.id)
    assert from_kubios.beats == int(np.isin(nn.quality, (0, 1)).sum())

    document = json.loads((tmp_path / "all.json").read_text())
    assert document["disclaimer"].endswith("not a medical device.")
    [exported] = document["sessions"]
    assert exported["metrics"]["time"]["rmssd_ms"] == pytest.approx(original["rmssd"], rel=1e-12)
    assert exported["summary"]["beats"] == first.beats
    assert dt.datetime.fromisoformat(exported["start"]).timestamp() == pytest.approx(session.started_utc)


def _raw_file(path: Path, rr_ms: np.ndarray) -> None:
    """Notifications as a strap sends them: about one a second, each with the RR since the last one."""
    packets, pending, clock = [], [], 0.0
    for rr in rr_ms[:1500]:
        clock += rr / 1000.0
        pending.append(ms_to_ticks(float(rr)))
        if sum(pending) >= 1024 or len(pending) == 3:
            raw = encode_measurement(measurement(int(60000 / rr), pending, contact=True))
            packets.append(RawPacketRecord(round(clock + 0.05, 6), 1, raw))
            pending = []
    with path.open("w") as handle:
        write_raw_hrm(handle, "AA:BB:CC:DD:EE:FF", 1_760_000_000.0, packets)


def test_raw_packets_round_trip_byte_for_byte_and_beat_for_beat(tmp_path: Path) -> None:
    rr = read_wfdb_annotations(bundled("physionet_nsr2db", "nsr002.ecg")).rr_ms
    _raw_file(tmp_path / "strap.jsonl", rr)
    source = open_database(tmp_path / "a.sqlite3")
    result = import_file(source, tmp_path / "strap.jsonl", context="on-shift")
    assert result.format == "restbeat-raw" and result.beats > 1000
    [session] = list_sessions(source)
    assert session.strap_address == "AA:BB:CC:DD:EE:FF"
    export_sessions(source, [session], "raw", tmp_path / "again.jsonl")
    target = open_database(tmp_path / "b.sqlite3")
    again = import_file(target, tmp_path / "again.jsonl")
    assert session_packets(target, again.session_ids[0]) == session_packets(source, session.id)
    _same_beats(source, session.id, target, again.session_ids[0])
    assert (tmp_path / "again.jsonl").read_text() == (tmp_path / "strap.jsonl").read_text()


def test_export_selection_and_refusals(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "db.sqlite3")
    for name in ("000.txt", "003.txt"):
        import_file(conn, HEALTHY / name, context="on-shift")
    with pytest.raises(ExportError, match="no session 99"):
        select_sessions(conn, session_ids=[99])
    with pytest.raises(ExportError, match="no sessions match"):
        select_sessions(conn, context="sleep")
    assert [s.id for s in select_sessions(conn, last=True)] == [list_sessions(conn)[-1].id]
    with pytest.raises(ExportError, match="holds raw strap packets"):
        export_sessions(conn, list_sessions(conn), "raw", tmp_path / "raw")
    result = export_sessions(conn, list_sessions(conn), "kubios", tmp_path / "kubios")
    assert len(result.paths) == 2 and all(p.parent == tmp_path / "kubios" for p in result.paths)
    with pytest.raises(ExportError, match="already exists"):
        export_sessions(conn, list_sessions(conn)[:1], "kubios", result.paths[0])


def test_one_wfdb_record_is_one_import_whichever_file_is_named(tmp_path: Path) -> None:
    """MIT-BIH Arrhythmia record 100 (ODC-By; its first 5 min, bundled): its beats once, its ECG once."""
    conn = open_database(tmp_path / "db.sqlite3")
    base = bundled("physionet_mitdb_5min", "100")
    statuses = [import_file(conn, Path(f"{base}{suffix}")).status for suffix in ("", ".hea", ".atr")]
    assert statuses == ["imported", "duplicate", "duplicate"]
    ecg = import_file(conn, Path(f"{base}.dat"))
    assert (ecg.status, ecg.format) == ("imported", "wfdb-ecg")


def test_every_interval_is_kept_even_those_correction_cannot_save(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "db.sqlite3")
    result = import_file(conn, HEALTHY / "003.txt")
    beats = session_beats(conn, result.session_ids[0])
    # 003.txt holds 8 intervals out of the 300-2000 ms range even after correction (runs of 219-281 ms that
    # no explanation makes whole beats of): stored, flagged, unused
    assert result.excluded == 8 == int(np.count_nonzero(beats.quality == 3))
    assert beats.kind.count("out_of_range") == 8


def test_the_beat_csv_keeps_the_local_utc_offset(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "db.sqlite3")
    session_id = import_file(conn, HEALTHY / "007.txt").session_ids[0]
    conn.execute("UPDATE sessions SET tz_offset_s = 32400 WHERE id = ?", (session_id,))  # Tokyo
    [session] = list_sessions(conn)
    export_sessions(conn, [session], "csv", tmp_path / "beats.csv")
    assert "+09:00" in (tmp_path / "beats.csv").read_text().splitlines()[1]
    other = open_database(tmp_path / "other.sqlite3")
    import_file(other, tmp_path / "beats.csv")
    [restored] = list_sessions(other)
    assert restored.tz_offset_s == 32400 and restored.local_start == session.local_start


def test_storage_failures_are_reported_per_file_and_keep_nothing(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "db.sqlite3")
    blocker = open_database(tmp_path / "db.sqlite3")
    conn.execute("PRAGMA busy_timeout = 50")
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    [outcome] = import_files(conn, [HEALTHY / "007.txt"])
    assert isinstance(outcome, RecordingError)
    assert "007.txt: could not be stored (database is locked); nothing of it was kept" in str(outcome)
    blocker.execute("ROLLBACK")
    assert _counts(conn) == (0, 0, 0, 0, 0, 0)
    import_file(conn, HEALTHY / "007.txt")
    import_file(conn, HEALTHY / "003.txt")  # a second session (009 is not bundled)
    in_the_way = tmp_path / "file.txt"
    in_the_way.write_text("mine")
    with pytest.raises(ExportError, match=r"file\.txt: 2 sessions need a directory here"):
        export_sessions(conn, list_sessions(conn), "kubios", in_the_way)
    assert in_the_way.read_text() == "mine"
