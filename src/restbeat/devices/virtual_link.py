"""A bleak backend over bumble's in-process virtual link: the real ``BleakScanner``/``BleakClient`` front end
drives an emulated strap (:mod:`restbeat.devices.emulator`) through a full Bluetooth host stack, no radio.

Use ``BleakScanner(backend=VirtualScanner, radio=radio)`` and ``BleakClient(device, backend=VirtualClient,
radio=radio)``; :func:`virtual_bleak_kwargs` gives both sets of keyword arguments.  Every scan and every
connection gets a fresh central controller on the link, removed again when it ends (stale controllers would
keep answering).  bumble's ``Device.connect`` can hang when the peer is not advertising, so the connect is
bounded with ``asyncio.wait_for``.  The link has no radio model: link loss is injected by the emulator.

bumble is imported on use, so `restbeat --help` stays fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakCharacteristicNotFoundError, BleakError

if TYPE_CHECKING:
    from bumble.controller import Controller
    from bumble.device import Advertisement, Connection, Device, Peer
    from bumble.link import LocalLink

logger = logging.getLogger(__name__)

_PROPERTY_NAMES = {
    0x01: "broadcast",
    0x02: "read",
    0x04: "write-without-response",
    0x08: "write",
    0x10: "notify",
    0x20: "indicate",
    0x40: "authenticated-signed-writes",
    0x80: "extended-properties",
}


class VirtualRadio:
    """One bumble ``LocalLink`` and the controllers on it; hands out unique static random addresses."""

    def __init__(self) -> None:
        from bumble.link import LocalLink

        self.link: LocalLink = LocalLink()  # type: ignore[no-untyped-call]
        self._numbers = itertools.count(1)

    def new_address(self) -> str:
        """A static random address for a central (top two bits set, as static random addresses need)."""
        number = next(self._numbers)
        return f"C0:00:00:00:{number >> 8 & 0xFF:02X}:{number & 0xFF:02X}"

    def attach(self, name: str, address: str) -> tuple[Device, Controller]:
        """A bumble device with its own controller on the link."""
        from bumble.controller import Controller
        from bumble.device import Device
        from bumble.hci import Address
        from bumble.host import Host
        from bumble.transport.common import AsyncPipeSink

        controller = Controller(name, link=self.link, public_address=address)
        device = Device(name=name, address=Address(address), host=Host(controller, AsyncPipeSink(controller)))
        return device, controller

    def detach(self, controller: Controller) -> None:
        """Take a controller off the link (idempotent)."""
        with contextlib.suppress(KeyError):
            self.link.remove_controller(controller)

    async def release(self, device: Device | None, controller: Controller | None) -> None:
        """Power a device off and take its controller off the link; teardown errors are logged, not raised
        (the device is going away either way)."""
        if device is not None:
            try:
                await device.power_off()
            except Exception as error:
                logger.debug("virtual device %s did not power off cleanly: %r", device.name, error)
        if controller is not None:
            self.detach(controller)


def virtual_bleak_kwargs(radio: VirtualRadio) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keyword arguments for ``BleakScanner`` and ``BleakClient`` to use the virtual link."""
    return {"backend": VirtualScanner, "radio": radio}, {"backend": VirtualClient, "radio": radio}


