"""What a live session starts from, read from the store: the baseline (empty, a check-in, past shifts),
the practice learner replayed from answered prompts, and the resonance breathing rate."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from restbeat.app.demo import CALM, SEATED, write_check_in
from restbeat.app.live import PacerSettings
from restbeat.app.monitor import SessionPlan, new_shift
from restbeat.app.person import DEFAULT_RATE_PER_MIN, RESONANCE, baseline, learner_from_store, resonance_rate
from restbeat.beats import BeatClass, BeatQuality
from restbeat.devices.rr_synth import synthesize
from restbeat.recovery.assess import Profile
from restbeat.recovery.learning import PracticeLearner, Rebound, reward
from restbeat.store.database import open_database
from restbeat.store.queries import session_beats
from restbeat.store.recorder import SessionRecorder
from restbeat.store.writes import SessionStart

STARTED = dt.datetime(2024, 3, 5, 9, 0, tzinfo=dt.UTC)
PRACTICES = ("paced-breathing", "micro-break", "grounding-321", "grounding-54321", "compassion-pause")
CALM_X = (1.0, 0.0, 0.0, 0.5, 0.0)
DEEP_X = (1.0, 1.0, 1.0, 2.0, 1.0)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_database(tmp_path / "db.sqlite3")
    yield connection
    connection.close()


def _session(conn: sqlite3.Connection, started_utc: float, context: str = "on-shift") -> SessionRecorder:
    return SessionRecorder(conn, SessionStart(started_utc, "test", context), origin_s=0.0, clock=lambda: 0.0)


def _answered(
    recorder: SessionRecorder,
    t_s: float,
    practice: str,
    response: str | None,
    context: tuple[float, ...] | None,
    *,
    outcome: dict[str, float | None] | None = None,
) -> int:
    detail = {"trigger": "sustained-low"} | ({"context": list(context)} if context is not None else {})
    prompt_id = recorder.add_prompt(t_s, practice, "60-s RMSSD 14 ms for 6 min", detail)
    if response is not None:
        recorder.set_prompt_response(prompt_id, response, t_s + 5.0)
    if outcome is not None:
        recorder.add_outcome(practice, t_s + 5.0, t_s + 155.0, prompt_id=prompt_id, detail=dict(outcome))
    return prompt_id


def _same_learning(learner: PracticeLearner, reference: PracticeLearner) -> None:
    for practice in PRACTICES:
        assert learner.episodes(practice) == reference.episodes(practice), practice
        for x in (CALM_X, DEEP_X):
            context = np.asarray(x)
            assert learner.expected(practice, context) == pytest.approx(reference.expected(practice, context))


def test_the_learner_replays_accepted_practices_with_an_outcome_and_dismissals(
    conn: sqlite3.Connection,
) -> None:
    first = _session(conn, STARTED.timestamp() - 86400)
    _answered(first, 1800.0, "paced-breathing", "accepted", CALM_X, outcome={"delta_ln_rmssd": 0.4})
    _answered(first, 4000.0, "micro-break", "dismissed", DEEP_X)
    _answered(first, 6000.0, "grounding-321", "accepted", CALM_X)  # no outcome measured: nothing learned
    _answered(first, 7000.0, "compassion-pause", "snoozed", CALM_X)
    _answered(first, 8000.0, "grounding-54321", "expired", DEEP_X)
    _answered(first, 9000.0, "paced-breathing", None, CALM_X)  # never answered
    _answered(
        first, 9500.0, "paced-breathing", "accepted", None, outcome={"delta_ln_rmssd": 0.9}
    )  # no context
    first.add_outcome("paced-breathing", 9900.0, 10050.0, detail={"delta_ln_rmssd": 0.5})  # self-started
    first.close()
    second = _session(conn, STARTED.timestamp())
    _answered(second, 2000.0, "paced-breathing", "accepted", DEEP_X, outcome={"delta_ln_rmssd": -0.2})
    _answered(second, 5000.0, "micro-break", "accepted", CALM_X, outcome={"delta_ln_rmssd": None})
    second.close()

    learner = learner_from_store(conn)
    rebound = Rebound().mean
    reference = PracticeLearner()
    reference.learn("paced-breathing", np.asarray(CALM_X), reward(0.4, rebound, None, False))
    reference.learn("micro-break", np.asarray(DEEP_X), reward(None, rebound, None, True))
    reference.learn("paced-breathing", np.asarray(DEEP_X), reward(-0.2, rebound, None, False))
    reference.learn("micro-break", np.asarray(CALM_X), reward(None, rebound, None, False))
    assert [learner.episodes(p) for p in PRACTICES] == [2, 2, 0, 0, 0]
    _same_learning(learner, reference)
    # the dismissal counted as a penalty: micro-break looks worse than untried in the dismissed context
    assert learner.expected("micro-break", np.asarray(DEEP_X)) < PracticeLearner().expected(
        "micro-break", np.asarray(DEEP_X)
    )


def test_an_empty_store_gives_a_fresh_learner_with_the_seed(conn: sqlite3.Connection) -> None:
    learner = learner_from_store(conn, seed=5)
    assert learner.seed == 5
    _same_learning(learner, PracticeLearner())
    x = np.asarray(CALM_X)
    assert learner.choose(PRACTICES, x) == PracticeLearner(seed=5).choose(PRACTICES, x)


def test_resonance_rate_is_the_latest_found(conn: sqlite3.Connection) -> None:
    assert resonance_rate(conn) is None
    first = _session(conn, STARTED.timestamp() - 2 * 86400, "pre-shift")
    first.add_outcome(RESONANCE, 0.0, 840.0, detail={"best_rate_per_min": 5.5})
    first.close()
    assert resonance_rate(conn) == 5.5
    second = _session(conn, STARTED.timestamp() - 86400, "pre-shift")
    second.add_outcome(RESONANCE, 900.0, 1740.0, detail={"best_rate_per_min": 6.5})
    second.add_outcome(RESONANCE, 0.0, 840.0, detail={"best_rate_per_min": 4.5})  # earlier that session
    second.add_outcome("paced-breathing", 2000.0, 2150.0, detail={"best_rate_per_min": 9.0})  # not resonance
    second.close()
    third = _session(conn, STARTED.timestamp(), "pre-shift")
    third.add_outcome(RESONANCE, 0.0, 840.0, detail={"best_rate_per_min": None})  # no valid trial
    third.close()
    assert resonance_rate(conn) == 6.5
    # a new shift paces breathing at it, unless the plan sets a pace
    shift = new_shift(conn, SessionPlan(), clock=lambda: 100.0, started=STARTED + dt.timedelta(hours=1))
    assert shift.pacer.rate_per_min == 6.5
    assert shift.pacer.inhale_share == PacerSettings().inhale_share
    chosen = PacerSettings(rate_per_min=5.0, inhale_share=0.5)
    assert new_shift(conn, SessionPlan(pacer=chosen), clock=lambda: 100.0).pacer == chosen


def test_without_a_resonance_rate_the_pacer_runs_at_six(conn: sqlite3.Connection) -> None:
    shift = new_shift(conn, SessionPlan(), clock=lambda: 0.0, started=STARTED)
    assert shift.pacer.rate_per_min == DEFAULT_RATE_PER_MIN == 6.0


def test_baseline_of_an_empty_store_is_still_learning(conn: sqlite3.Connection) -> None:
    assert baseline(conn) == Profile()
    assert baseline(conn, STARTED.timestamp()) == Profile()


def test_baseline_from_a_check_in(conn: sqlite3.Connection) -> None:
    write_check_in(conn, STARTED)
    profile = baseline(conn)
    assert profile.check_in is not None
    assert profile.check_in.hr_bpm == pytest.approx(SEATED.hr_bpm, abs=3.0)
    assert 20.0 < profile.check_in.rmssd_ms < 80.0
    assert profile.resting_hr_bpm == profile.check_in.hr_bpm
    assert profile.epochs == ()
    assert baseline(conn, STARTED.timestamp() + 600).check_in == profile.check_in
    assert baseline(conn, STARTED.timestamp()) == Profile()  # only sessions that started before


def test_the_check_in_beats_carry_a_beat_class(conn: sqlite3.Connection) -> None:
    session_id = write_check_in(conn, STARTED)
    kinds = set(session_beats(conn, session_id).kind)
    assert kinds <= {str(kind) for kind in BeatClass}


def test_a_rejected_check_in_gives_an_empty_baseline(conn: sqlite3.Connection) -> None:
    rr = synthesize([dataclasses.replace(SEATED, duration_s=60.0)], seed=3)  # stopped after 1 min
    recorder = _session(conn, STARTED.timestamp(), "pre-shift")
    for t, value in zip(rr.t_s, rr.rr_ms, strict=True):
        recorder.add_beat(float(t), float(value), 0, BeatQuality.GOOD, str(BeatClass.NORMAL))
    recorder.close()
    assert baseline(conn) == Profile()


def test_baseline_from_a_past_shift(conn: sqlite3.Connection) -> None:
    rr = synthesize([dataclasses.replace(CALM, duration_s=40 * 60.0)], seed=8)
    recorder = _session(conn, STARTED.timestamp() - 86400)
    for t, value in zip(rr.t_s, rr.rr_ms, strict=True):
        recorder.add_beat(float(t), float(value), 0, BeatQuality.GOOD, str(BeatClass.NORMAL))
    recorder.close()
    profile = baseline(conn, STARTED.timestamp())
    assert profile.check_in is None
    assert len(profile.epochs) >= 10
    assert {epoch.shift for epoch in profile.epochs} == {recorder.session_id}
    assert profile.resting_hr_bpm is not None
    assert CALM.hr_bpm - 8 < profile.resting_hr_bpm < CALM.hr_bpm


def test_each_finished_shift_is_learned_once_and_kept_in_the_store(month_db: Path, tmp_path: Path) -> None:
    """The baseline from kept lessons is the baseline from the beats; a lesson of another version is
    relearned; a shift's lesson goes with the shift."""
    from restbeat.app.replay import LESSON_VERSION
    from restbeat.store.queries import list_sessions

    copy = tmp_path / "month.sqlite3"
    shutil.copy(month_db, copy)
    conn = open_database(copy)
    conn.execute("DELETE FROM lessons")
    shifts = {s.id for s in list_sessions(conn, context="on-shift")}
    fresh = baseline(conn)  # learned from the beats
    kept = dict(conn.execute("SELECT session_id, version FROM lessons").fetchall())
    assert kept == dict.fromkeys(shifts, LESSON_VERSION)
    conn.execute('UPDATE lessons SET detail = \'{"epochs": [["x"]]}\' WHERE session_id = ?', (min(shifts),))
    assert baseline(conn) == fresh  # a lesson that cannot be read is relearned, and replaced
    (detail,) = conn.execute("SELECT detail FROM lessons WHERE session_id = ?", (min(shifts),)).fetchone()
    assert all(len(epoch) == 4 for epoch in json.loads(detail)["epochs"])
    conn.execute("UPDATE lessons SET version = ? WHERE session_id = ?", (LESSON_VERSION - 1, min(shifts)))
    assert baseline(conn) == fresh  # another version: relearned from the beats, and kept again
    assert conn.execute("SELECT version FROM lessons WHERE session_id = ?", (min(shifts),)).fetchone() == (
        LESSON_VERSION,
    )
    assert baseline(conn, learned_before={}) == fresh  # from the kept lessons alone
    conn.execute("DELETE FROM sessions WHERE id = ?", (max(shifts),))
    assert conn.execute("SELECT count(*) FROM lessons").fetchone() == (len(shifts) - 1,)
    conn.close()
