"""The `restbeat` command as a user runs it: version, fast help, analyze as a table and as JSON, errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from restbeat import __version__
from restbeat.cli import main
from tests.support.shared_data import bundled, shared

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "rest_5min_rr.txt"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"restbeat {__version__}"


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\nfrom restbeat.cli import build_parser\nbuild_parser().format_help()\n"
        "heavy = [m for m in ('numpy', 'scipy', 'neurokit2', 'wfdb', 'matplotlib', 'bleak', 'bumble') "
        "if m in sys.modules]\nprint(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_analyze_prints_a_table_with_units(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    for expected in ("Time domain", "RMSSD", "ms", "Frequency domain", "HF power", "ms²", "DFA α1", "bpm"):
        assert expected in out
    assert "NN intervals         337" in out


def test_analyze_json_carries_every_metric(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(EXAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["recording"]["nn_intervals"] == 337
    assert data["time"]["rmssd_ms"] == pytest.approx(101.30, abs=0.01)
    assert data["frequency"]["method"] == "welch"
    assert set(data["nonlinear"]) >= {"sd1_ms", "sd2_ms", "dfa_alpha1", "dfa_alpha2"}


def test_analyze_corrects_artifacts_by_default_and_reports_them(capsys: pytest.CaptureFixture[str]) -> None:
    """PhysioNet 'RR interval time series from healthy subjects' 003 (ODC-By 1.0) is not artifact-cleaned."""
    path = str(bundled("physionet_rr_healthy_subjects", "003.txt"))
    assert main(["analyze", path, "--json"]) == 0
    corrected = json.loads(capsys.readouterr().out)
    assert main(["analyze", path, "--json", "--no-correct"]) == 0
    raw = json.loads(capsys.readouterr().out)
    counts = corrected["artifacts"]["counts"]
    assert counts["missed"] > 10 and counts["extra"] > 10 and counts["ectopic"] > 10
    assert corrected["artifacts"]["corrected_intervals"] > 100
    # intervals out of the physiological range leave, and no HRV is computed across them
    assert counts["out_of_range"] > 0
    assert corrected["artifacts"]["analysed_segments"] > 1
    assert raw["artifacts"] is None
    assert corrected["time"]["rmssd_ms"] < 0.9 * raw["time"]["rmssd_ms"]
    assert main(["analyze", path]) == 0
    table = capsys.readouterr().out
    assert f"{counts['ectopic']} ectopic" in table
    assert "Corrected intervals" in table


def test_analyze_a_24_hour_wfdb_record(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(bundled("physionet_nsr2db", "nsr002.ecg")), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["recording"]["format"] == "wfdb-beats"
    assert data["recording"]["duration_s"] > 20 * 3600
    assert data["frequency"]["method"] == "lomb"  # gaps where non-N beats were excluded
    assert 10 < data["time"]["rmssd_ms"] < 80


def test_missing_file_is_one_clear_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["analyze", str(tmp_path / "missing.txt")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "missing.txt: no such file" in err


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "restbeat", "analyze", str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "RMSSD" in result.stdout


def test_scan_without_bluetooth_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What bleak raises on a machine with no Bluetooth stack (BlueZ's D-Bus socket missing)."""
    import bleak

    async def no_stack(*_: object, **__: object) -> object:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(bleak.BleakScanner, "discover", no_stack)
    assert main(["scan", "--timeout", "0.1"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "restbeat scan: no Bluetooth adapter found; try `restbeat demo`\n"
    assert captured.out == ""


def test_scan_lists_straps(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from restbeat.app import scan as scan_app
    from restbeat.devices.ble import StrapInfo

    straps = [
        StrapInfo("C0:11:22:33:44:55", "Polar H10 ABCDEF01", -61),
        StrapInfo("D1:00:00:00:00:01", "", None),
    ]
    monkeypatch.setattr(scan_app, "scan_straps", lambda timeout_s: straps)
    assert main(["scan"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["name", "address", "RSSI"]
    assert out[1].split() == ["Polar", "H10", "ABCDEF01", "C0:11:22:33:44:55", "-61", "dBm"]
    assert out[2].split() == ["(no", "name)", "D1:00:00:00:00:01", "-"]
    monkeypatch.setattr(scan_app, "scan_straps", lambda timeout_s: [])
    assert main(["scan"]) == 0
    assert "No heart-rate strap found in 5 s" in capsys.readouterr().out


def test_scan_remember_then_record_uses_the_remembered_strap(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import bleak

    from restbeat.app import scan as scan_app
    from restbeat.devices.ble import StrapInfo

    monkeypatch.setenv("RESTBEAT_CONFIG_DIR", str(tmp_path))
    assert main(["record", "--raw", str(tmp_path / "raw.jsonl")]) == 1
    assert "no strap chosen yet: run `restbeat scan --remember`" in capsys.readouterr().err
    straps = [StrapInfo("C0:11:22:33:44:55", "Polar H10 ABCDEF01", -61)]
    monkeypatch.setattr(scan_app, "scan_straps", lambda timeout_s: straps)
    assert main(["scan", "--remember"]) == 0
    assert "remembered Polar H10 ABCDEF01 (C0:11:22:33:44:55)" in capsys.readouterr().out

    async def no_stack(*_: object, **__: object) -> object:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(bleak.BleakScanner, "find_device_by_address", no_stack)
    assert main(["record", "--raw", str(tmp_path / "raw.jsonl")]) == 1
    captured = capsys.readouterr()
    assert "recording raw notifications of C0:11:22:33:44:55" in captured.err
    assert captured.err.endswith("restbeat record: no Bluetooth adapter found; try `restbeat demo`\n")
    assert not (tmp_path / "raw.jsonl").exists()  # nothing recorded, no empty file left behind


def _restbeat(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    """Run the command as a user does, in a fresh process, against the database ``db``."""
    env = {**os.environ, "RESTBEAT_DB": str(db), "COLUMNS": "120"}
    code = "import sys; from restbeat.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )


@pytest.mark.parametrize(
    ("where", "count"),
    [pytest.param(shared, 9, marks=pytest.mark.corpus, id="corpus"), pytest.param(bundled, 4, id="bundled")],
)
def test_import_of_the_nine_healthy_files_shows_progress_and_a_summary_per_file(
    tmp_path: Path, where: Callable[..., Path], count: int
) -> None:
    """PhysioNet 'RR interval time series from healthy subjects' (ODC-By 1.0): all nine files of the corpus,
    and the four of them bundled in tests/data."""
    files = sorted(str(p) for p in where("physionet_rr_healthy_subjects").glob("[0-9]*.txt"))
    assert len(files) == count
    result = _restbeat("import", *files, "--context", "on-shift", db=tmp_path / "db.sqlite3")
    assert result.returncode == 0, result.stderr
    assert "importing" in result.stderr and f"{count}/{count}" in result.stderr
    rows = [line for line in result.stdout.splitlines() if ".txt" in line and "imported" in line]
    assert len(rows) == count
    assert "008.txt: 1 line(s) without an RR value skipped (line 98217: '@')" in result.stdout
    again = _restbeat("import", files[0], db=tmp_path / "db.sqlite3")
    assert "already imported" in again.stdout and again.returncode == 0
    listing = _restbeat("sessions", "--context", "on-shift", db=tmp_path / "db.sqlite3")
    assert len([line for line in listing.stdout.splitlines() if "import:rr-text" in line]) == count


def test_export_and_its_errors_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _restbeat("import", str(bundled("physionet_rr_healthy_subjects", "007.txt")), db=db)
    out = tmp_path / "s.json"
    done = _restbeat("export", "--format", "json", "--last", "--out", str(out), db=db)
    assert done.returncode == 0 and "exported 1 session(s), 57,333 beats, as json" in done.stdout
    assert json.loads(out.read_text())["sessions"][0]["summary"]["beats"] == 57_333
    refused = _restbeat("export", "--format", "json", "--last", "--out", str(out), db=db)
    assert refused.returncode == 1
    assert refused.stderr.strip() == f"restbeat export: {out} already exists; choose another --out"
    broken = tmp_path / "broken.sqlite3"
    broken.write_text("not a database" * 100)
    failed = _restbeat("sessions", db=broken)
    assert failed.returncode == 1 and failed.stderr.count("\n") == 1
    assert f"{broken} is not a restbeat database (left untouched)" in failed.stderr
    missing = _restbeat("import", str(tmp_path / "nope.txt"), db=db)
    assert missing.returncode == 1 and f"{tmp_path / 'nope.txt'}: no such file" in missing.stderr


def test_import_no_correct_stores_the_intervals_as_they_are(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    result = _restbeat(
        "import", "--no-correct", str(bundled("physionet_rr_healthy_subjects", "003.txt")), db=db
    )
    assert result.returncode == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), sum(quality) FROM beats").fetchone() == (108_150, 0)
    bad_rate = _restbeat("import", "--sampling-rate", "0", "x.csv", db=db)
    assert bad_rate.returncode == 2 and "must be a positive number" in bad_rate.stderr


def test_the_cli_offers_exactly_the_contexts_the_store_accepts() -> None:
    from restbeat.cli import CONTEXTS as CLI_CONTEXTS
    from restbeat.store.writes import CONTEXTS as STORE_CONTEXTS

    assert CLI_CONTEXTS == STORE_CONTEXTS
