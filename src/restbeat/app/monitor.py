"""A live session from start to end: the strap supervisor, the live shift, the recorder's periodic commits and
the screen, on one asyncio loop.

:func:`new_shift` sets up what a session starts from (the person's baseline, learner and resonance rate from
the store; a new session row).  :func:`run_session` runs the supervisor, the periodic flush and the screen
until the screen says stop (or Bluetooth turns out to be missing), then stops the strap cleanly, measures
what is pending and closes the session, whatever went wrong on the way.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from restbeat.app.live import LiveShift, LiveSummary, PacerSettings
from restbeat.app.person import DEFAULT_RATE_PER_MIN, baseline, learner_from_store, resonance_rate
from restbeat.app.pipeline import ShiftPipeline
from restbeat.app.replay import LearnedShift
from restbeat.devices.ble import StrapSupervisor
from restbeat.recovery.practices import Place
from restbeat.store.recorder import SessionRecorder
from restbeat.store.writes import SessionStart, check_context

NIGHT_HOURS = (19, 4)  # a shift starting from 19:00 to 04:59 local time is a night shift


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """How a live session is started: context tag, where the beats come from, the strap, the local start
    time, the learner's seed and where the person is (for the practices offered)."""

    context: str = "on-shift"
    source: str = "strap"
    strap_address: str | None = None
    strap_name: str | None = None
    seed: int = 0
    place: Place = Place.BEDSIDE
    pacer: PacerSettings | None = None


def is_night(local: dt.datetime) -> bool:
    """A night shift by its local start hour."""
    start, end = NIGHT_HOURS
    return local.hour >= start or local.hour <= end


def new_shift(
    conn: sqlite3.Connection,
    plan: SessionPlan,
    *,
    clock: Callable[[], float],
    started: dt.datetime | None = None,
    learned_before: dict[int, LearnedShift] | None = None,
) -> LiveShift:
    """A live shift recording into ``conn``, starting from what the store knows of the person
    (``learned_before``: what past sessions taught, kept between calls; see :func:`profile_from_store`)."""
    check_context(plan.context)
    warm_up_analysis()
    local = (started or dt.datetime.now().astimezone()).astimezone()
    offset = local.utcoffset()
    origin = clock()
    # a live session is a shift: the person is at work, awake whatever the clock says (the clock's night is
    # for recordings that are not shifts); heart rate still finds a nap
    profile = dataclasses.replace(
        baseline(conn, local.timestamp(), learned_before), start_s=origin, night=is_night(local)
    )
    rate = resonance_rate(conn) or DEFAULT_RATE_PER_MIN
    pacer = plan.pacer or PacerSettings(rate_per_min=rate)
    recorder = SessionRecorder(
        conn,
        SessionStart(
            started_utc=local.timestamp(),
            source=plan.source,
            context=plan.context,
            tz_offset_s=int(offset.total_seconds()) if offset is not None else 0,
            strap_address=plan.strap_address,
            strap_name=plan.strap_name,
        ),
        origin_s=origin,
        clock=time.monotonic,  # commits follow real time, whatever the session clock's speed
    )
    pipeline = ShiftPipeline(profile=profile, learner=learner_from_store(conn, plan.seed), place=plan.place)
    return LiveShift(pipeline, recorder, origin_s=origin, pacer=pacer)


def warm_up_analysis() -> None:
    """Import what a practice's analysis needs now: the first import of scipy's spline and spectral code
    takes about 0.5 s, which would otherwise stall the loop (and the strap's data) mid-session."""
    import scipy.interpolate
    import scipy.signal  # noqa: F401


Screen = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
#: Signals that end a live session as q does (summary, everything saved or put in the recovery file):
#: Ctrl-C, `kill`, and the terminal closing.  A second Ctrl-C interrupts at once.
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def stop_on_signals(stop: asyncio.Event) -> None:
    """Make the stop signals set ``stop`` on the running loop (where the platform allows)."""
    loop = asyncio.get_running_loop()
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is None:
            continue

        def on_signal(number: int = number) -> None:
            stop.set()
            if number == signal.SIGINT:  # the next Ctrl-C is a hard interrupt
                loop.remove_signal_handler(number)

        try:
            loop.add_signal_handler(number, on_signal)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows: q still stops
            return


async def run_session(
    shift: LiveShift,
    supervisor: StrapSupervisor,
    screen: Screen,
    *,
    clock: Callable[[], float],
    also: list[Awaitable[None]] | None = None,
) -> LiveSummary:
    """Run until ``screen`` returns (the person pressed q, or a script ended) or the supervisor stops with
    an error (raised after the session is closed, with everything recorded kept)."""
    stop = asyncio.Event()
    stop_on_signals(stop)
    recorder = shift.recorder
    link = asyncio.create_task(supervisor.run(), name="strap")
    view = asyncio.create_task(screen(stop), name="screen")
    helpers = [asyncio.ensure_future(job) for job in also or []]
    if recorder is not None:
        recorder.start_background()  # the database's locks and the disk never hold up the loop
        helpers.append(asyncio.create_task(recorder.flush_periodically(), name="flush"))
    error: BaseException | None = None
    try:
        done, _ = await asyncio.wait({link, view}, return_when=asyncio.FIRST_COMPLETED)
        if link in done and link.exception() is not None:
            error = link.exception()
    finally:
        stop.set()
        supervisor.stop()
        await asyncio.wait({link, view}, timeout=10.0)
        for task in (link, view, *helpers):
            if not task.done():
                task.cancel()
        for task in helpers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for name in STOP_SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    asyncio.get_running_loop().remove_signal_handler(number)
        if view.done() and not view.cancelled() and view.exception() is not None:
            error = error or view.exception()
        now = clock()
        summary = shift.finish(now)
        if recorder is not None:
            ended = recorder.start.started_utc + (now - shift.origin_s)
            summary.saved = await asyncio.to_thread(recorder.close, ended_utc=ended)
    if error is not None:
        raise error
    return summary
