"""File names that are not UTF-8 (a Latin-1 USB stick, an old zip): stored and shown escaped, never a
traceback that aborts the other files of an import."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from restbeat.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data" / "rest_5min_rr.txt"


def test_a_name_that_is_not_utf8_is_imported_and_the_others_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/bad\xff\xfename.txt"))
    odd.write_text("\n".join(EXAMPLE.read_text().splitlines()[:200]) + "\n")
    worse = Path(os.fsdecode(bytes(tmp_path) + b"/worse\xff.txt"))
    worse.write_text("abc\n")
    good = tmp_path / "good.txt"
    shutil.copy(EXAMPLE, good)
    db = tmp_path / "names.sqlite3"
    assert main(["import", str(worse), str(odd), str(good), "--db", str(db)]) == 1
    captured = capsys.readouterr()
    assert "worse\\udcff.txt" in captured.err and "import summary" in captured.out
    with sqlite3.connect(db) as conn:
        paths = sorted(row[0] for row in conn.execute("SELECT path FROM imports"))
    assert paths == sorted([str(tmp_path) + "/bad\\xff\\xfename.txt", str(good)])
    assert main(["import", str(odd), "--db", str(db)]) == 0  # the same file again: found as a duplicate
    assert "already imported" in capsys.readouterr().out


def test_a_dangling_symlink_names_where_it_points(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "shift.txt"
    link.symlink_to(tmp_path / "moved-away.txt")
    assert main(["import", str(link), "--db", str(tmp_path / "db.sqlite3")]) == 1
    assert (
        f"{link}: a symlink to {tmp_path / 'moved-away.txt'}, which does not exist" in capsys.readouterr().err
    )
