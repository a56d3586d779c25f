"""A plain fake of the slice of bleak the supervisor uses, driven by a fake clock (no radio, no sleeping).

``FakeStrap`` is the scripted peripheral: when it advertises, when connects fail, when it goes silent or drops
the link, and what it notifies (one payload a second of fake time).  ``FakeClock.sleep`` advances time and
lets the strap deliver what became due, so a 12-hour scenario runs in moments.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from restbeat.devices import ble, hrs


def bleak_error(message: str) -> Exception:
    from bleak.exc import BleakError

    return BleakError(message)


@dataclass
class FakeStrap:
    """The scripted strap; times are in fake seconds."""

    address: str = "C0:11:22:33:44:55"
    name: str = "Polar H10 ABCDEF01"
    absent: list[tuple[float, float]] = field(default_factory=list)  # not advertising in [start, end)
    silent: list[tuple[float, float]] = field(default_factory=list)  # connected but not notifying
    drops_at: list[float] = field(default_factory=list)  # the strap ends the link at these times
    connect_failures: int = 0  # the next this many connects fail
    payloads: Callable[[int], bytes] = lambda k: hrs.encode_measurement(hrs.measurement(60, [1024]))
    battery: int | None = 87
    characteristics: dict[str, bytes] = field(
        default_factory=lambda: {
            ble.MANUFACTURER_NAME: b"Polar Electro Oy",
            ble.MODEL_NUMBER: b"H10",
            ble.FIRMWARE_REVISION: b"5.0.0",
            ble.BODY_SENSOR_LOCATION: bytes([1]),
        }
    )
    connected: FakeClient | None = None
    sent: int = 0
    next_send_s: float = 0.0
    connect_times: list[float] = field(default_factory=list)
    subscriptions: int = 0

    def advertising(self, now: float) -> bool:
        return self.connected is None and not any(a <= now < b for a, b in self.absent)

    def advertising_again_at(self, now: float) -> float:
        """When the strap will next advertise (now if it does)."""
        for a, b in self.absent:
            if a <= now < b:
                return b
        return now

    def tick(self, now: float) -> None:
        """Deliver what became due by ``now``: drops, then one notification a second."""
        client = self.connected
        if client is None:
            return
        for t in list(self.drops_at):
            if t <= now:
                self.drops_at.remove(t)
                client.link_lost()
                return
        while client.notify is not None and self.next_send_s <= now:
            if not any(a <= self.next_send_s < b for a, b in self.silent):
                client.notify(None, bytearray(self.payloads(self.sent)))
                self.sent += 1
            self.next_send_s += 1.0


class FakeClock:
    """Fake monotonic time; ``sleep`` advances it and lets the strap act."""

    def __init__(self, strap: FakeStrap) -> None:
        self.now = 0.0
        self.strap = strap

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        self.strap.tick(self.now)
        await asyncio.sleep(0)


def make_fakes(strap: FakeStrap, clock: FakeClock) -> tuple[type[Any], type[Any]]:
    """Scanner and client classes bound to one strap and one clock."""

    class FakeScanner:
        @staticmethod
        async def find_device_by_address(address: str, timeout: float = 10.0, **_: Any) -> Any:
            assert address == strap.address
            back = strap.advertising_again_at(clock.now)
            if strap.connected is None and back - clock.now <= timeout:
                await clock.sleep(back - clock.now + 0.3)  # seen within a scan interval of advertising
                return FakeDevice(strap.address, strap.name)
            await clock.sleep(timeout)
            return None

    class BoundClient(FakeClient):
        def __init__(self, device: Any, disconnected_callback: Callable[[Any], None], **kwargs: Any) -> None:
            super().__init__(strap, clock, device, disconnected_callback, **kwargs)

    return FakeScanner, BoundClient


@dataclass(frozen=True)
class FakeDevice:
    """Stands for bleak's BLEDevice."""

    address: str
    name: str


class FakeClient:
    """The part of BleakClient the supervisor uses; calls the disconnect callback on any disconnect, as bleak
    does."""

    def __init__(
        self,
        strap: FakeStrap,
        clock: FakeClock,
        device: Any,
        disconnected_callback: Callable[[Any], None],
        **kwargs: Any,
    ) -> None:
        assert isinstance(device, FakeDevice), "connect with the BLEDevice from the scan"
        self.strap = strap
        self.clock = clock
        self.disconnected_callback = disconnected_callback
        self.notify: Callable[[Any, bytearray], None] | None = None
        self.battery_notify: Callable[[Any, bytearray], None] | None = None
        self.is_connected = False

    async def connect(self) -> None:
        await self.clock.sleep(0.5)
        if self.strap.connect_failures > 0:
            self.strap.connect_failures -= 1
            raise bleak_error("failed to connect (simulated)")
        self.is_connected = True
        self.strap.connected = self
        self.strap.connect_times.append(self.clock.now)
        self.strap.next_send_s = self.clock.now + 1.0

    async def disconnect(self) -> None:
        if self.is_connected:
            self._gone()

    def link_lost(self) -> None:
        self._gone()

    def _gone(self) -> None:
        self.is_connected = False
        self.notify = None
        self.strap.connected = None
        self.disconnected_callback(self)

    async def read_gatt_char(self, uuid: str) -> bytearray:
        if uuid == ble.BATTERY_LEVEL and self.strap.battery is not None:
            return bytearray([self.strap.battery])
        if uuid in self.strap.characteristics:
            return bytearray(self.strap.characteristics[uuid])
        raise bleak_error(f"Characteristic {uuid} was not found!")

    async def start_notify(self, uuid: str, callback: Callable[[Any, bytearray], None]) -> None:
        if uuid == ble.HEART_RATE_MEASUREMENT:
            self.notify = callback
            self.strap.subscriptions += 1
        elif uuid == ble.BATTERY_LEVEL:
            self.battery_notify = callback
        else:
            raise bleak_error(f"Characteristic {uuid} was not found!")
