"""End to end without a radio: bleak's real front end -> our backend -> bumble's virtual link -> the
emulated strap.  Real captured payloads arrive byte-exact; strap disconnects, link loss, silence and a strap
that stops advertising are each followed by an automatic reconnect and re-subscribe."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from restbeat.devices import ble
from restbeat.devices.ble import (
    BadPacket,
    BatteryLevel,
    LinkEvent,
    LinkState,
    StateChanged,
    StrapDetails,
    StrapSupervisor,
    SupervisorConfig,
)
from restbeat.devices.emulator import EmulatedStrap
from restbeat.devices.timeline import RRPacket
from restbeat.devices.virtual_link import VirtualRadio, virtual_bleak_kwargs
from tests.support.shared_data import bundled

FAST = SupervisorConfig(scan_timeout_s=1.0, connect_timeout_s=2.0, watchdog_s=0.5, poll_s=0.01)


async def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> float:
    """Poll ``condition`` on the event loop; returns the seconds it took, fails the test on timeout."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout_s:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.005)
    return time.perf_counter() - start


class Collector:
    """A supervisor on the virtual link, recording packets and events."""

    def __init__(self, radio: VirtualRadio, strap: EmulatedStrap, config: SupervisorConfig = FAST) -> None:
        scanner_kwargs, client_kwargs = virtual_bleak_kwargs(radio)
        self.packets: list[RRPacket] = []
        self.events: list[LinkEvent] = []
        self.supervisor = StrapSupervisor(
            strap.identity.address,
            self.packets.append,
            self.events.append,
            config=config,
            scanner_kwargs=scanner_kwargs,
            client_kwargs=client_kwargs,
        )
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.supervisor.run())

    async def stop(self) -> None:
        self.supervisor.stop()
        if self.task is not None:
            await asyncio.wait_for(self.task, 5.0)

    def streaming(self, connection: int) -> Callable[[], bool]:
        return lambda: (
            self.supervisor.state is LinkState.STREAMING and self.supervisor.connection == connection
        )

    def reasons(self, state: LinkState) -> list[str]:
        return [e.reason for e in self.events if isinstance(e, StateChanged) and e.state is state]


@pytest_asyncio.fixture
async def strap() -> AsyncIterator[EmulatedStrap]:
    radio = VirtualRadio()  # a fresh link per test
    emulated = EmulatedStrap(radio)
    await emulated.start()
    yield emulated
    await emulated.stop()


@pytest.mark.asyncio
async def test_scan_through_bleak_finds_the_emulated_strap(strap: EmulatedStrap) -> None:
    scanner_kwargs, _ = virtual_bleak_kwargs(strap.radio)
    found = await ble.scan(1.0, **scanner_kwargs)
    assert [(s.address, s.name) for s in found] == [("F1:23:45:67:89:AB", "Polar H10 E0000001")]


@pytest.mark.asyncio
async def test_real_captures_arrive_byte_exact_and_every_drop_is_survived(strap: EmulatedStrap) -> None:
    vectors = json.loads(bundled("hrm_captures", "captures.json").read_text())["vectors"]
    payloads = [bytes.fromhex(v["hex"].replace(" ", "")) for v in vectors]
    collector = Collector(strap.radio, strap)
    collector.start()
    await wait_until(collector.streaming(1))
    details = next(e for e in collector.events if isinstance(e, StrapDetails))
    assert (details.manufacturer, details.model, details.firmware, details.body_location) == (
        "restbeat emulator",
        "H10",
        "5.0.0",
        "chest",
    )
    assert [e.percent for e in collector.events if isinstance(e, BatteryLevel)] == [87]

    for payload in payloads:
        assert await strap.notify(payload)
    await wait_until(lambda: len(collector.packets) + _bad(collector) == len(payloads))
    received = [p.raw for p in collector.packets]
    assert received == [p for p in payloads if p not in (b"", b"\x11")]  # byte-exact, in order
    assert sorted(b.raw for b in collector.events if isinstance(b, BadPacket)) == [b"", b"\x11"]

    # 1. the strap ends the connection; 2. the link is lost; 3. the strap goes silent (watchdog)
    await strap.disconnect()
    await wait_until(collector.streaming(2))
    assert await strap.notify(payloads[0])
    strap.lose_link()
    await wait_until(collector.streaming(3))
    assert await strap.notify(payloads[1])
    strap.silent = True
    await wait_until(lambda: collector.supervisor.connection == 4, timeout_s=5.0)
    strap.silent = False
    await wait_until(collector.streaming(4))
    assert await strap.notify(payloads[2])
    await wait_until(lambda: collector.packets[-1].connection == 4)
    assert [p.raw for p in collector.packets[-3:]] == payloads[:3]
    assert [p.connection for p in collector.packets[-3:]] == [2, 3, 4]  # re-subscribed every time
    reasons = collector.reasons(LinkState.RECONNECTING)
    assert reasons[:2] == ["link lost", "link lost"] and reasons[2].endswith("(watchdog)")
    await collector.stop()
    assert collector.reasons(LinkState.STOPPED) == ["stopped by the user"]
    await wait_until(lambda: not strap.connected)


