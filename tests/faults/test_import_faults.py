"""Issue 18, the file side: every reproduction of points 2 (inbound), 3, 5, 6, 8 and 9 as a test.

Each bad file must give exactly one line on stderr naming the file, the line and the value, exit status 1,
and leave the database as it was; the other files of the same `restbeat import` are still imported.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from restbeat.cli import main
from restbeat.devices.formats import lines, spool
from restbeat.devices.formats.raw_hrm import write_raw_hrm
from restbeat.devices.hrs import encode_measurement, measurement, ms_to_ticks
from restbeat.devices.recording import RawPacketRecord
from restbeat.store.database import open_database
from restbeat.store.queries import list_sessions, session_beats

RB = "session,context,time,t_s,rr_ms,segment,quality,kind\n"
RB_ROW = "1,other,2024-01-01T10:00:00.800000+00:00,{t},{rr},{seg},{q},{kind}\n"
OHRV = "event,value,timestamp\n"
RAW = '{"format":"restbeat-raw-hrm/1","strap":null,"started_utc":"%s"}\n'


def _rb(t: str = "0.8", rr: str = "800.0", seg: str = "0", q: str = "0", kind: str = "normal") -> str:
    return RB + RB_ROW.format(t=t, rr=rr, seg=seg, q=q, kind=kind)


def _ohrv(*rows: tuple[str, str]) -> str:
    return OHRV + "".join(f"InterBeatInterval,{value},{stamp}\n" for value, stamp in rows)


def _ecg(rate_hz: float, value: str | None = None, n: int = 3000) -> str:
    samples = (value or f"{np.sin(i / 5.0):.4f}" for i in range(n))
    return "time,ecg\n" + "".join(f"{i / rate_hz!r},{sample}\n" for i, sample in enumerate(samples))


_T0, _T1 = "2024-01-01T10:00:00", "2024-01-01T10:00:01"
_RAW_OK = RAW % "2024-01-01T10:00:00+00:00"
_PACKET = '{"t_s":1,"connection":%s,"hex":"1040"}\n'

#: (file name, content, what the one line must say); the line number is part of the expected text.
BAD = [
    ("rr_1e300.csv", "rr,timestamp\n1e300,1700000000\n", r"no RR values in column 'rr'"),
    (
        "csv_ts_1e30.csv",
        "rr,timestamp\n800,1e30\n810,1700000001\n",
        r"line 2: time in column 'timestamp' '1e30'",
    ),
    (
        "csv_ts_inf.csv",
        "rr,timestamp\n800,inf\n",
        r"line 2: time in column 'timestamp' 'inf' is out of range",
    ),
    ("ohrv_nan.csv", _ohrv(("800", _T0), ("NaN", _T1)), r"line 3: RR interval 'NaN' is out of range"),
    ("ohrv_neg.csv", _ohrv(("800", _T0), ("-800", _T1)), r"line 3: RR interval '-800' is out of range"),
    ("ohrv_inf.csv", _ohrv(("inf", _T0)), r"line 2: RR interval 'inf' is out of range"),
    (
        "ohrv_y1.csv",
        _ohrv(("800", "0001-01-01T00:00:00")),
        r"line 2: timestamp '0001-01-01T00:00:00' is out of",
    ),
    ("rb_seg.csv", _rb(seg="1e30"), r"line 2: segment '1e30' is out of range"),
    ("rb_seg_big.csv", _rb(seg=str(10**30)), r"line 2: segment '10{30}' is out of range"),
    ("rb_t.csv", _rb(t="1e300"), r"line 2: t_s '1e300' is out of range"),
    ("rb_rr_inf.csv", _rb(rr="inf"), r"line 2: RR interval 'inf' is out of range"),
    ("rb_q99.csv", _rb(q="99"), r"line 2: quality '99' is not a quality the store knows"),
    ("rb_qm5.csv", _rb(q="-5"), r"line 2: quality '-5' is not a quality the store knows"),
    ("rb_bogus.csv", _rb(kind="bogus"), r"line 2: kind 'bogus' is not a beat class the store knows"),
    ("raw_inf.jsonl", _RAW_OK + _PACKET % "1e999", r"line 2: connection 'inf' is out of range"),
    ("raw_big.jsonl", _RAW_OK + _PACKET % 10**30, r"line 2: connection '10{30}' is out of range"),
    (
        "raw_y1.jsonl",
        RAW % "0001-01-01T00:00:00" + _PACKET % 0,
        r"line 1: started_utc '0001-01-01T00:00:00' is out",
    ),
    ("ecg_slow.csv", _ecg(0.001), r"ECG sampling rate \(Hz\) '0.001' is out of range"),
    ("ecg_inf.csv", _ecg(130.0, "inf"), r"less than 10 s of ECG \(0 finite samples"),
    ("ecg_huge.csv", _ecg(130.0, "1e300"), r"line 2: ECG sample '1e300' is out of range"),
]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _error_lines(err: str, command: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(f"restbeat {command}: ")]


def _sessions(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])


@pytest.mark.parametrize(("name", "content", "expected"), BAD, ids=[case[0] for case in BAD])
def test_a_bad_value_is_one_line_naming_file_line_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    db = tmp_path / "db.sqlite3"
    for command in ("import", "analyze"):
        args = ("import", "--db", str(db), str(path)) if command == "import" else ("analyze", str(path))
        status, _, err = _run(capsys, *args)
        [line] = _error_lines(err, command)
        assert status == 1
        assert "Traceback" not in err and line.startswith(f"restbeat {command}: {path}")
        assert re.search(expected, line), line
    assert _sessions(db) == 0


def test_a_multi_file_import_imports_the_good_files_and_names_each_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = []
    for index, (name, content, _) in enumerate(BAD):
        (tmp_path / f"good{index}.txt").write_text(
            "\n".join(str(700 + index * 5 + k) for k in range(60)) + "\n"
        )
        (tmp_path / name).write_text(content)
        names += [str(tmp_path / f"good{index}.txt"), str(tmp_path / name)]
    db = tmp_path / "db.sqlite3"
    status, out, err = _run(capsys, "import", "--db", str(db), *names)
    assert status == 1
    assert "import summary" in out and out.count("imported") >= len(BAD)
    assert len(_error_lines(err, "import")) == len(BAD)
    assert _sessions(db) == len(BAD)  # every good file, none of the bad ones


def test_rr_text_junk_is_counted_not_read_as_a_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`820 99999 5` in a one-column file, and 1e20 / 1e300 / -5: skipped and reported with their lines."""
    path = tmp_path / "rr.txt"
    path.write_text("800\n820 99999 5\n810\n1e20\n-5\n1e300\n805\n")
    status, out, _ = _run(capsys, "import", "--db", str(tmp_path / "db.sqlite3"), str(path))
    assert status == 0
    assert "4 line(s) without an RR value skipped (line 2: '820 99999 5', line 4: '1e+20 ms" in out
    conn = open_database(tmp_path / "db.sqlite3")
    assert session_beats(conn, list_sessions(conn)[0].id).rr_ms.tolist() == [800.0, 810.0, 805.0]


