"""An emulated heart-rate strap: a GATT Heart Rate peripheral on bumble's virtual link, with fault injection.

It advertises the Heart Rate Service (0x180D) with its name, serves a raw Heart Rate Measurement
characteristic (0x2A37, notify: any payload, real captures and malformed ones included), Body Sensor Location
(0x2A38), Battery (0x180F/0x2A19, read and notify) and Device Information (manufacturer, model, firmware).
Faults a real strap shows: the strap ends the connection (reason 0x13), the link is lost (0x08, injected on
both controllers: the virtual link has no radio model), the strap stays connected but goes silent, contact is
lost, and advertising stops for a while.  Like a real strap it advertises again after a disconnect, keeps no
backlog, and forgets subscriptions with the connection.

:meth:`EmulatedStrap.play` turns RR intervals into notifications about once a second (of the injected clock),
the way straps do; or call :meth:`EmulatedStrap.notify` with any payload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from restbeat.devices import hrs
from restbeat.devices.virtual_link import VirtualRadio

if TYPE_CHECKING:
    from bumble.controller import Controller
    from bumble.device import Device
    from bumble.gatt import Characteristic

REMOTE_USER_TERMINATED = 0x13
CONNECTION_TIMEOUT = 0x08
ADVERTISING_INTERVAL_MS = 100.0  # real straps advertise every 100-1000 ms; short keeps the tests quick


@dataclass(frozen=True, slots=True)
class StrapIdentity:
    """What the emulated strap says about itself."""

    name: str = "Polar H10 E0000001"
    address: str = "F1:23:45:67:89:AB"  # static random: top two bits set
    manufacturer: str = "restbeat emulator"
    model: str = "H10"
    firmware: str = "5.0.0"
    body_location: int = 1  # chest


class EmulatedStrap:
    """The peripheral; see the module docstring."""

    def __init__(self, radio: VirtualRadio, identity: StrapIdentity | None = None, battery: int = 87) -> None:
        self.radio = radio
        self.identity = identity or StrapIdentity()
        self.battery = battery
        self.silent = False  # connected but not notifying
        self.contact: bool | None = True
        self.sent = 0  # notifications delivered to a subscriber
        self._device: Device | None = None
        self._controller: Controller | None = None
        self._hrm: Characteristic[bytes] | None = None
        self._battery_characteristic: Characteristic[bytes] | None = None

    # --- life cycle --------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Power on, serve the GATT database and advertise."""
        from bumble import gatt

        identity = self.identity
        device, controller = self.radio.attach(identity.name, identity.address)
        self._device, self._controller = device, controller
        notify = gatt.Characteristic.Properties.NOTIFY
        read = gatt.Characteristic.Properties.READ
        readable = gatt.Characteristic.READABLE
        no_access = gatt.Characteristic.Permissions(0)  # notify only: no read, no write
        self._hrm = gatt.Characteristic(
            gatt.GATT_HEART_RATE_MEASUREMENT_CHARACTERISTIC, notify, no_access, b""
        )
        self._battery_characteristic = gatt.Characteristic(
            gatt.GATT_BATTERY_LEVEL_CHARACTERISTIC,
            read | notify,
            readable,
            gatt.CharacteristicValue(read=lambda _connection: bytes([self.battery])),
        )
        device.add_services(
            [
                gatt.Service(
                    gatt.GATT_HEART_RATE_SERVICE,
                    [
                        self._hrm,
                        gatt.Characteristic(
                            gatt.GATT_BODY_SENSOR_LOCATION_CHARACTERISTIC,
                            read,
                            readable,
                            bytes([identity.body_location]),
                        ),
                    ],
                ),
                gatt.Service(gatt.GATT_BATTERY_SERVICE, [self._battery_characteristic]),
                gatt.Service(
                    gatt.GATT_DEVICE_INFORMATION_SERVICE,
                    [
                        gatt.Characteristic(uuid, read, readable, text.encode())
                        for uuid, text in (
                            (gatt.GATT_MANUFACTURER_NAME_STRING_CHARACTERISTIC, identity.manufacturer),
                            (gatt.GATT_MODEL_NUMBER_STRING_CHARACTERISTIC, identity.model),
                            (gatt.GATT_FIRMWARE_REVISION_STRING_CHARACTERISTIC, identity.firmware),
                        )
                    ],
                ),
            ]
        )
        await device.power_on()
        await self.start_advertising()

    async def stop(self) -> None:
        """Disconnect, stop advertising and leave the link."""
        await self.stop_advertising()
        if self.connected:
            await self.disconnect()
        if self._device is not None:
            await self._device.power_off()
        if self._controller is not None:
            self.radio.detach(self._controller)
        self._device = self._controller = None

    def _advertising_data(self) -> bytes:
        from bumble.core import UUID, AdvertisingData

        return bytes(
            AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.identity.name.encode()),
                    (
                        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        bytes(UUID.from_16_bits(0x180D)),
                    ),
                ]
            )
        )

    async def start_advertising(self) -> None:
        """Advertise (again); a strap advertises again by itself after every disconnect."""
        device = self._require_device()
        await device.start_advertising(
            advertising_data=self._advertising_data(),
            auto_restart=True,
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )

    async def stop_advertising(self) -> None:
        """Stop advertising (the strap 'is away'), also after the next disconnect."""
        if self._device is not None:
            await self._device.stop_advertising()

    def _require_device(self) -> Device:
        if self._device is None:
            raise RuntimeError("the emulated strap is not started")
        return self._device

    # --- state -------------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a central is connected."""
        return bool(self._device is not None and self._device.connections)

    # --- data --------------------------------------------------------------------------------------------

    async def notify(self, payload: bytes) -> bool:
        """Notify one raw 0x2A37 payload to the subscribed central; False if nobody got it (no connection,
        not subscribed, or silent: what was measured is then lost, as on a real strap)."""
        device = self._device
        if device is None or self._hrm is None or self.silent or not device.connections:
            return False
        subscribed = any(
            self._hrm.handle in attributes for attributes in device.gatt_server.subscribers.values()
        )
        if not subscribed:
            return False
        await device.notify_subscribers(self._hrm, payload)
        self.sent += 1
        return True

    async def set_battery(self, percent: int) -> None:
        """Change the battery level and notify it."""
        self.battery = percent
        if self._device is not None and self._battery_characteristic is not None and self.connected:
            await self._device.notify_subscribers(self._battery_characteristic, bytes([percent]))

    async def play(
        self,
        rr_ms: Iterable[float],
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        heart_rate: Callable[[list[int]], int] | None = None,
        on_sent: Callable[[float, list[int], bool], None] | None = None,
    ) -> None:
        """Notify RR intervals as a strap does: once a second, each packet with the beats since the last one.

        ``on_sent(t, ticks, delivered)`` is told about every packet (delivered False when nobody received it).
        """
        pending: list[int] = []
        beat_time = clock()
        send_time = beat_time + 1.0
        for value in rr_ms:
            beat_time += value / 1000.0
            while beat_time > send_time:
                await self._send(pending, send_time, clock, sleep, heart_rate, on_sent)
                pending = []
                send_time += 1.0
            pending.append(hrs.ms_to_ticks(value))
        await self._send(pending, send_time, clock, sleep, heart_rate, on_sent)

    async def _send(
        self,
        ticks: list[int],
        at: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        heart_rate: Callable[[list[int]], int] | None,
        on_sent: Callable[[float, list[int], bool], None] | None,
    ) -> None:
        wait = at - clock()
        if wait > 0:
            await sleep(wait)
        if self.contact is False:  # no skin contact: HR 0 ("no valid reading") and no beats
            ticks, bpm = [], 0
        elif heart_rate is not None:
            bpm = heart_rate(ticks)
        else:
            bpm = round(60 * 1024 * len(ticks) / sum(ticks)) if ticks else 0
        payload = hrs.encode_measurement(hrs.measurement(bpm, ticks, contact=self.contact, rr_present=True))
        delivered = await self.notify(payload)
        if on_sent is not None:
            on_sent(at, ticks, delivered)

    # --- faults ------------------------------------------------------------------------------------------

    async def disconnect(self, reason: int = REMOTE_USER_TERMINATED) -> None:
        """The strap ends the connection (as when contact is lost for 20-30 s)."""
        device = self._require_device()
        for connection in list(device.connections.values()):
            await connection.disconnect(reason)

    def lose_link(self) -> None:
        """The radio link is lost (supervision timeout, 0x08): both controllers see it, nothing is sent."""
        controller = self._controller
        if controller is None:
            return
        for peer_address, connection in list(controller.le_connections.items()):
            controller.on_le_disconnected(connection, CONNECTION_TIMEOUT)
            peer = self.radio.link.find_le_controller(peer_address)
            if peer is not None:
                for address, peer_connection in list(peer.le_connections.items()):
                    if address in (controller.random_address, controller.public_address):
                        peer.on_le_disconnected(peer_connection, CONNECTION_TIMEOUT)
