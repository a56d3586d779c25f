"""What the review, export and the recommender read back: sessions by date and tag, a session's beats and
records, and per-session and per-day summaries.

A session belongs to the local date it started on (``started_utc + tz_offset_s``), so a night shift is one
day's shift, not two halves.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from restbeat.beats import BeatQuality
from restbeat.store.rows import BEAT_READ_OK

_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One session as stored (times in Unix s UTC, offset in s)."""

    id: int
    started_utc: float
    ended_utc: float | None
    tz_offset_s: int
    source: str
    context: str
    status: str
    strap_address: str | None
    note: str | None

    @property
    def local_start(self) -> dt.datetime:
        """The start in the person's local time then (with its UTC offset)."""
        zone = dt.timezone(dt.timedelta(seconds=self.tz_offset_s))
        return dt.datetime.fromtimestamp(self.started_utc, zone)

    @property
    def local_date(self) -> dt.date:
        """The local date the session started on (its day)."""
        return self.local_start.date()

    @property
    def duration_s(self) -> float:
        """From start to end (s); 0 while still recording."""
        return max((self.ended_utc or self.started_utc) - self.started_utc, 0.0)


@dataclass(frozen=True)
class SessionBeats:
    """A session's beats as arrays: time (s from the start), RR (ms), segment, quality code, class; and how
    many stored rows were left out because no reader can use them (see :mod:`restbeat.store.rows`)."""

    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    segment: NDArray[np.int64]
    quality: NDArray[np.int64]
    kind: tuple[str, ...]
    skipped: int = 0

    @property
    def corrected(self) -> int:
        """Beats whose value artifact correction changed."""
        return int(np.count_nonzero(self.quality == BeatQuality.CORRECTED))

    @property
    def excluded(self) -> int:
        """Intervals kept but never used for HRV."""
        return int(np.count_nonzero(self.quality == BeatQuality.EXCLUDED))


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """Totals over one session's beats: RMSSD from every successive pair usable for HRV."""

    session: SessionRow
    beats: int
    usable_beats: int
    corrected_beats: int
    mean_hr_bpm: float
    rmssd_ms: float

    @property
    def corrected_fraction(self) -> float:
        """Corrected beats over usable beats (0-1)."""
        return self.corrected_beats / self.usable_beats if self.usable_beats else 0.0


@dataclass(frozen=True, slots=True)
class DailySummary:
    """One local day and context: how much was recorded, mean HR (bpm) and RMSSD (ms) of its sessions."""

    date: dt.date
    context: str
    sessions: int
    recorded_s: float
    beats: int
    usable_beats: int
    corrected_beats: int
    mean_hr_bpm: float
    rmssd_ms: float

    @property
    def ln_rmssd(self) -> float:
        """Natural log of RMSSD (ms), NaN without data."""
        return math.log(self.rmssd_ms) if self.rmssd_ms > 0 else math.nan


_SESSION_COLUMNS = """
    s.id, s.started_utc, s.ended_utc, s.tz_offset_s, s.source, s.context, s.status, st.address, s.note
"""


def _session(row: tuple[Any, ...]) -> SessionRow:
    return SessionRow(
        id=int(row[0]),
        started_utc=float(row[1]),
        ended_utc=None if row[2] is None else float(row[2]),
        tz_offset_s=int(row[3]),
        source=str(row[4]),
        context=str(row[5]),
        status=str(row[6]),
        strap_address=row[7],
        note=row[8],
    )


def _day_start(day: dt.date) -> float:
    return float((day - _EPOCH).days * 86400)