def test_too_few_intervals_to_analyze_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "one.txt").write_text("800\n")  # found by the fuzz test: a traceback from the HRV metrics
    status, _, err = _run(capsys, "analyze", str(tmp_path / "one.txt"))
    assert status == 1 and err.strip().endswith("one.txt: 1 usable RR interval(s) of 1; HRV needs at least 2")


def test_a_nan_late_in_a_file_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(str(800 + k % 7), f"2024-01-01T10:{k // 60:02d}:{k % 60:02d}") for k in range(600)]
    rows[500] = ("nan", rows[500][1])
    (tmp_path / "log.csv").write_text(_ohrv(*rows))
    status, _, err = _run(capsys, "import", "--db", str(tmp_path / "db.sqlite3"), str(tmp_path / "log.csv"))
    assert status == 1 and "log.csv, line 502: RR interval 'nan' is out of range" in err


def _write_and_close(fd: int, data: bytes) -> None:
    os.write(fd, data)
    os.close(fd)


def test_devices_fifos_and_pipes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "db.sqlite3")
    if Path("/dev/zero").exists():
        status, _, err = _run(capsys, "import", "--db", db, "/dev/zero")
        assert status == 1 and "/dev/zero: a device, not a recording file" in err
        status, _, err = _run(capsys, "analyze", "/dev/zero")
        assert status == 1 and "a device" in err
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(spool, "WAIT_S", 0.3)
    status, _, err = _run(capsys, "import", "--db", db, str(fifo))  # no writer: must not block forever
    assert status == 1 and "nothing came through the pipe for 0.3 s" in err
    text = "".join(f"{800 + k % 9}\n" for k in range(200))
    (tmp_path / "rr.txt").write_text(text)
    for index, command in enumerate(("import", "analyze", "import")):
        read_end, write_end = os.pipe()
        writer = threading.Thread(target=_write_and_close, args=(write_end, text.encode()))
        writer.start()
        args = ("import", "--db", db) if command == "import" else ("analyze",)
        status, out, err = _run(capsys, *args, f"/dev/fd/{read_end}")
        writer.join()
        os.close(read_end)
        assert status == 0, err
        assert ("already imported" if index == 2 else "200") in out  # read once: checksum and import
    assert "already imported" in out  # the second pipe import had the same bytes
    status, out, _ = _run(capsys, "import", "--db", db, str(tmp_path / "rr.txt"))
    assert "already imported" in out


