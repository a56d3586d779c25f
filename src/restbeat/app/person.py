"""What the store knows of the person when a live session starts: their baseline, what the practice learner
has learned from their past prompts, and their resonance breathing rate."""

from __future__ import annotations

import sqlite3

import numpy as np

from restbeat.app.replay import BaselineError, LearnedShift, profile_from_store
from restbeat.recovery.assess import Profile
from restbeat.recovery.learning import PracticeLearner, Rebound, reward
from restbeat.store.queries import read_detail

RESONANCE = "resonance"  # the outcomes row a resonance assessment is stored as
DEFAULT_RATE_PER_MIN = 6.0


def baseline(
    conn: sqlite3.Connection,
    before_utc: float | None = None,
    learned_before: dict[int, LearnedShift] | None = None,
) -> Profile:
    """The person's profile from the store; an empty one (the reference then says it is still learning)
    when there is nothing to learn from yet.  ``learned_before``: see :func:`profile_from_store`."""
    try:
        return profile_from_store(conn, before_utc, learned_before)
    except BaselineError:
        return Profile()


def learner_from_store(conn: sqlite3.Connection, seed: int = 0) -> PracticeLearner:
    """The learner replayed from every answered prompt in the store, oldest first: an accepted practice
    with a measured outcome is learned with its reward, a dismissal with the dismissal penalty."""
    learner = PracticeLearner(seed=seed)
    rebound = Rebound()
    rows = conn.execute(
        """
        SELECT p.practice, p.response, p.detail, o.detail
        FROM prompts AS p LEFT JOIN outcomes AS o ON o.prompt_id = p.id
        WHERE p.response IN ('accepted', 'dismissed')
        ORDER BY p.session_id, p.t_s
        """
    ).fetchall()
    for practice, response, prompt_detail, outcome_detail in rows:
        context = (read_detail(prompt_detail) or {}).get("context")
        if not isinstance(context, list) or not context:
            continue  # none, or a detail no reader can use
        x = np.asarray(context, dtype=np.float64)
        if response == "dismissed":
            learner.learn(practice, x, reward(None, rebound.mean, None, True))
        elif outcome_detail is not None:
            delta = (read_detail(outcome_detail) or {}).get("delta_ln_rmssd")
            delta = float(delta) if isinstance(delta, int | float) else None
            learner.learn(practice, x, reward(delta, rebound.mean, None, False))
    return learner


def resonance_rate(conn: sqlite3.Connection) -> float | None:
    """The breathing rate (breaths/min) of the latest resonance assessment that found one."""
    rows = conn.execute(
        "SELECT detail FROM outcomes WHERE practice = ? ORDER BY session_id DESC, started_t_s DESC",
        (RESONANCE,),
    ).fetchall()
    for (detail,) in rows:
        rate = (read_detail(detail) or {}).get("best_rate_per_min")
        if isinstance(rate, int | float) and 0 < rate < 60:
            return float(rate)
    return None
