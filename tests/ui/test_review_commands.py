"""`restbeat review`, `trends` and `report` as a person runs them, on the shared demo month."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from restbeat.cli import main
from tests.support.demo_month import MONTH_LAST


@pytest.fixture
def month(month_db: Path, tmp_path: Path) -> Path:
    """A copy of the demo month (the commands open it read-write, as SQLite does)."""
    copy = tmp_path / "month.sqlite3"
    shutil.copy(month_db, copy)
    return copy


def test_review_prints_the_summary_and_writes_the_figure(
    month: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "shift.png"
    assert main(["review", MONTH_LAST.replace(day=9).isoformat(), "--db", str(month), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Mon 09 Mar 2026: day shift 07:00-15:00")
    assert re.search(r"Strained .* recovering .* settled", text)
    assert f"figure: {out}" in text
    assert out.read_bytes().startswith(b"\x89PNG")


def test_review_of_a_day_without_a_shift_names_the_day_and_the_database(
    month: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["review", "2026-03-10", "--db", str(month)]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"restbeat review: {month}: no on-shift session on 2026-03-10")
    assert len(error.splitlines()) == 1
    assert main(["review", "--db", str(month), "--out", "shift.svg"]) == 1
    assert (
        capsys.readouterr().err.strip()
        == "restbeat review: shift.svg: figures are PNG; give a file name ending in .png"
    )


def test_reading_commands_never_create_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    for command in (["review", "--last"], ["trends"], ["report", "--out", str(tmp_path / "r.html")]):
        assert main([*command, "--db", str(missing)]) == 1
        assert f"no database at {missing}" in capsys.readouterr().err
    assert not missing.exists()


def test_trends_prints_the_summary_and_writes_the_figure(
    month: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "trends.png"
    assert (
        main(["trends", "--days", "30", "--to", str(MONTH_LAST), "--db", str(month), "--out", str(out)]) == 0
    )
    text = capsys.readouterr().out
    assert "from your morning check-ins" in text and "not a medical device" in text
    assert out.read_bytes().startswith(b"\x89PNG")
    assert main(["trends", "--db", str(month), "--out", str(tmp_path / "trends.jpg")]) == 1
    assert "figures are PNG" in capsys.readouterr().err


def test_report_of_a_period_and_of_a_shift_is_one_html_file_and_a_pdf(
    month: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "period.html"
    assert main(["report", "--out", str(out), "--to", str(MONTH_LAST), "--db", str(month), "--pdf"]) == 0
    assert capsys.readouterr().out.split() == ["report:", str(out), "report:", str(out.with_suffix(".pdf"))]
    page = out.read_text(encoding="utf-8")
    assert page.count('<img src="data:image/png;base64,') == 2  # the trends and the latest shift
    assert page.count("not a medical device") == 1
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    shift = tmp_path / "shift.html"
    assert main(["report", "2026-03-09", "--out", str(shift), "--db", str(month)]) == 0
    one = shift.read_text(encoding="utf-8")
    assert one.count('<img src="data:image/png;base64,') == 1 and "09 March 2026" in one
    assert main(["report", "--out", str(tmp_path / "r.txt"), "--db", str(month)]) == 1
    assert "give a file name ending in .html" in capsys.readouterr().err
