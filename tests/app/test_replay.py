"""`restbeat replay`: a synthesised shift with a low stretch, replayed from a file with a baseline from a
file or from the store, as text and as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from restbeat.cli import main
from restbeat.devices.rr_synth import Phase, synthesize
from restbeat.store.database import open_database

CALM = Phase(0, 70, rsa_ms=90, mayer_ms=25, noise_ms=8, drift_ms=15)
LOW = Phase(0, 74, rsa_ms=28, mayer_ms=8, noise_ms=4, drift_ms=8)


def _write(path: Path, phases: list[Phase], seed: int) -> Path:
    rr = synthesize(phases, seed=seed).rr_ms
    path.write_text("\n".join(f"{value:.0f}" for value in np.round(rr)) + "\n", encoding="utf-8")
    return path


def _phase(base: Phase, minutes: float) -> Phase:
    from dataclasses import replace

    return replace(base, duration_s=minutes * 60)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("replay")
    shift = _write(folder / "shift.txt", [_phase(CALM, 45), _phase(LOW, 20), _phase(CALM, 25)], seed=5)
    baseline = _write(folder / "baseline.txt", [_phase(CALM, 180)], seed=21)
    return shift, baseline


def test_replay_prints_the_strain_and_the_prompt_with_reasons(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    shift, baseline = files
    assert main(["replay", str(shift), "--baseline", str(baseline)]) == 0
    out = capsys.readouterr().out
    assert "settled -> strained: 60-s RMSSD" in out and "your usual" in out
    assert "PROMPT 1:" in out and "chosen with p = " in out
    assert "1 prompt(s)" in out and "not a medical device" in out


def test_replay_json_lines(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    shift, baseline = files
    assert main(["replay", str(shift), "--baseline", str(baseline), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[-1]["type"] == "summary" and records[-1]["prompts"] == 1
    (prompt,) = [r for r in records if r["type"] == "prompt"]
    assert 45 * 60 + 180 < prompt["t_s"] < 65 * 60
    assert abs(sum(prompt["probabilities"].values()) - 1) < 1e-6
    assert any("not a medical device" in line for line in prompt["card"])
    states = [r for r in records if r["type"] == "state"]
    assert states[0]["to"] == "strained" and states[0]["reason"]["kind"] == "low-sustained"


def test_replay_without_a_baseline_says_it_is_still_learning(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    shift, _ = files
    assert main(["replay", str(shift)]) == 0
    out = capsys.readouterr().out
    assert "baseline: none" in out and "(still learning)" in out and "0 prompt(s)" in out


def test_replay_with_a_baseline_from_the_store(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shift, baseline = files
    db = tmp_path / "person.sqlite3"
    assert main(["import", str(baseline), "--context", "on-shift", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["replay", str(shift), "--baseline", str(db)]) == 0
    assert "PROMPT 1:" in capsys.readouterr().out


def test_replay_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "missing.txt")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("restbeat replay:") and "missing.txt" in err[0]
    empty_db = tmp_path / "empty.sqlite3"
    open_database(empty_db).close()
    (tmp_path / "x.txt").write_text("800\n" * 300, encoding="utf-8")
    assert main(["replay", str(tmp_path / "x.txt"), "--baseline", str(empty_db)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no on-shift session" in err[0]
