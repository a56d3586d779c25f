"""The live commands put together: `restbeat monitor` (a strap, real or emulated) and `restbeat demo`."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from pathlib import Path

from rich.console import Console

from restbeat.app.clock import ScaledClock
from restbeat.app.demo import DemoPerson, DemoScript, demo_supervisor, demo_timeline, write_check_in
from restbeat.app.live import LiveSummary
from restbeat.app.monitor import SessionPlan, new_shift, run_session
from restbeat.devices.ble import StrapSupervisor
from restbeat.devices.emulator import EmulatedStrap, StrapIdentity
from restbeat.devices.virtual_link import VirtualRadio
from restbeat.ui.live_screen import LiveScreen


async def monitor(conn: sqlite3.Connection, plan: SessionPlan, console: Console) -> LiveSummary:
    """`restbeat monitor` with a real strap: until the person presses q."""
    assert plan.strap_address is not None
    shift = new_shift(conn, plan, clock=time.monotonic)
    supervisor = StrapSupervisor(plan.strap_address, shift.on_packet, shift.on_event)
    screen = LiveScreen(shift, console, time.monotonic)
    return await run_session(shift, supervisor, screen.run, clock=time.monotonic)


async def emulated(
    conn: sqlite3.Connection,
    plan: SessionPlan,
    console: Console,
    *,
    speed: float = 120.0,
    scripted: bool = True,
    title: str = "restbeat demo",
    notifications: bool = True,
) -> LiveSummary:
    """A session against the emulated strap on the virtual link.  ``scripted``: the demo's shift plays out
    and ends by itself (see :mod:`restbeat.app.demo`); otherwise the wearer stays calm, follows any pacer,
    and the person stops with q (`restbeat monitor --emulated`)."""
    clock = ScaledClock(speed)
    radio = VirtualRadio()
    strap = EmulatedStrap(radio)
    person = DemoPerson()
    shift = new_shift(conn, plan, clock=clock.now)
    shift.timeline = demo_timeline(speed)
    script = DemoScript(shift, person, strap, clock, speed=speed)
    if not scripted:
        script.stress_at_s = script.drop_at_s = script.end_s = float("inf")
    await strap.start()
    supervisor = demo_supervisor(radio, strap, shift, clock)
    play = strap.play(person.intervals(), clock=clock.now, sleep=clock.sleep)
    screen = LiveScreen(shift, console, clock.now, title=title, script=script, notifications=notifications)
    try:
        return await run_session(shift, supervisor, screen.run, clock=clock.now, also=[play])
    finally:
        await strap.stop()


def demo_database(given: str | None) -> Path:
    """The demo's database: ``--db`` if given, else a new throwaway one in a temporary folder (kept, so the
    review can read it afterwards)."""
    if given:
        return Path(given)
    import tempfile

    return Path(tempfile.mkdtemp(prefix="restbeat-demo-")) / "demo.sqlite3"


def prepare_demo(conn: sqlite3.Connection) -> None:
    """A pre-shift check-in a few minutes before the demo shift starts (only when the database has none
    today), so the shift is compared with the person rather than with published norms."""
    started = dt.datetime.now().astimezone() - dt.timedelta(minutes=10)
    write_check_in(conn, started)


def run_demo(conn: sqlite3.Connection, console: Console, *, speed: float, seed: int) -> LiveSummary:
    """The scripted demo shift, start to end."""
    plan = SessionPlan(
        source="demo", strap_address=StrapIdentity().address, strap_name=StrapIdentity().name, seed=seed
    )
    return asyncio.run(emulated(conn, plan, console, speed=speed))