@pytest.mark.asyncio
async def test_a_strap_that_comes_back_is_reconnected_within_two_seconds(strap: EmulatedStrap) -> None:
    collector = Collector(strap.radio, strap)
    collector.start()
    await wait_until(collector.streaming(1))
    await strap.stop_advertising()
    await strap.disconnect()
    await wait_until(lambda: collector.supervisor.state is LinkState.RECONNECTING)
    await asyncio.sleep(1.5)  # away for longer than a scan
    assert collector.supervisor.connection == 1
    await strap.start_advertising()
    took = await wait_until(collector.streaming(2), timeout_s=5.0)
    assert took < 2.0
    await collector.stop()


@pytest.mark.asyncio
async def test_playing_a_recording_with_lost_contact(strap: EmulatedStrap) -> None:
    """The strap plays 60 s of a real RR series (nsr2db nsr001) once a second of an accelerated clock; contact
    is lost for a while (HR 0, no RR, contact flag clear): every beat arrives, contact changes are events."""
    from restbeat.devices import hrs
    from restbeat.devices.ble import ContactChanged
    from restbeat.devices.files import read_wfdb_annotations

    rr = read_wfdb_annotations(bundled("physionet_nsr2db", "nsr001.ecg")).rr_ms[:80].tolist()
    collector = Collector(
        strap.radio, strap, SupervisorConfig(scan_timeout_s=1.0, watchdog_s=5.0, poll_s=0.01)
    )
    collector.start()
    await wait_until(collector.streaming(1))
    await asyncio.sleep(0.1)  # subscribed
    virtual = [0.0]

    async def fast_sleep(seconds: float) -> None:
        virtual[0] += seconds
        await asyncio.sleep(0.002)
        strap.contact = not 20.0 <= virtual[0] < 25.0

    sent: list[list[int]] = []
    await strap.play(
        rr, clock=lambda: virtual[0], sleep=fast_sleep, on_sent=lambda t, ticks, ok: sent.append(ticks)
    )
    await wait_until(lambda: len(collector.packets) == len(sent))
    received = [list(p.measurement.rr_ticks) for p in collector.packets]
    assert received == sent
    played = [t for ticks in sent for t in ticks]
    assert len(played) < len(rr)  # what the strap measured without contact is not sent as beats
    no_contact = [p for p in collector.packets if p.measurement.contact is False]
    assert no_contact and all(p.measurement.heart_rate == 0 for p in no_contact)
    assert [e.contact for e in collector.events if isinstance(e, ContactChanged)] == [False, True]
    everything = [hrs.ms_to_ticks(v) for v in rr]
    head = next(i for i, (a, b) in enumerate(zip(played, everything, strict=False)) if a != b)
    lost = len(everything) - len(played)
    assert played == everything[:head] + everything[head + lost :]  # one block lost, the rest exact
    await collector.stop()


def _bad(collector: Collector) -> int:
    return sum(isinstance(e, BadPacket) for e in collector.events)
