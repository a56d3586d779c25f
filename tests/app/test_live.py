"""The live shift on an injected clock: a strap's packets (a synthetic wearer, calm and then a stress
episode) through the timeline, the pipeline and the store; the prompt, the person's answers, the paced
breathing practice and its measured outcome, the learner's reward; link events; the end of the session."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from restbeat.app.demo import CALM, STRESS, paced, write_check_in
from restbeat.app.live import AFTER_S, BREATHING, PROMPT_EXPIRES_S, LiveShift, OpenPrompt
from restbeat.app.monitor import SessionPlan, new_shift
from restbeat.devices import hrs
from restbeat.devices.ble import BadPacket, BatteryLevel, LinkState, StateChanged, StrapDetails
from restbeat.devices.rr_synth import HeartModel, synthesize
from restbeat.devices.timeline import RRPacket
from restbeat.recovery.assess import State
from restbeat.recovery.learning import PracticeLearner, Rebound, reward
from restbeat.recovery.recommend import Response, ShiftRecommender
from restbeat.store.database import open_database
from restbeat.store.queries import get_session, session_records

ORIGIN_S = 5000.0  # the session clock's reading when the shift starts
STARTED = dt.datetime(2024, 3, 5, 9, 0, tzinfo=dt.UTC)
CALM_MIN, STRESS_MIN = 25, 20
WARMUP_S = 20 * 60.0


class FakeClock:
    """The session's monotonic clock; the strap moves it to each packet's arrival."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Strap:
    """A chest strap on the shift: counts every interval in 1/1024-s ticks and notifies once a second of its
    own time with the intervals ended since the previous notification; each notification arrives 20-200 ms
    later, stamped by the clock, and the screen refreshes (:meth:`LiveShift.tick`) after each."""

    def __init__(self, shift: LiveShift, clock: FakeClock, seed: int = 0) -> None:
        self.shift = shift
        self.clock = clock
        self.beat_s = clock.now  # the strap's time of the latest beat
        self.next_send_s = clock.now + 1.0
        self.pending: list[int] = []
        self.packets = 0
        self.delivered = 0  # intervals sent in packets
        self._rng = np.random.default_rng(seed)

    def _notify(self) -> None:
        ticks = self.pending
        heart_rate = round(60 * hrs.TICKS_PER_SECOND * len(ticks) / sum(ticks)) if ticks else 70
        built = hrs.measurement(heart_rate, ticks, contact=True, rr_present=True)
        arrival = self.next_send_s + float(self._rng.uniform(0.02, 0.2))
        self.clock.now = arrival
        self.shift.on_packet(RRPacket(arrival, built, hrs.encode_measurement(built), 1))
        self.shift.tick(arrival)
        self.packets += 1
        self.delivered += len(ticks)
        self.pending = []
        self.next_send_s += 1.0

    def play(
        self, rr_ms: Iterable[float], *, until_s: float | None = None, stop: Callable[[], bool] | None = None
    ) -> None:
        """The wearer's intervals (ms) until the clock reaches ``until_s`` or ``stop()`` holds."""
        for value in rr_ms:
            ticks = hrs.ms_to_ticks(value)
            beat_s = self.beat_s + ticks / hrs.TICKS_PER_SECOND
            while beat_s > self.next_send_s:
                self._notify()
            self.pending.append(ticks)
            self.beat_s = beat_s
            if (until_s is not None and self.clock.now >= until_s) or (stop is not None and stop()):
                return
        raise AssertionError("the wearer's script ended before the strap was taken off")


def endless(model: HeartModel) -> Iterator[float]:
    """The heart model's intervals (ms), for as long as asked."""
    while True:
        yield model.next_rr_ms()


@dataclass
class Scene:
    """A shift being recorded: the database, the clock, the live shift and the strap it wears."""

    conn: sqlite3.Connection
    clock: FakeClock
    shift: LiveShift
    strap: Strap

    @property
    def session_id(self) -> int:
        assert self.shift.recorder is not None
        return self.shift.recorder.session_id

    def records(self, table: str) -> list[dict[str, Any]]:
        assert self.shift.recorder is not None
        self.shift.recorder.flush()
        return session_records(self.conn, table, self.session_id)

    def until_prompt(self, rr_ms: Iterable[float]) -> OpenPrompt:
        self.strap.play(rr_ms, stop=lambda: self.shift.prompt is not None)
        assert self.shift.prompt is not None
        return self.shift.prompt