class VirtualScanner(BaseBleakScanner):
    """Scans the virtual link with a fresh central device."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        radio: VirtualRadio,
        **_: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._radio = radio
        self._device: Device | None = None
        self._controller: Controller | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._device, self._controller = self._radio.attach("scanner", self._radio.new_address())
        await self._device.power_on()
        self._device.on("advertisement", self._on_advertisement)
        await self._device.start_scanning(filter_duplicates=False)

    async def stop(self) -> None:
        device, controller = self._device, self._controller
        self._device = self._controller = None
        if device is not None:
            try:
                await device.stop_scanning()
            except Exception as error:
                logger.debug("virtual scanner did not stop scanning cleanly: %r", error)
        await self._radio.release(device, controller)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        from bumble.core import AdvertisingData

        data = advertisement.data
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)
        uuids: list[str] = []
        for kind in (
            AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        ):
            for value in data.get_all(kind):
                uuids += [str(uuid.to_hex_str("-")).lower() for uuid in value]
        uuids = list(dict.fromkeys(_full_uuid(uuid) for uuid in uuids))  # the scan response repeats them
        if self._service_uuids and not set(self._service_uuids) & set(uuids):
            return
        address = str(advertisement.address).split("/")[0]
        local_name = str(name) if name else None
        adv = AdvertisementData(
            local_name=local_name,
            manufacturer_data={},
            service_data={},
            service_uuids=uuids,
            tx_power=None,
            rssi=advertisement.rssi if advertisement.rssi != advertisement.RSSI_NOT_AVAILABLE else -60,
            platform_data=(advertisement,),
        )
        device = self.create_or_update_device(address, address, local_name, advertisement, adv)
        self.call_detection_callbacks(device, adv)


def _full_uuid(uuid: str) -> str:
    """A 16-bit UUID ('180d' or '0x180D') in its 128-bit form; longer ones unchanged."""
    bare = uuid.lower().removeprefix("0x")
    return f"0000{bare}-0000-1000-8000-00805f9b34fb" if len(bare) == 4 else bare


class VirtualClient(BaseBleakClient):
    """Connects over the virtual link with a fresh central device; maps bumble's GATT client to bleak's."""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None,
        timeout: float,
        radio: VirtualRadio,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._radio = radio
        self._device: Device | None = None
        self._controller: Controller | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._subscriptions: dict[int, Callable[[bytes], None]] = {}
        self._background: set[asyncio.Task[None]] = set()

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    @property
    def mtu_size(self) -> int:
        return 23

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        from bumble.device import Peer

        self._device, self._controller = self._radio.attach("central", self._radio.new_address())
        await self._device.power_on()
        try:
            connection = await asyncio.wait_for(
                self._device.connect(self.address, timeout=None), self._timeout
            )
        except TimeoutError as error:
            await self._release()
            raise TimeoutError(f"no connection to {self.address} within {self._timeout:g} s") from error
        except Exception as error:
            await self._release()
            raise BleakError(f"connection to {self.address} failed: {error}") from error
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)
        self._peer = Peer(connection)
        try:
            self.services = await self._discover(self._peer)
        except Exception as error:
            await self.disconnect()
            raise BleakError(f"service discovery on {self.address} failed: {error}") from error

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for service in await peer.discover_services():
            bleak_service = BleakGATTService(
                service, service.handle, _full_uuid(service.uuid.to_hex_str("-"))
            )
            collection.add_service(bleak_service)
            for characteristic in await service.discover_characteristics():
                properties = [
                    name for bit, name in _PROPERTY_NAMES.items() if characteristic.properties & bit
                ]
                bleak_characteristic = BleakGATTCharacteristic(
                    characteristic,
                    characteristic.handle,
                    _full_uuid(characteristic.uuid.to_hex_str("-")),
                    properties,  # type: ignore[arg-type]
                    lambda: 20,
                    bleak_service,
                )
                collection.add_characteristic(bleak_characteristic)
                for descriptor in await characteristic.discover_descriptors():
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor,
                            descriptor.handle,
                            _full_uuid(descriptor.type.to_hex_str("-")),
                            bleak_characteristic,
                        )
                    )
        return collection

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._peer = None
        task = asyncio.get_running_loop().create_task(self._release())
        self._background.add(task)  # keep a reference until it is done
        task.add_done_callback(self._background.discard)
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def _release(self) -> None:
        device, controller = self._device, self._controller
        self._device = self._controller = None
        await self._radio.release(device, controller)

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            await self._release()
            return
        try:
            await connection.disconnect()
        except Exception as error:  # the link is already going: the disconnection event still follows
            logger.debug("disconnect from %s: %r", self.address, error)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the virtual link does not pair (heart-rate straps do not need it)")

    async def unpair(self) -> None:
        raise NotImplementedError("the virtual link does not pair")

    def _proxy(self, characteristic: BleakGATTCharacteristic) -> Any:
        if self._connection is None:
            raise BleakError("Not connected")
        return characteristic.obj

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        return bytearray(await self._proxy(characteristic).read_value())

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        if self._peer is None:
            raise BleakError("Not connected")
        return bytearray(await self._peer.read_value(descriptor.handle))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        await self._proxy(characteristic).write_value(bytes(data), with_response=response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        if self._peer is None:
            raise BleakError("Not connected")
        await self._peer.write_value(descriptor.handle, bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: Callable[[bytearray], None], **kwargs: Any
    ) -> None:
        if "notify" not in characteristic.properties and "indicate" not in characteristic.properties:
            raise BleakCharacteristicNotFoundError(characteristic.uuid)

        def deliver(value: bytes) -> None:
            callback(bytearray(value))

        self._subscriptions[characteristic.handle] = deliver
        await self._proxy(characteristic).subscribe(deliver)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        deliver = self._subscriptions.pop(characteristic.handle, None)
        if deliver is not None and self._connection is not None:
            await self._proxy(characteristic).unsubscribe(deliver)