#: runs the CLI and prints its peak RSS in KiB (VmHWM: this process's own, not the parent's before exec,
#: which ru_maxrss would include).
_MEASURED = (
    "import sys\n"
    "from pathlib import Path\n"
    "from restbeat.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "status_text = Path('/proc/self/status').read_text()\n"
    "print(next(l.split()[1] for l in status_text.splitlines() if l.startswith('VmHWM')), file=sys.stderr)\n"
    "sys.exit(status)\n"
)


def test_a_long_line_is_an_error_naming_it_and_files_are_not_held_in_memory(tmp_path: Path) -> None:
    """A 64-MB line of 16 M numbers and a 2-GB sparse file after some beats: refused at the first 64 KiB,
    in a child process whose peak memory is measured."""
    one_line = tmp_path / "line.txt"
    with one_line.open("w") as handle:
        handle.write("800 " * 16_000_000 + "\n")
    holed = tmp_path / "holed.txt"
    holed.write_text("".join(f"{800 + k % 9}\n" for k in range(3000)))  # beats, then a 2-GB hole
    os.truncate(holed, 2 << 30)
    for path, line in ((one_line, 1), (holed, 3001)):
        for command in ("analyze", "import"):
            args = (
                [command, str(path)]
                if command == "analyze"
                else [command, "--db", str(tmp_path / "d"), str(path)]
            )
            done = subprocess.run(
                [sys.executable, "-c", _MEASURED, *args], capture_output=True, text=True, check=False
            )
            *message, peak = done.stderr.strip().splitlines()
            assert done.returncode == 1
            assert message[-1] == (
                f"restbeat {command}: {path}, line {line}: longer than 65536 characters; "
                "no recording restbeat reads has such lines"
            )
            assert int(peak) < 150_000, (
                command,
                path,
            )  # KiB of peak RSS, the interpreter and numpy included (was 2-4 GB)


def test_more_beats_than_the_cap_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lines, "MAX_BEATS", 1000)
    (tmp_path / "rr.txt").write_text("800\n" * 1001)
    status, _, err = _run(capsys, "analyze", str(tmp_path / "rr.txt"))
    assert status == 1 and "rr.txt, line 1001: more than 1,000 intervals in one file" in err


def test_a_file_that_grew_is_refused_as_an_overlap_naming_the_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "db.sqlite3")
    log = tmp_path / "log.csv"
    rows = [(str(800 + k % 7), f"2024-01-01T10:{k // 60:02d}:{k % 60:02d}") for k in range(300)]
    log.write_text(_ohrv(*rows[:200]))
    assert _run(capsys, "import", "--db", db, str(log))[0] == 0
    log.write_text(_ohrv(*rows))  # the logger wrote on
    status, _, err = _run(capsys, "import", "--db", db, str(log))
    assert status == 1 and "overlaps session 1 (import:openhrv" in err and "--delete 1" in err
    plain = tmp_path / "rr.txt"  # no start time in the file: the same path is what makes it the same source
    plain.write_text("800\n" * 100)
    assert _run(capsys, "import", "--db", db, str(plain))[0] == 0
    plain.write_text("800\n" * 150)
    status, _, err = _run(capsys, "import", "--db", db, str(plain))
    assert status == 1 and "overlaps session 2" in err
    other = tmp_path / "other.txt"  # another file without a start time, of the same moment: not an overlap
    other.write_text("810\n" * 100)
    assert _run(capsys, "import", "--db", db, str(other))[0] == 0
    assert _sessions(Path(db)) == 3