@pytest.fixture(scope="module")
def calm_then_stress() -> list[float]:
    """25 min calm, then 20 min of vagal withdrawal (the demo's wearer)."""
    phases = [
        dataclasses.replace(CALM, duration_s=CALM_MIN * 60.0),
        dataclasses.replace(STRESS, duration_s=STRESS_MIN * 60.0),
    ]
    return [float(v) for v in synthesize(phases, seed=1).rr_ms]


def _scene(tmp_path: Path, *, check_in: bool = True, seed: int = 1) -> Scene:
    conn = open_database(tmp_path / "db.sqlite3")
    if check_in:
        write_check_in(conn, STARTED - dt.timedelta(minutes=10))
    clock = FakeClock(ORIGIN_S)
    shift = new_shift(conn, SessionPlan(seed=seed), clock=clock, started=STARTED)
    return Scene(conn, clock, shift, Strap(shift, clock))


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    """A person with a pre-shift check-in, at the start of a shift."""
    made = _scene(tmp_path)
    yield made
    made.conn.close()


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Scene]:
    """A shift on an empty store (no baseline)."""
    made = _scene(tmp_path, check_in=False)
    yield made
    made.conn.close()


# -- the prompt ------------------------------------------------------------------------------------------


def test_a_prompt_opens_during_the_stress_after_the_warm_up_and_is_stored(
    scene: Scene, calm_then_stress: list[float]
) -> None:
    shift = scene.shift
    assert shift.pipeline.profile.check_in is not None  # the check-in written before the shift is used
    assert shift.pipeline.profile.start_s == ORIGIN_S
    opened = scene.until_prompt(calm_then_stress)
    into = opened.shown_s - ORIGIN_S
    assert into > WARMUP_S
    assert CALM_MIN * 60 < into < (CALM_MIN + STRESS_MIN) * 60
    # shown at the beat time of the packet that brought it (the timeline may place beats up to ~1 s late)
    assert abs(scene.clock.now - opened.shown_s) < 2.0
    view = shift.view(scene.clock.now)
    assert view.state is State.STRAINED
    assert view.reference == "today's check-in"
    assert view.prompt is opened
    prompt = opened.prompt
    assert prompt.number == 1 and str(prompt.trigger) == "sustained-low"

    (row,) = scene.records("prompts")
    assert row["id"] == opened.prompt_id
    assert row["t_s"] == pytest.approx(into)
    assert row["practice"] == prompt.practice.id
    assert row["reason"] == prompt.reason.text()
    assert "60-s RMSSD" in row["reason"] and "your check-in" in row["reason"]
    assert row["response"] is None and row["response_t_s"] is None
    assert row["detail"]["context"] == pytest.approx(list(prompt.context))
    assert row["detail"]["trigger"] == "sustained-low"


