"""`restbeat import RECOVERY_FILE`: rows a live session could not save, put back into the store.

A recovery file (:mod:`restbeat.store.recovery_file`) is recognised by its first line; its rows go back
into the session they belong to when the database holds it, else into a new session.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from restbeat.app.importing import ImportResult
from restbeat.devices.recording import RecordingError
from restbeat.store.recovery_file import RecoveryError, import_recovery, is_recovery_file

FORMAT_NAME = "restbeat recovery file"


def is_recovery(path: Path) -> bool:
    """True when ``path`` is a regular file whose first line is a recovery file's header."""
    try:
        if not path.is_file():
            return False
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        return False  # the importer names what is wrong with the file
    return is_recovery_file(head.decode("utf-8", errors="replace"))


def recover(conn: sqlite3.Connection, path: Path) -> ImportResult:
    """Put the file's rows back; raises RecordingError (one line naming the file) when it cannot."""
    try:
        done = import_recovery(conn, path)
    except RecoveryError as error:
        raise RecordingError(str(error)) from error
    except OSError as error:
        raise RecordingError(f"{path}: cannot read ({error.strerror or error})") from error
    where = f"session {done.session_id}"
    if not done.existing:
        where += " (new: this database did not have the session)"
    return ImportResult(
        path=path,
        status="imported",
        format=FORMAT_NAME,
        session_ids=(done.session_id,),
        beats=done.beats,
        duration_s=done.duration_s,
        notes=(f"recovery file: {done.rows} rows put back into {where}",),
    )