def _raw_file(path: Path) -> None:
    packets, pending, clock = [], [], 0.0
    rr_ms = [800.0 + 40 * np.sin(k / 9.0) for k in range(400)] + [53.0, 5000.0, 63999.0] + [820.0] * 50
    for rr in rr_ms:
        clock += rr / 1000.0
        pending.append(ms_to_ticks(rr))
        if sum(pending) >= 1024 or len(pending) == 3:
            packets.append(
                RawPacketRecord(round(clock + 0.05, 6), 1, encode_measurement(measurement(75, pending)))
            )
            pending = []
    with path.open("w") as handle:
        write_raw_hrm(handle, "AA:BB:CC:DD:EE:FF", 1_760_000_000.0, packets)


def test_export_then_import_works_for_what_the_store_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sessions with artifacts, extreme intervals (53, 5000, 63999 ms), several formats: exported as the beat
    CSV, Kubios and raw and imported into a fresh database, the beats come back exactly."""
    rr = [800 + 40 * np.sin(k / 9.0) for k in range(300)] + [400, 1200, 53, 5000, 65000] + [810] * 40
    (tmp_path / "rr.txt").write_text("".join(f"{value:.3f}\n" for value in rr))
    rows = [(str(790 + k % 11), f"2024-03-01T08:{k // 60:02d}:{k % 60:02d}") for k in range(200)]
    (tmp_path / "log.csv").write_text(_ohrv(*rows))
    _raw_file(tmp_path / "strap.jsonl")
    first = str(tmp_path / "a.sqlite3")
    files = [str(tmp_path / name) for name in ("rr.txt", "log.csv", "strap.jsonl")]
    assert _run(capsys, "import", "--db", first, *files)[0] == 0
    assert (
        _run(capsys, "export", "--db", first, "--format", "csv", "--out", str(tmp_path / "all.csv"))[0] == 0
    )
    second = str(tmp_path / "b.sqlite3")
    status, _, err = _run(capsys, "import", "--db", second, str(tmp_path / "all.csv"))
    assert status == 0, err
    source, target = open_database(Path(first)), open_database(Path(second))
    for a, b in zip(list_sessions(source), list_sessions(target), strict=True):
        x, y = session_beats(source, a.id), session_beats(target, b.id)
        assert np.array_equal(x.t_s, y.t_s) and np.array_equal(x.rr_ms, y.rr_ms)
        assert (
            np.array_equal(x.segment, y.segment) and np.array_equal(x.quality, y.quality) and x.kind == y.kind
        )
        assert a.started_utc == pytest.approx(b.started_utc, abs=1e-6)
    for fmt in ("kubios", "raw"):
        out = tmp_path / fmt
        assert _run(capsys, "export", "--db", first, "--format", fmt, "--out", str(out))[0] == 0
        exported = sorted(str(path) for path in out.iterdir()) if out.is_dir() else [str(out)]
        fresh = str(tmp_path / f"{fmt}.sqlite3")
        status, _, err = _run(capsys, "import", "--db", fresh, "--no-correct", *exported)
        assert status == 0 and "Traceback" not in err, err


def test_the_beat_csv_is_read_within_the_bounds_the_store_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whatever the store accepts exports and imports again: the edges of every bound of store.rows."""
    from restbeat.devices.formats import values
    from restbeat.store import rows
    from restbeat.store.database import transaction
    from restbeat.store.writes import INSERT_BEAT, SessionStart, beat_rows, finish_session, insert_session

    assert values.STORE_RR_MAX_MS == rows.RR_MAX_MS and values.STORE_T_ABS_MAX_S == rows.T_ABS_MAX_S
    assert values.STORE_STARTED_MAX_UTC == rows.STARTED_MAX_UTC and values.QUALITIES == rows.QUALITIES
    assert values.KINDS == rows.KINDS
    first = tmp_path / "a.sqlite3"
    conn = open_database(first)
    t = np.array([-5.0, 0.8, 1.6, 2.4, 3.2, 1e8], dtype=np.float64)
    rr = np.array([800.0, 0.0, 599_999.5, 0.001, 810.0, 800.0], dtype=np.float64)
    segment = np.array([0, 1, 2, 2**40, 2**40, 2**40], dtype=np.int64)
    quality = np.array([0, 3, 3, 2, 1, 0], dtype=np.int64)
    kind = ("normal", "out_of_range", "out_of_range", "no_contact", "ectopic", "normal")
    for started in (1.0, 16_725_225_600.0):  # 1970 and the year 2500
        with transaction(conn):
            session = insert_session(conn, SessionStart(started, "live", "on-shift", 3600), recording=False)
            conn.executemany(INSERT_BEAT, beat_rows(session, 0, t, rr, segment, quality, kind))
            finish_session(conn, session, started + 1e8)
    assert (
        _run(capsys, "export", "--db", str(first), "--format", "csv", "--out", str(tmp_path / "all.csv"))[0]
        == 0
    )
    second = tmp_path / "b.sqlite3"
    status, _, err = _run(capsys, "import", "--db", str(second), str(tmp_path / "all.csv"))
    assert status == 0, err
    target = open_database(second)
    for a, b in zip(list_sessions(conn), list_sessions(target), strict=True):
        x, y = session_beats(conn, a.id), session_beats(target, b.id)
        assert np.array_equal(x.t_s, y.t_s) and np.array_equal(x.rr_ms, y.rr_ms) and x.kind == y.kind
        assert np.array_equal(x.segment, y.segment) and np.array_equal(x.quality, y.quality)
        assert a.started_utc == pytest.approx(b.started_utc, abs=1e-5)