def test_an_accepted_breathing_practice_is_measured_stored_and_learned(
    scene: Scene, calm_then_stress: list[float]
) -> None:
    shift = scene.shift
    opened = scene.until_prompt(calm_then_stress)
    accepted_at = scene.clock.now
    run = shift.respond(Response.ACCEPTED, accepted_at)
    assert run is not None and shift.prompt is None and shift.practice is run
    chosen = run.practice.id  # paced breathing with this seed; if the learner chose another, breathe anyway
    if chosen != BREATHING:  # (the replaced practice is then measured and learned from as well)
        scene.strap.play(calm_then_stress[-60:], until_s=accepted_at + 2.0)
        run = shift.start_practice(None, scene.clock.now, opened)
    before = list(shift.done)
    assert run.practice.id == BREATHING and run.prompt is opened.prompt and run.prompt_id == opened.prompt_id
    assert (
        run.pacer is not None and run.pacer.rate_per_min == 6.0 and run.pacer.inhale_s == pytest.approx(4.0)
    )
    (row,) = scene.records("prompts")
    assert row["response"] == "accepted"
    assert row["response_t_s"] == pytest.approx(accepted_at - ORIGIN_S)

    wearer = HeartModel(STRESS, seed=11)
    wearer.switch(paced(run.pacer.rate_per_min))
    planned_end = run.started_s + run.duration_s
    scene.strap.play(endless(wearer), until_s=planned_end)
    assert run.ended_s == pytest.approx(planned_end)  # ended by the screen refresh at its planned end
    assert run.measuring and shift.done == before
    wearer.switch(CALM)
    scene.strap.play(endless(wearer), until_s=planned_end + AFTER_S - 10)
    assert run.response is None, "measured before the 2 min after it were seen"
    scene.strap.play(endless(wearer), until_s=planned_end + AFTER_S + 15)

    response = run.response
    assert response is not None and shift.done == [*before, run] and shift.practice is None
    assert response.rsa_bpm is not None and response.rsa_bpm > 5.0
    assert response.cycles >= 10
    assert response.observed_rate_per_min == pytest.approx(6.0, abs=0.6)
    assert response.rate_matched is True
    assert (
        response.delta_ln_rmssd is not None and response.delta_ln_rmssd > 0.3
    )  # stressed before, calm after

    (outcome,) = [row for row in scene.records("outcomes") if row["practice"] == BREATHING]
    assert outcome["id"] == run.outcome_id
    assert outcome["practice"] == BREATHING and outcome["prompt_id"] == opened.prompt_id
    assert outcome["started_t_s"] == pytest.approx(run.started_s - ORIGIN_S)
    assert run.started_s == accepted_at or chosen != BREATHING
    assert outcome["ended_t_s"] - outcome["started_t_s"] == pytest.approx(run.duration_s)
    detail = outcome["detail"]
    assert detail["delta_ln_rmssd"] == pytest.approx(response.delta_ln_rmssd)
    assert detail["rsa_bpm"] == pytest.approx(response.rsa_bpm)
    assert detail["rate_matched"] is True and detail["prompted"] is True
    assert detail["rate_per_min"] == 6.0

    learner = shift.pipeline.learner
    assert learner.episodes(BREATHING) == 1
    assert sum(learner.episodes(p) for p in opened.prompt.probabilities) == (1 if chosen == BREATHING else 2)
    expected = PracticeLearner()  # the same reward given to a fresh learner
    context = np.asarray(opened.prompt.context)
    expected.learn(BREATHING, context, reward(response.delta_ln_rmssd, Rebound().mean, None, False))
    assert learner.expected(BREATHING, context) == pytest.approx(expected.expected(BREATHING, context))
    assert "followed the pacer" in shift.notes[-1]


def test_a_dismissed_prompt_is_stored_and_learned_as_a_penalty(
    scene: Scene, calm_then_stress: list[float]
) -> None:
    shift = scene.shift
    opened = scene.until_prompt(calm_then_stress)
    now = scene.clock.now
    assert shift.respond(Response.DISMISSED, now) is None
    assert shift.prompt is None and shift.practice is None
    assert shift.answered == [(opened.prompt, "dismissed")]
    (row,) = scene.records("prompts")
    assert row["response"] == "dismissed" and row["response_t_s"] == pytest.approx(now - ORIGIN_S)
    practice = opened.prompt.practice.id
    learner = shift.pipeline.learner
    assert learner.episodes(practice) == 1
    context = np.asarray(opened.prompt.context)
    expected = PracticeLearner()
    expected.learn(practice, context, reward(None, Rebound().mean, None, True))
    assert learner.expected(practice, context) == pytest.approx(expected.expected(practice, context))
    recommender = shift.pipeline.recommender
    assert recommender is not None and recommender.dismissals_in_row == 1
    assert scene.records("outcomes") == []
    assert shift.respond(Response.ACCEPTED, now) is None  # nothing left to answer


