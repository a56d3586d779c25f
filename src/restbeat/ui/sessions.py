"""The live commands put together: `restbeat monitor`, `breathe` and `resonance` (a real strap, or the
emulated one with ``--emulated``) and `restbeat demo`."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.text import Text

from restbeat.app.breathe import BreatheScript, ResonanceScript
from restbeat.app.clock import ScaledClock
from restbeat.app.demo import (
    DemoPerson,
    DemoScript,
    demo_supervisor,
    demo_timeline,
    follow_practice,
    write_check_in,
)
from restbeat.app.live import LiveShift, LiveSummary, PacerSettings
from restbeat.app.monitor import SessionPlan, new_shift, run_session
from restbeat.devices.ble import StrapSupervisor
from restbeat.devices.emulator import EmulatedStrap, StrapIdentity
from restbeat.devices.virtual_link import VirtualRadio
from restbeat.ui.keys import KeyReader
from restbeat.ui.live_screen import REFRESH_S, LiveScreen
from restbeat.ui.pacer import pacer_frame, render_pacer

#: What a command does on the live screen: given the shift (and, emulated, the wearer, strap and clock),
#: a per-frame script (True ends the session) and an optional headline.
Script = Callable[[float], bool]
Headline = Callable[[float], str] | None
ScriptFactory = Callable[
    [LiveShift, DemoPerson | None, EmulatedStrap | None, ScaledClock | None], tuple[Script | None, Headline]
]


def monitor_script(
    shift: LiveShift, person: DemoPerson | None, strap: EmulatedStrap | None, clock: ScaledClock | None
) -> tuple[Script | None, Headline]:
    """`restbeat monitor`: runs until q; an emulated wearer stays calm and follows any pacer."""
    if person is None:
        return None, None
    wearer = person
    return (lambda _now: follow_practice(shift, wearer) and False), None


def demo_script(speed: float) -> ScriptFactory:
    """`restbeat demo`: the scripted shift of :mod:`restbeat.app.demo`."""

    def make(
        shift: LiveShift, person: DemoPerson | None, strap: EmulatedStrap | None, clock: ScaledClock | None
    ) -> tuple[Script | None, Headline]:
        assert person is not None and strap is not None and clock is not None
        return DemoScript(shift, person, strap, clock, speed=speed), None

    return make


def _worn(shift: LiveShift, person: DemoPerson | None, script: Script) -> Script:
    """``script``, with an emulated wearer (if any) following the practice on screen."""

    def step(now: float) -> bool:
        if person is not None:
            follow_practice(shift, person)
        return script(now)

    return step


def breathe_script(duration_s: float) -> ScriptFactory:
    """`restbeat breathe` with a strap: quiet, the pacer, quiet; measured."""

    def make(
        shift: LiveShift, person: DemoPerson | None, strap: EmulatedStrap | None, clock: ScaledClock | None
    ) -> tuple[Script | None, Headline]:
        script = BreatheScript(shift, duration_s)
        return _worn(shift, person, script), script.headline

    return make


def resonance_script(holder: list[ResonanceScript]) -> ScriptFactory:
    """`restbeat resonance`: the stepped protocol; the script is kept in ``holder`` for its result."""

    def make(
        shift: LiveShift, person: DemoPerson | None, strap: EmulatedStrap | None, clock: ScaledClock | None
    ) -> tuple[Script | None, Headline]:
        script = ResonanceScript(shift)
        holder.append(script)
        return _worn(shift, person, script), script.headline

    return make


async def with_strap(
    conn: sqlite3.Connection, plan: SessionPlan, console: Console, make: ScriptFactory, title: str
) -> LiveSummary:
    """A session with a real strap until the script ends it or the person presses q."""
    assert plan.strap_address is not None
    shift = new_shift(conn, plan, clock=time.monotonic)
    supervisor = StrapSupervisor(plan.strap_address, shift.on_packet, shift.on_event)
    script, headline = make(shift, None, None, None)
    screen = LiveScreen(shift, console, time.monotonic, title=title, script=script, headline=headline)
    return await run_session(shift, supervisor, screen.run, clock=time.monotonic)


async def emulated(
    conn: sqlite3.Connection,
    plan: SessionPlan,
    console: Console,
    make: ScriptFactory,
    *,
    title: str,
    speed: float = 1.0,
    notifications: bool = True,
) -> LiveSummary:
    """A session against the emulated strap on the virtual link, its wearer driven by the script."""
    logging.getLogger("bumble").setLevel(logging.ERROR)  # its teardown warnings are not the user's concern
    clock = ScaledClock(speed)
    radio = VirtualRadio()
    strap = EmulatedStrap(radio)
    person = DemoPerson()
    shift = new_shift(conn, plan, clock=clock.now)
    shift.timeline = demo_timeline(speed)
    script, headline = make(shift, person, strap, clock)
    await strap.start()
    supervisor = demo_supervisor(radio, strap, shift, clock)
    play = strap.play(person.intervals(), clock=clock.now, sleep=clock.sleep)
    screen = LiveScreen(
        shift, console, clock.now, title=title, script=script, headline=headline, notifications=notifications
    )
    try:
        return await run_session(shift, supervisor, screen.run, clock=clock.now, also=[play])
    finally:
        await strap.stop()


def emulated_plan(plan: SessionPlan) -> SessionPlan:
    """The plan with the emulated strap's identity."""
    from dataclasses import replace

    identity = StrapIdentity()
    source = "emulated" if plan.source == "strap" else plan.source
    return replace(plan, source=source, strap_address=identity.address, strap_name=identity.name)


async def pacer_only(console: Console, settings: PacerSettings, duration_s: float) -> float:
    """The pacer with no strap (nothing measured): until its end or q; returns the seconds breathed."""
    start = time.monotonic()
    with KeyReader() as keys, Live(console=console, auto_refresh=False) as live:
        while (elapsed := time.monotonic() - start) < duration_s:
            if "q" in keys.drain():
                break
            frame = pacer_frame(elapsed, settings, duration_s)
            live.update(Text.assemble(render_pacer(frame, settings), ("\nq stops", "dim")), refresh=True)
            await asyncio.sleep(REFRESH_S / 2)
    return min(time.monotonic() - start, duration_s)


def demo_database(given: str | None) -> Path:
    """The demo's database: ``--db`` if given, else a new throwaway one in a temporary folder (kept, so the
    review can read it afterwards)."""
    if given:
        return Path(given)
    import tempfile

    return Path(tempfile.mkdtemp(prefix="restbeat-demo-")) / "demo.sqlite3"


def prepare_demo(conn: sqlite3.Connection) -> None:
    """A pre-shift check-in ten minutes before the demo shift, so the shift is compared with the person
    rather than with published norms."""
    started = dt.datetime.now().astimezone() - dt.timedelta(minutes=10)
    write_check_in(conn, started)


def run_demo(conn: sqlite3.Connection, console: Console, *, speed: float, seed: int) -> LiveSummary:
    """The scripted demo shift, start to end."""
    plan = emulated_plan(SessionPlan(source="demo", seed=seed))
    return asyncio.run(emulated(conn, plan, console, demo_script(speed), title="restbeat demo", speed=speed))
