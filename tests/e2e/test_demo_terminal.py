"""`restbeat demo` in a real terminal (a pseudo-terminal driven by pexpect), as a person would run it:
the live screen appears, the link drop is shown, the prompt card comes with its reason, the pacer runs
with its cue, and the session ends with the summary and the measured effect of the breathing."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pexpect
import pytest

from restbeat.store.database import open_database

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def terminal_output(tmp_path: Path) -> tuple[str, Path]:
    db = tmp_path / "demo.sqlite3"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "restbeat.cli", "demo", "--db", str(db), "--speed", "240"],
        dimensions=(60, 120),
        encoding="utf-8",
        timeout=120,
        env={"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "60", "PATH": "/usr/bin:/bin"},
    )
    seen: list[str] = []
    for marker in ("restbeat demo ·", "Why now:", "breathe in|breathe out", "Session summary", pexpect.EOF):
        child.expect(marker)
        seen.append((child.before or "") + (child.after if isinstance(child.after, str) else ""))
    child.close()
    assert child.exitstatus == 0, ANSI.sub("", "".join(seen))[-2000:]
    return ANSI.sub("", "".join(seen)), db


def test_the_demo_shows_the_prompt_the_pacer_and_the_summary(terminal_output: tuple[str, Path]) -> None:
    text, db = terminal_output
    assert "strap streaming" in text
    assert "drops 1" in text  # the scripted link loss, reconnected by the collector
    assert "Paced breathing" in text and "Why now: 60-s RMSSD" in text
    assert "Breathe gently, not deeply" in text  # the safety line on the card
    assert re.search(r"breath \d+ · 6/min, in 4\.0 s : out 6\.0 s", text)
    summary = text[text.index("Session summary") :]
    assert "prompt at" in summary and "accepted" in summary
    assert re.search(r"followed the pacer", summary)
    assert "not a medical device" in summary
    assert f"next: restbeat review --last --db {db}" in text.replace("\r\n", "\n")
    conn = open_database(db)
    (prompts,) = conn.execute("SELECT COUNT(*) FROM prompts WHERE response = 'accepted'").fetchone()
    (outcomes,) = conn.execute("SELECT COUNT(*) FROM outcomes WHERE practice = 'paced-breathing'").fetchone()
    (status,) = conn.execute("SELECT status FROM sessions WHERE context = 'on-shift'").fetchone()
    assert (prompts, outcomes, status) == (1, 1, "complete")