def _session_filter(
    since: dt.date | None, until: dt.date | None, context: str | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = ["s.status != 'importing'"]  # an import not yet complete is nobody's to read
    params: list[Any] = []
    if since is not None:
        clauses.append("s.started_utc + s.tz_offset_s >= ?")
        params.append(_day_start(since))
    if until is not None:
        clauses.append("s.started_utc + s.tz_offset_s < ?")
        params.append(_day_start(until) + 86400.0)
    if context is not None:
        clauses.append("s.context = ?")
        params.append(context)
    return " WHERE " + " AND ".join(clauses), params


def list_sessions(
    conn: sqlite3.Connection,
    since: dt.date | None = None,
    until: dt.date | None = None,
    context: str | None = None,
) -> list[SessionRow]:
    """Sessions that started on local dates ``since``..``until`` (inclusive), oldest first."""
    where, params = _session_filter(since, until, context)
    rows = conn.execute(
        f"SELECT {_SESSION_COLUMNS} FROM sessions s LEFT JOIN straps st ON st.id = s.strap_id{where} "
        "ORDER BY s.started_utc, s.id",
        params,
    )
    return [_session(row) for row in rows]


def get_session(conn: sqlite3.Connection, session_id: int) -> SessionRow | None:
    """One session by id, or None."""
    row = conn.execute(
        f"SELECT {_SESSION_COLUMNS} FROM sessions s LEFT JOIN straps st ON st.id = s.strap_id WHERE s.id = ?"
        " AND s.status != 'importing'",
        (session_id,),
    ).fetchone()
    return None if row is None else _session(row)


def session_beats(conn: sqlite3.Connection, session_id: int) -> SessionBeats:
    """The beats of a session in order; a row no reader can use (the schema's CHECK constraints keep them
    out, but a file edited by hand may hold one) is left out and counted in ``skipped``."""
    rows = conn.execute(
        f"SELECT t_s, rr_ms, segment, quality, kind FROM beats WHERE session_id = ? AND ({BEAT_READ_OK}) IS 1"
        " ORDER BY seq",
        (session_id,),
    ).fetchall()
    total = int(conn.execute("SELECT count(*) FROM beats WHERE session_id = ?", (session_id,)).fetchone()[0])
    if not rows:
        empty_f = np.empty(0, dtype=np.float64)
        empty_i = np.empty(0, dtype=np.int64)
        return SessionBeats(empty_f, empty_f, empty_i, empty_i, (), total)
    t, rr, segment, quality, kind = zip(*rows, strict=True)
    return SessionBeats(
        np.asarray(t, dtype=np.float64),
        np.asarray(rr, dtype=np.float64),
        np.asarray(segment, dtype=np.int64),
        np.asarray(quality, dtype=np.int64),
        tuple(kind),
        total - len(rows),
    )


def session_packets(conn: sqlite3.Connection, session_id: int) -> list[tuple[float, int, bytes]]:
    """The raw notifications of a session: (arrival s from the start, connection number, bytes)."""
    rows = conn.execute(
        "SELECT arrival_s, connection, raw FROM packets WHERE session_id = ? ORDER BY seq", (session_id,)
    )
    return [(float(t), int(c), bytes(raw)) for t, c, raw in rows]


def session_records(conn: sqlite3.Connection, table: str, session_id: int) -> list[dict[str, Any]]:
    """Every row of ``table`` (link_events, snapshots, prompts, outcomes, annotations) for a session, as
    dicts, JSON detail decoded (a detail that is not JSON reads as ``{}``, its text under
    ``unreadable_detail``)."""
    if table not in {"link_events", "snapshots", "prompts", "outcomes", "annotations"}:
        raise ValueError(f"not a per-session table: {table}")
    cursor = conn.execute(f"SELECT * FROM {table} WHERE session_id = ? ORDER BY id", (session_id,))
    names = [column[0] for column in cursor.description]
    records = []
    for row in cursor:
        record = dict(zip(names, row, strict=True))
        if isinstance(record.get("detail"), str):
            detail = read_detail(record["detail"])
            if detail is None:
                record["unreadable_detail"] = record["detail"]
            record["detail"] = detail or {}
        records.append(record)
    return records


_SQLITE_MAX_PARAMETERS = 30_000


def _rows_by_session(
    conn: sqlite3.Connection, sql: str, session_ids: Sequence[int], *params: Any
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql`` (whose ``{ids}`` becomes the placeholders of a chunk of ``session_ids``; ``params``
    follow them) over every chunk small enough for SQLite's limit on bound parameters."""
    ids = list(session_ids)
    for first in range(0, len(ids), _SQLITE_MAX_PARAMETERS):
        chunk = ids[first : first + _SQLITE_MAX_PARAMETERS]
        yield from conn.execute(sql.format(ids=",".join("?" * len(chunk))), (*chunk, *params))


def _beat_totals(conn: sqlite3.Connection, session_ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """Per session: beats, usable, corrected, sum of usable RR (ms), sum of squared successive differences
    (ms^2) and their count; one aggregate pass over the beats of the sessions given.  No row rule here: the
    schema's CHECK constraints keep unusable rows out, and testing each of 10^7 rows again would make the
    summaries 2.6 times slower (a hand-edited row changes a total, it never stops the listing)."""
    rows = _rows_by_session(
        conn,
        """
        SELECT session_id, count(*), sum(quality IN (0, 1)), sum(quality = 1),
               sum(CASE WHEN quality IN (0, 1) THEN rr_ms END), sum(drr_ms * drr_ms), count(drr_ms)
        FROM beats WHERE session_id IN ({ids})
        GROUP BY session_id
        """,
        session_ids,
    )
    return {int(row[0]): tuple(row[1:]) for row in rows}


def summarise(conn: sqlite3.Connection, sessions: list[SessionRow]) -> list[SessionSummary]:
    """Beat totals of the sessions given, in their order."""
    totals = _beat_totals(conn, [session.id for session in sessions])
    summaries = []
    for session in sessions:
        n, usable, corrected, sum_rr, sum_d2, n_d = totals.get(session.id, (0, 0, 0, None, None, 0))
        usable = int(usable or 0)
        summaries.append(
            SessionSummary(
                session=session,
                beats=int(n),
                usable_beats=usable,
                corrected_beats=int(corrected or 0),
                mean_hr_bpm=60000.0 * usable / sum_rr if usable and sum_rr else math.nan,
                rmssd_ms=math.sqrt(sum_d2 / n_d) if n_d else math.nan,
            )
        )
    return summaries


def session_summaries(
    conn: sqlite3.Connection,
    since: dt.date | None = None,
    until: dt.date | None = None,
    context: str | None = None,
) -> list[SessionSummary]:
    """Per-session beat totals of the sessions started on local dates ``since``..``until``."""
    return summarise(conn, list_sessions(conn, since, until, context))


def daily_summaries(
    conn: sqlite3.Connection,
    since: dt.date | None = None,
    until: dt.date | None = None,
    context: str | None = None,
) -> list[DailySummary]:
    """Per local day and context: sessions, recorded time (s), beats, mean HR (bpm) and RMSSD (ms) over all
    of the day's usable successive pairs; oldest first."""
    sessions = {row.id: row for row in list_sessions(conn, since, until, context)}
    per_day: dict[tuple[dt.date, str], list[float]] = defaultdict(lambda: [0.0] * 8)
    totals = _beat_totals(conn, list(sessions))
    for session_id, session in sessions.items():
        n, usable, corrected, sum_rr, sum_d2, n_d = totals.get(session_id, (0, 0, 0, 0.0, 0.0, 0))
        acc = per_day[(session.local_date, session.context)]
        acc[0] += 1
        acc[1] += session.duration_s
        acc[2] += n or 0
        acc[3] += usable or 0
        acc[4] += corrected or 0
        acc[5] += sum_rr or 0.0
        acc[6] += sum_d2 or 0.0
        acc[7] += n_d or 0
    return [
        DailySummary(
            date=day,
            context=context_tag,
            sessions=int(acc[0]),
            recorded_s=acc[1],
            beats=int(acc[2]),
            usable_beats=int(acc[3]),
            corrected_beats=int(acc[4]),
            mean_hr_bpm=60000.0 * acc[3] / acc[5] if acc[5] else math.nan,
            rmssd_ms=math.sqrt(acc[6] / acc[7]) if acc[7] else math.nan,
        )
        for (day, context_tag), acc in sorted(per_day.items())
    ]


def usable_windows(
    conn: sqlite3.Connection, session_ids: Sequence[int], window_s: float = 60.0
) -> dict[int, list[tuple[float, float | None]]]:
    """The stored snapshots of ``window_s`` (s) windows that reported numbers, per session: (RMSSD ms, HR bpm
    or None), in time order; a session without any is absent."""
    found: dict[int, list[tuple[float, float | None]]] = defaultdict(list)
    rows = _rows_by_session(
        conn,
        "SELECT session_id, rmssd_ms, hr_bpm FROM snapshots WHERE session_id IN ({ids})"
        " AND window_s = ? AND quality = 'ok' AND rmssd_ms > 0 ORDER BY session_id, t_s",
        session_ids,
        window_s,
    )
    for session_id, rmssd, hr in rows:
        found[int(session_id)].append((float(rmssd), None if hr is None else float(hr)))
    return dict(found)


def lessons(conn: sqlite3.Connection, session_ids: Sequence[int], version: int) -> dict[int, dict[str, Any]]:
    """The kept lessons of ``version`` for these sessions (by id); sessions without one are absent."""
    rows = _rows_by_session(
        conn,
        "SELECT session_id, detail FROM lessons WHERE session_id IN ({ids}) AND version = ?",
        session_ids,
        version,
    )
    found = {}
    for session_id, detail in rows:
        lesson = read_detail(detail)
        if lesson is not None:  # one that cannot be read is a cache miss: the caller relearns it
            found[int(session_id)] = lesson
    return found


def read_detail(text: Any) -> dict[str, Any] | None:
    """A detail column's text decoded when it is a JSON object, else None (a reader skips or ignores it)."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None