def test_snooze_without_a_prompt_holds_prompts_for_fifteen_minutes(
    scene: Scene, calm_then_stress: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []
    original = ShiftRecommender.snooze

    def spy(self: ShiftRecommender, t_s: float, duration_s: float | None = None) -> None:
        calls.append(t_s)
        original(self, t_s, duration_s)

    monkeypatch.setattr(ShiftRecommender, "snooze", spy)
    beats = iter(calm_then_stress)
    scene.strap.play(beats, until_s=ORIGIN_S + 24 * 60)
    now = scene.clock.now
    scene.shift.snooze(now)
    (snoozed_at,) = calls
    assert now - 10.0 < snoozed_at < now + 2.0  # on beat time: the latest clean beat's
    assert scene.shift.notes[-1] == "0:24:00 prompts snoozed for 15 min"
    opened = scene.until_prompt(beats)
    # without the snooze this stress brings a prompt at about 32 min (first test); now it waits
    assert snoozed_at + 15 * 60 <= opened.prompt.t_s < snoozed_at + 15 * 60 + 30
    assert opened.prompt.number == 1


def test_snooze_with_a_prompt_open_answers_it(scene: Scene, calm_then_stress: list[float]) -> None:
    opened = scene.until_prompt(calm_then_stress)
    scene.shift.snooze(scene.clock.now)
    assert scene.shift.prompt is None
    assert scene.shift.answered == [(opened.prompt, "snoozed")]
    (row,) = scene.records("prompts")
    assert row["response"] == "snoozed"
    assert scene.shift.pipeline.learner.episodes(opened.prompt.practice.id) == 0  # a snooze is no reward


def test_an_unanswered_prompt_expires_after_five_minutes(scene: Scene, calm_then_stress: list[float]) -> None:
    beats = iter(calm_then_stress)
    opened = scene.until_prompt(beats)
    scene.strap.play(beats, until_s=opened.shown_s + PROMPT_EXPIRES_S - 2.0)
    assert scene.shift.prompt is opened
    scene.strap.play(beats, until_s=opened.shown_s + PROMPT_EXPIRES_S + 2.0)
    assert scene.shift.prompt is None
    assert scene.shift.answered == [(opened.prompt, "expired")]
    (row,) = scene.records("prompts")
    assert row["response"] == "expired"
    assert PROMPT_EXPIRES_S <= row["response_t_s"] - row["t_s"] < PROMPT_EXPIRES_S + 1.5
    assert scene.shift.pipeline.learner.episodes(opened.prompt.practice.id) == 0


# -- notes and the end of the session ---------------------------------------------------------------------


def test_annotate_writes_a_row_and_a_note(bare: Scene, calm_then_stress: list[float]) -> None:
    bare.strap.play(calm_then_stress, until_s=ORIGIN_S + 75.0)
    now = bare.clock.now
    bare.shift.annotate("hard case in bay 3", now)
    (row,) = bare.records("annotations")
    assert row["text"] == "hard case in bay 3" and row["t_s"] == pytest.approx(now - ORIGIN_S)
    assert bare.shift.notes[-1] == "0:01:15 note: hard case in bay 3"


def test_finish_counts_what_the_store_holds(bare: Scene, calm_then_stress: list[float]) -> None:
    shift, strap = bare.shift, bare.strap
    strap.play(calm_then_stress, until_s=ORIGIN_S + 10 * 60)
    now = bare.clock.now + 0.5
    summary = shift.finish(now)
    assert shift.recorder is not None
    shift.recorder.close(ended_utc=STARTED.timestamp() + (now - ORIGIN_S))
    stored = bare.conn.execute(
        "SELECT count(*) FROM beats WHERE session_id = ?", (bare.session_id,)
    ).fetchone()
    # every interval the strap sent is a beat (the timeline and the correction flushed), and stored
    assert summary.beats == stored[0] == strap.delivered
    assert summary.excluded <= 2  # the first interval of the connection
    assert bare.conn.execute(
        "SELECT count(*) FROM packets WHERE session_id = ?", (bare.session_id,)
    ).fetchone() == (strap.packets,)
    assert summary.session_id == bare.session_id
    assert summary.duration_s == pytest.approx(now - ORIGIN_S)
    assert summary.mean_hr_bpm == pytest.approx(CALM.hr_bpm, abs=3.0)
    assert summary.rmssd_ms is not None and summary.rmssd_ms > 20.0
    assert summary.drops == 0 and summary.prompts == [] and summary.practices == []
    session = get_session(bare.conn, bare.session_id)
    assert session is not None and session.status == "complete"


def test_finish_expires_the_open_prompt_and_measures_the_running_practice(
    scene: Scene, calm_then_stress: list[float]
) -> None:
    shift = scene.shift
    beats = iter(calm_then_stress)
    opened = scene.until_prompt(beats)
    run = shift.start_practice(None, scene.clock.now)  # the person breathes on their own (b), prompt open
    assert run.prompt is None and shift.prompt is opened
    scene.strap.play(beats, until_s=run.started_s + 60.0)
    now = scene.clock.now
    summary = shift.finish(now)
    assert summary.prompts == [(opened.prompt, "expired")]
    assert summary.practices == [run] and run.ended_s == now and run.response is not None
    (prompt_row,) = scene.records("prompts")
    assert prompt_row["response"] == "expired"
    (outcome,) = scene.records("outcomes")
    assert outcome["prompt_id"] is None and outcome["detail"]["prompted"] is False
    assert shift.pipeline.learner.episodes(BREATHING) == 0  # not prompted: no reward


def test_a_practice_replaced_by_another_is_still_measured(bare: Scene, calm_then_stress: list[float]) -> None:
    shift, strap = bare.shift, bare.strap
    beats = iter(calm_then_stress)
    strap.play(beats, until_s=ORIGIN_S + 180.0)
    first = shift.start_practice(None, bare.clock.now)
    strap.play(beats, until_s=first.started_s + first.duration_s + 30.0)
    assert first.measuring  # ended, waiting for the 2 min after it
    second = shift.start_practice(None, bare.clock.now)  # b again
    strap.play(beats, until_s=second.started_s + 60.0)
    summary = shift.finish(bare.clock.now)
    assert any(run is second for run in summary.practices)
    assert any(run is first for run in summary.practices) and first.response is not None
    assert len(bare.records("outcomes")) == 2


@pytest.mark.parametrize("how", ["replaced", "finished"])
def test_a_practice_ended_at_the_instant_it_started_does_not_crash(
    bare: Scene, calm_then_stress: list[float], how: str
) -> None:
    shift = bare.shift
    bare.strap.play(calm_then_stress, until_s=ORIGIN_S + 180.0)
    now = bare.clock.now
    first = shift.start_practice(None, now)
    if how == "replaced":
        shift.start_practice(None, now)
    else:
        shift.finish(now)
    assert first.ended_s == now


# -- link events ------------------------------------------------------------------------------------------


def _state(t: float, state: LinkState, reason: str, connection: int) -> StateChanged:
    return StateChanged(ORIGIN_S + t, state, reason, connection)


def test_a_link_drop_is_counted_once_noted_and_stored(bare: Scene) -> None:
    shift = bare.shift
    events = [
        _state(0.0, LinkState.SCANNING, "looking for the strap", 0),
        _state(2.0, LinkState.CONNECTING, "found it", 0),
        _state(3.0, LinkState.STREAMING, "subscribed", 1),
    ]
    for event in events:
        shift.on_event(event)
    assert shift.link.state == "streaming" and shift.link.drops == 0 and shift.link.connections == 1
    drop = _state(65.0, LinkState.RECONNECTING, "strap silent for 5 s", 1)
    shift.on_event(drop)
    assert shift.link.drops == 1 and shift.link.state == "reconnecting"
    assert shift.link.reason == "strap silent for 5 s"
    assert list(shift.notes) == ["0:01:05 link dropped: strap silent for 5 s"]
    # retries that fail while reconnecting are not new drops
    for event in (
        _state(66.0, LinkState.CONNECTING, "found it", 1),
        _state(70.0, LinkState.RECONNECTING, "connect failed", 1),
    ):
        shift.on_event(event)
    assert shift.link.drops == 1 and len(shift.notes) == 1
    shift.on_event(_state(71.0, LinkState.STREAMING, "subscribed", 2))
    shift.on_event(_state(90.0, LinkState.RECONNECTING, "disconnected", 2))
    assert shift.link.drops == 2 and shift.link.connections == 2
    rows = bare.records("link_events")
    assert [r["kind"] for r in rows] == ["StateChanged"] * 8
    assert rows[3]["t_s"] == pytest.approx(65.0)
    assert rows[3]["detail"] == {"state": "reconnecting", "reason": "strap silent for 5 s"}
    assert shift.view(ORIGIN_S + 91.0).link.drops == 2


def test_battery_strap_details_and_bad_packets(bare: Scene) -> None:
    shift = bare.shift
    shift.on_event(BatteryLevel(ORIGIN_S + 4.0, 83))
    assert shift.link.battery == 83
    shift.on_event(StrapDetails(ORIGIN_S + 4.5, "Polar", "H10", "5.0.0", "chest"))
    assert shift.link.strap == "Polar H10"
    shift.on_event(BadPacket(ORIGIN_S + 9.0, b"\x11", "payload too short"))
    assert shift.notes[-1] == "0:00:09 bad packet kept: payload too short"
    assert shift.link.battery == 83 and shift.link.strap == "Polar H10"  # kept across events
    rows = bare.records("link_events")
    assert [r["kind"] for r in rows] == ["BatteryLevel", "StrapDetails", "BadPacket"]
    assert rows[0]["detail"] == {"percent": 83}
    assert rows[2]["detail"] == {"raw": "11", "error": "payload too short"}
    assert rows[2]["t_s"] == pytest.approx(9.0)


def test_packets_are_kept_raw_and_their_contact_flag_shown(bare: Scene) -> None:
    shift = bare.shift
    lost = hrs.measurement(70, [800], contact=False)
    shift.on_packet(RRPacket(ORIGIN_S + 1.0, lost, hrs.encode_measurement(lost), 1))
    assert shift.link.contact is False
    back = hrs.measurement(70, [820, 830], contact=True)
    shift.on_packet(RRPacket(ORIGIN_S + 2.0, back, hrs.encode_measurement(back), 1))
    assert shift.link.contact is True
    assert bare.shift.recorder is not None
    bare.shift.recorder.flush()
    rows = bare.conn.execute(
        "SELECT seq, arrival_s, connection, raw FROM packets WHERE session_id = ? ORDER BY seq",
        (bare.session_id,),
    ).fetchall()
    assert rows == [
        (0, pytest.approx(1.0), 1, hrs.encode_measurement(lost)),
        (1, pytest.approx(2.0), 1, hrs.encode_measurement(back)),
    ]


def test_beats_never_commit_and_windows_are_kept_on_the_assessment_ticks(
    bare: Scene, calm_then_stress: list[float]
) -> None:
    """The per-beat path only fills the recorder's buffers (its flusher commits, beside it); the windows
    are kept every 5 s of beat time, on the ticks where the assessment reads them."""
    bare.strap.play(calm_then_stress, until_s=ORIGIN_S + 600.0)
    recorder = bare.shift.recorder
    assert recorder is not None
    assert recorder.commits == 0 and recorder.pending > 0
    rows = bare.records("snapshots")
    assert recorder.commits == 1
    by_time: dict[float, set[float]] = {}
    for row in rows:
        by_time.setdefault(row["t_s"], set()).add(row["window_s"])
    assert all(windows == {60.0, 300.0} for windows in by_time.values())
    times = np.array(sorted(by_time))
    assert 600 / 5 - 5 <= times.size <= 600 / 5
    gaps = np.diff(times)
    # the ticks are on a 5-s grid of beat time, each on the first beat at or after its grid point
    assert np.all((gaps > 3.0) & (gaps < 7.0))
    assert gaps.mean() == pytest.approx(5.0, abs=0.1)
    late = [row for row in rows if row["t_s"] > 400.0 and row["window_s"] == 300.0]
    assert late and all(row["quality"] == "ok" and row["rmssd_ms"] > 0 for row in late)
