"""The connection supervisor against a plain fake of bleak, on a fake clock: no radio, no real sleeping."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from restbeat.devices import ble, hrs
from restbeat.devices.ble import (
    BadPacket,
    BatteryLevel,
    BluetoothUnavailableError,
    ContactChanged,
    LinkEvent,
    LinkState,
    StateChanged,
    StrapDetails,
    StrapSupervisor,
    SupervisorConfig,
)
from restbeat.devices.timeline import RRPacket
from tests.support.fake_ble import FakeClock, FakeStrap, make_fakes


class Run:
    """A supervisor wired to a fake strap, recording every packet and event."""

    def __init__(self, strap: FakeStrap, config: SupervisorConfig | None = None, seed: int = 1) -> None:
        self.strap = strap
        self.clock = FakeClock(strap)
        scanner, client = make_fakes(strap, self.clock)
        self.packets: list[RRPacket] = []
        self.events: list[LinkEvent] = []
        self.supervisor = StrapSupervisor(
            strap.address,
            self.packets.append,
            self.events.append,
            config=config,
            client_cls=client,
            scanner_cls=scanner,
            clock=self.clock,
            sleep=self.clock.sleep,
            rng=random.Random(seed),
        )

    async def until(self, stop_at_s: float) -> None:
        async def stopper() -> None:
            while self.clock.now < stop_at_s:
                await asyncio.sleep(0)
            self.supervisor.stop()

        await asyncio.gather(self.supervisor.run(), stopper())

    def states(self) -> list[tuple[LinkState, str]]:
        return [(e.state, e.reason) for e in self.events if isinstance(e, StateChanged)]


def test_connect_read_subscribe_stream_and_stop() -> None:
    run = Run(FakeStrap())
    asyncio.run(run.until(60.0))
    states = [state for state, _ in run.states()]
    assert states == [
        LinkState.SCANNING,
        LinkState.CONNECTING,
        LinkState.STREAMING,
        LinkState.STOPPED,
    ]
    details = next(e for e in run.events if isinstance(e, StrapDetails))
    assert (details.manufacturer, details.model, details.firmware, details.body_location) == (
        "Polar Electro Oy",
        "H10",
        "5.0.0",
        "chest",
    )
    assert [e.percent for e in run.events if isinstance(e, BatteryLevel)] == [87]
    assert 55 <= len(run.packets) <= 60
    assert all(p.connection == 1 and p.measurement.rr_ticks == (1024,) for p in run.packets)
    arrivals = [p.arrival_s for p in run.packets]
    assert arrivals == sorted(arrivals)
    assert run.strap.connected is None  # disconnected on stop
    assert "link lost" not in " ".join(reason for _, reason in run.states())  # our own disconnect is not one


def test_strap_without_optional_characteristics() -> None:
    strap = FakeStrap(characteristics={}, battery=None)
    run = Run(strap)
    asyncio.run(run.until(10.0))
    details = next(e for e in run.events if isinstance(e, StrapDetails))
    assert details == StrapDetails(details.t_s, None, None, None, None)
    assert not [e for e in run.events if isinstance(e, BatteryLevel)]
    assert run.packets


def test_connect_failures_back_off_exponentially_up_to_the_cap() -> None:
    config = SupervisorConfig(jitter=0.0, backoff_initial_s=1.0, backoff_factor=2.0, backoff_max_s=8.0)
    strap = FakeStrap(connect_failures=6)
    run = Run(strap, config)
    asyncio.run(run.until(80.0))
    waits = [reason for state, reason in run.states() if "retrying in" in reason]
    assert [w.rsplit("retrying in ", 1)[1] for w in waits] == [
        "1.0 s",
        "2.0 s",
        "4.0 s",
        "8.0 s",
        "8.0 s",
        "8.0 s",
    ]
    assert all("connect failed (BleakError: failed to connect (simulated))" in w for w in waits)
    assert len(strap.connect_times) == 1 and run.packets


def test_backoff_jitter_stays_within_its_share() -> None:
    supervisor = Run(FakeStrap(), SupervisorConfig(jitter=0.2)).supervisor
    for failures, base in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0), (20, 30.0)]:
        delays = [supervisor.backoff_s(failures) for _ in range(200)]
        assert min(delays) >= 0.8 * base and max(delays) <= 1.2 * base
        assert max(delays) - min(delays) > 0.2 * base  # it really is jittered


def test_link_loss_reconnects_and_resubscribes() -> None:
    strap = FakeStrap(drops_at=[30.0, 90.0])
    run = Run(strap)
    asyncio.run(run.until(150.0))
    reasons = [reason for state, reason in run.states() if state is LinkState.RECONNECTING]
    assert reasons == ["link lost", "link lost"]
    assert strap.subscriptions == 3
    assert {p.connection for p in run.packets} == {1, 2, 3}
    assert run.strap.connected is None


def test_silent_strap_is_dropped_by_the_watchdog_and_reconnected() -> None:
    strap = FakeStrap(silent=[(40.0, 200.0)])
    run = Run(strap, SupervisorConfig(watchdog_s=5.0))
    asyncio.run(run.until(50.0))
    reasons = [reason for state, reason in run.states() if state is LinkState.RECONNECTING]
    assert reasons and reasons[0].startswith("no data for 5.") and reasons[0].endswith("(watchdog)")
    watchdog_at = next(e.t_s for e in run.events if isinstance(e, StateChanged) and "watchdog" in e.reason)
    assert 44.0 < watchdog_at < 46.5  # last notification at 39 s, silent 5 s
    assert len(strap.connect_times) >= 2


def test_strap_away_is_reconnected_within_two_seconds_of_advertising_again() -> None:
    strap = FakeStrap(drops_at=[20.0], absent=[(20.0, 75.0)])
    run = Run(strap, SupervisorConfig(scan_timeout_s=10.0))
    asyncio.run(run.until(100.0))
    assert len(strap.connect_times) == 2
    assert 75.0 <= strap.connect_times[1] <= 77.0


def test_user_stop_while_reconnecting_ends_cleanly() -> None:
    strap = FakeStrap(drops_at=[10.0], absent=[(10.0, 1000.0)])
    run = Run(strap)
    asyncio.run(run.until(40.0))
    assert run.states()[-1] == (LinkState.STOPPED, "stopped by the user")


def test_no_bluetooth_is_one_clear_line() -> None:
    class NoStack:
        @staticmethod
        async def find_device_by_address(*_: Any, **__: Any) -> Any:
            raise FileNotFoundError(2, "No such file or directory")

    events: list[LinkEvent] = []
    supervisor = StrapSupervisor("C0:11:22:33:44:55", lambda p: None, events.append, scanner_cls=NoStack)
    with pytest.raises(BluetoothUnavailableError, match=r"^no Bluetooth adapter found; try `restbeat demo`$"):
        asyncio.run(supervisor.run())
    assert isinstance(events[-1], StateChanged) and events[-1].state is LinkState.STOPPED


def test_malformed_notifications_are_reported_and_streaming_goes_on() -> None:
    def payloads(k: int) -> bytes:
        return b"\x11" if k == 3 else hrs.encode_measurement(hrs.measurement(60, [1024]))

    run = Run(FakeStrap(payloads=payloads))
    asyncio.run(run.until(20.0))
    bad = [e for e in run.events if isinstance(e, BadPacket)]
    assert len(bad) == 1 and bad[0].raw == b"\x11" and "too short" in bad[0].error
    assert len(run.packets) >= 15


def test_contact_lost_and_regained_events() -> None:
    def payloads(k: int) -> bytes:
        contact = not 10 <= k < 15
        return hrs.encode_measurement(
            hrs.measurement(0 if not contact else 60, [1024] if contact else [], contact=contact)
        )

    run = Run(FakeStrap(payloads=payloads))
    asyncio.run(run.until(30.0))
    changes = [e.contact for e in run.events if isinstance(e, ContactChanged)]
    assert changes == [False, True]
    assert [p.measurement.contact for p in run.packets].count(False) == 5


def test_giving_up_after_max_failures() -> None:
    run = Run(FakeStrap(connect_failures=100), SupervisorConfig(max_failures=3, jitter=0.0))
    asyncio.run(run.supervisor.run())
    assert "giving up after 3 failures" in run.states()[-2][1]
    assert run.states()[-1][0] is LinkState.STOPPED


def test_scan_lists_heart_rate_straps_strongest_first() -> None:
    from types import SimpleNamespace

    def seen(address: str, name: str | None, rssi: int, uuids: list[str]) -> tuple[Any, Any]:
        return SimpleNamespace(address=address, name=name), SimpleNamespace(
            local_name=None, rssi=rssi, service_uuids=uuids
        )

    class Scanner:
        @staticmethod
        async def discover(**kwargs: Any) -> dict[str, tuple[Any, Any]]:
            assert kwargs["service_uuids"] == [ble.HEART_RATE_SERVICE] and kwargs["return_adv"]
            return {
                "a": seen("AA", "Polar H10 1", -70, [ble.HEART_RATE_SERVICE]),
                "b": seen("BB", "TICKR", -50, [ble.HEART_RATE_SERVICE.upper()]),
                "c": seen("CC", "a lamp", -40, ["0000fe0f-0000-1000-8000-00805f9b34fb"]),
            }

    straps = asyncio.run(ble.scan(scanner_cls=Scanner))
    assert [(s.address, s.name, s.rssi) for s in straps] == [("BB", "TICKR", -50), ("AA", "Polar H10 1", -70)]


def test_details_and_odd_bytes_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    def payloads(k: int) -> bytes:
        return bytes.fromhex("103eb103de") if k == 2 else hrs.encode_measurement(hrs.measurement(60, [1024]))

    with caplog.at_level("INFO", logger="restbeat.devices.ble"):
        run = Run(FakeStrap(payloads=payloads))
        asyncio.run(run.until(10.0))
    text = caplog.text
    assert "Polar Electro Oy H10, firmware 5.0.0, worn on the chest" in text
    assert "notification 103eb103de ends with 1 byte(s) that are not a whole RR value" in text
    assert any(p.raw == bytes.fromhex("103eb103de") for p in run.packets)  # the whole RR is still used