def test_messages_that_used_to_mislead(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rec.txt").write_text("800\n810\n820\n")  # a plain RR file beside a same-named header
    (tmp_path / "rec.hea").write_text("rec 1 360 1000\nrec.dat 16 200 11 1024 0 0 0 MLII\n")
    status, out, err = _run(capsys, "analyze", str(tmp_path / "rec.txt"))
    assert status == 0 and "rr-text" in out, err
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    status, _, err = _run(capsys, "analyze", str(tmp_path / "loop_a"))
    assert status == 1 and "loop_a: a symlink loop" in err
    for encoding in (
        "utf-16",
        "utf-16-le",
        "utf-8-sig",
    ):  # with a BOM, without (every other byte zero), UTF-8 BOM
        path = tmp_path / f"{encoding}.txt"
        path.write_text("800\r\n810\r\n820\r\n830\r\n", encoding=encoding)
        status, out, err = _run(capsys, "analyze", str(path))
        assert status == 0 and "rr-text" in out and "NN intervals         4" in out, err
    (tmp_path / "quoted.csv").write_text('"RR","time"\n"800","1"\n"810","2"\n')
    status, out, err = _run(capsys, "analyze", str(tmp_path / "quoted.csv"))
    assert status == 0 and "rr-csv" in out and "NN intervals         2" in out, err


def test_wfdb_annotation_notes_that_hang_wfdb_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the fuzz test: wfdb.rdann loops forever on a ``## `` note that is not the time resolution
    (one flipped bit in the note, or in its length byte)."""
    import wfdb

    signal = np.sin(np.arange(2500) / 5.0)[:, None]
    wfdb.wrsamp(
        "rec", fs=250, units=["mV"], sig_name=["MLII"], p_signal=signal, fmt=["16"], write_dir=str(tmp_path)
    )
    wfdb.wrann("rec", "atr", np.arange(50, 2400, 200), symbol=["N"] * 12, write_dir=str(tmp_path), fs=250)
    atr = tmp_path / "rec.atr"
    seed = atr.read_bytes()
    assert seed[4:27] == b"## time resolution: 250" and seed[2] == 23
    for index, flipped, shown in (
        (2, 19, "'## time resolution:'"),
        (18, ord("d"), "'## time resoludion: 250'"),
    ):
        atr.write_bytes(seed[:index] + bytes([flipped]) + seed[index + 1 :])
        status, _, err = _run(capsys, "analyze", str(atr))
        assert status == 1 and err.strip().endswith(
            f"rec.atr: not a readable WFDB annotation file (a note {shown})"
        )


def test_a_wfdb_header_with_a_long_line_is_one_line_not_minutes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the fuzz soak: wfdb's header regexes take quadratic time (48 s for a 70 000-byte line)."""
    (tmp_path / "rec.hea").write_text(
        "rec 1 250 2500\nrec.dat 16 200 16 0 0 0 0 MLII\n" + "8" * 70_000 + "\n"
    )
    (tmp_path / "rec.dat").write_bytes(bytes(5000))
    started = time.monotonic()
    status, _, err = _run(capsys, "analyze", str(tmp_path / "rec.dat"))
    assert status == 1 and "rec.hea, line 3: not a WFDB header line (over 1024 bytes)" in err
    assert time.monotonic() - started < 5
