"""Bluetooth LE heart-rate straps through bleak: scanning, and a supervisor that keeps one strap streaming.

The supervisor connects with the ``BLEDevice`` found by a scan (never a bare address), reads what the strap
tells about itself, subscribes to Heart Rate Measurement (0x2A37) and keeps the link until the user stops:

* states ``scanning -> connecting -> streaming -> reconnecting -> ... -> stopped`` are reported as events;
* a strap that is not advertising is looked for by scanning again at once (the scan is the wait, so a strap
  that comes back is reconnected within one scan); a connect that fails is retried after a capped
  exponential backoff with jitter (``SupervisorConfig``), forever by default;
* a data watchdog drops and reconnects a link that stays connected but silent (straps are known to go quiet
  after 30-150 s on Linux);
* bleak calls the disconnect callback on our own disconnect too: a flag tells a user stop from a link loss;
* contact lost and regained, battery level and malformed notifications are events; nothing stops recording;
* with no Bluetooth stack or adapter the supervisor stops with :class:`BluetoothUnavailableError`, one line.

The bleak classes (or their keyword arguments, e.g. a ``backend=``), the clock, the sleep and the random
source are injected, so the same code runs against a real strap, a fake and the emulated strap.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from restbeat.devices.hrs import MeasurementError, parse_measurement
from restbeat.devices.timeline import RRPacket


def uuid16(short: int) -> str:
    """The 128-bit form of a 16-bit Bluetooth SIG UUID."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


logger = logging.getLogger(__name__)

HEART_RATE_SERVICE = uuid16(0x180D)
HEART_RATE_MEASUREMENT = uuid16(0x2A37)
BODY_SENSOR_LOCATION = uuid16(0x2A38)
BATTERY_LEVEL = uuid16(0x2A19)
MANUFACTURER_NAME = uuid16(0x2A29)
MODEL_NUMBER = uuid16(0x2A24)
FIRMWARE_REVISION = uuid16(0x2A26)
BODY_LOCATIONS = ("other", "chest", "wrist", "finger", "hand", "ear lobe", "foot")

NO_ADAPTER = "no Bluetooth adapter found; try `restbeat demo`"


class BluetoothUnavailableError(RuntimeError):
    """This machine has no usable Bluetooth (no stack, no adapter, or it is switched off)."""


def is_unavailable(error: BaseException) -> bool:
    """True for the errors that mean there is no Bluetooth to use at all (retrying cannot help)."""
    from bleak.exc import BleakBluetoothNotAvailableError

    return isinstance(error, FileNotFoundError | BleakBluetoothNotAvailableError)


def transient_errors() -> tuple[type[BaseException], ...]:
    """What bleak really raises on a failed scan, connect, read or subscribe that a retry may fix."""
    from bleak.exc import BleakError

    return (BleakError, OSError, TimeoutError, EOFError)


def describe(error: BaseException) -> str:
    """One line for a user: what failed, without a traceback."""
    if is_unavailable(error):
        return NO_ADAPTER
    text = str(error).strip() or "no detail given"
    return f"{type(error).__name__}: {text}"


# --- scanning --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StrapInfo:
    """A heart-rate strap seen advertising: address, name (may be empty) and signal strength (dBm)."""

    address: str
    name: str
    rssi: int | None


async def scan(timeout_s: float = 5.0, scanner_cls: Any = None, **backend: Any) -> list[StrapInfo]:
    """Straps advertising the Heart Rate Service, strongest signal first.

    Raises :class:`BluetoothUnavailableError` (message :data:`NO_ADAPTER`) when there is no Bluetooth.
    """
    if scanner_cls is None:
        from bleak import BleakScanner

        scanner_cls = BleakScanner
    try:
        found = await scanner_cls.discover(
            timeout=timeout_s, service_uuids=[HEART_RATE_SERVICE], return_adv=True, **backend
        )
    except Exception as error:
        if is_unavailable(error):
            raise BluetoothUnavailableError(NO_ADAPTER) from error
        raise
    straps = [
        StrapInfo(device.address, device.name or advertisement.local_name or "", advertisement.rssi)
        for device, advertisement in found.values()
        if HEART_RATE_SERVICE in [uuid.lower() for uuid in advertisement.service_uuids]
    ]
    return sorted(straps, key=lambda strap: -(strap.rssi if strap.rssi is not None else -999))


# --- events ----------------------------------------------------------------------------------------------


class LinkState(StrEnum):
    """Where the supervisor is."""

    SCANNING = "scanning"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The link changed state at ``t_s`` (s, injected clock), with the reason in words."""

    t_s: float
    state: LinkState
    reason: str
    connection: int


@dataclass(frozen=True, slots=True)
class StrapDetails:
    """What the strap said about itself on connect (None where it has no such characteristic)."""

    t_s: float
    manufacturer: str | None
    model: str | None
    firmware: str | None
    body_location: str | None


@dataclass(frozen=True, slots=True)
class BatteryLevel:
    """Battery level (%) read on connect or notified."""

    t_s: float
    percent: int


@dataclass(frozen=True, slots=True)
class ContactChanged:
    """Skin contact lost (False) or regained (True), as the strap reports it."""

    t_s: float
    contact: bool


@dataclass(frozen=True, slots=True)
class BadPacket:
    """A notification that could not be decoded: kept raw, recording goes on."""

    t_s: float
    raw: bytes
    error: str


LinkEvent = StateChanged | StrapDetails | BatteryLevel | ContactChanged | BadPacket


# --- the supervisor --------------------------------------------------------------------------------------


class _Client(Protocol):
    """The slice of ``bleak.BleakClient`` the supervisor uses."""

    async def connect(self) -> Any: ...
    async def disconnect(self) -> Any: ...
    async def read_gatt_char(self, uuid: str) -> bytearray: ...
    async def start_notify(self, uuid: str, callback: Callable[[Any, bytearray], None]) -> None: ...


@dataclass(frozen=True, slots=True)
class SupervisorConfig:
    """Timings (s) of the supervisor.

    ``backoff_*``: delay before retrying a failed connect: initial x factor^(failures - 1), capped, times
    1 +/- ``jitter``.  ``watchdog_s``: a connected strap silent this long is dropped and reconnected.
    ``max_failures``: stop after this many connect failures in a row (None: never give up).
    """

    scan_timeout_s: float = 10.0
    connect_timeout_s: float = 20.0
    backoff_initial_s: float = 1.0
    backoff_factor: float = 2.0
    backoff_max_s: float = 30.0
    jitter: float = 0.2
    watchdog_s: float = 5.0
    poll_s: float = 0.1
    max_failures: int | None = None


class StrapSupervisor:
    """Keeps one strap connected and streaming until :meth:`stop`; see the module docstring."""

    def __init__(
        self,
        address: str,
        on_packet: Callable[[RRPacket], None],
        on_event: Callable[[LinkEvent], None],
        *,
        config: SupervisorConfig | None = None,
        client_cls: Any = None,
        scanner_cls: Any = None,
        scanner_kwargs: dict[str, Any] | None = None,
        client_kwargs: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if client_cls is None or scanner_cls is None:
            from bleak import BleakClient, BleakScanner

            client_cls = client_cls or BleakClient
            scanner_cls = scanner_cls or BleakScanner
        self.address = address
        self.config = config or SupervisorConfig()
        self._on_packet = on_packet
        self._on_event = on_event
        self._client_cls = client_cls
        self._scanner_cls = scanner_cls
        self._scanner_kwargs = scanner_kwargs or {}
        self._client_kwargs = client_kwargs or {}
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._stop_requested = False
        self._link_lost = False
        self._closing = False
        self._last_data_s = 0.0
        self._contact: bool | None = None
        self.connection = 0
        self.state = LinkState.STOPPED

    def stop(self) -> None:
        """Ask the supervisor to disconnect and return from :meth:`run`."""
        self._stop_requested = True

    def backoff_s(self, failures: int) -> float:
        """Delay (s) before the next connect after ``failures`` failures in a row (jittered)."""
        config = self.config
        base = min(config.backoff_max_s, config.backoff_initial_s * config.backoff_factor ** (failures - 1))
        return base * (1.0 + self._rng.uniform(-config.jitter, config.jitter))

    def _set_state(self, state: LinkState, reason: str) -> None:
        self.state = state
        logger.info("strap %s: %s (%s)", self.address, state.value, reason)
        self._on_event(StateChanged(self._clock(), state, reason, self.connection))

    async def run(self) -> None:
        """Scan, connect, stream and reconnect until stopped; raises :class:`BluetoothUnavailableError`."""
        failures = 0
        self._set_state(LinkState.SCANNING, f"looking for {self.address}")
        while not self._stop_requested:
            try:
                device = await self._scanner_cls.find_device_by_address(
                    self.address, timeout=self.config.scan_timeout_s, **self._scanner_kwargs
                )
            except transient_errors() as error:
                self._fail_if_unavailable(error)
                failures = await self._failed(failures, f"scan failed ({describe(error)})")
                continue
            if device is None:  # not advertising: scan again (the scan itself is the wait)
                await self._wait(self.config.poll_s)
                continue
            self._set_state(LinkState.CONNECTING, f"found {self.address}")
            client = self._client_cls(
                device,
                disconnected_callback=self._on_disconnect,
                timeout=self.config.connect_timeout_s,
                **self._client_kwargs,
            )
            try:
                await self._connect(client)
            except transient_errors() as error:
                self._fail_if_unavailable(error)
                await self._close(client)
                failures = await self._failed(failures, f"connect failed ({describe(error)})")
                continue
            failures = 0
            reason = await self._stream(client)
            if self._stop_requested:
                break
            self._set_state(LinkState.RECONNECTING, reason)
        self._set_state(LinkState.STOPPED, "stopped by the user")

    def _fail_if_unavailable(self, error: BaseException) -> None:
        if is_unavailable(error):
            self._set_state(LinkState.STOPPED, NO_ADAPTER)
            raise BluetoothUnavailableError(NO_ADAPTER) from error

    async def _failed(self, failures: int, reason: str) -> int:
        failures += 1
        limit = self.config.max_failures
        if limit is not None and failures >= limit:
            self._stop_requested = True
            self._set_state(LinkState.RECONNECTING, f"{reason}; giving up after {failures} failures")
            return failures
        delay = self.backoff_s(failures)
        self._set_state(LinkState.RECONNECTING, f"{reason}; retrying in {delay:.1f} s")
        await self._wait(delay)
        return failures

    async def _wait(self, seconds: float) -> None:
        """Sleep on the injected clock, waking early on stop."""
        end = self._clock() + seconds
        while not self._stop_requested and self._clock() < end:
            await self._sleep(min(self.config.poll_s, end - self._clock()))

    async def _connect(self, client: _Client) -> None:
        self._link_lost = False
        self._closing = False
        await client.connect()
        self.connection += 1
        details = StrapDetails(
            self._clock(),
            await self._read_text(client, MANUFACTURER_NAME),
            await self._read_text(client, MODEL_NUMBER),
            await self._read_text(client, FIRMWARE_REVISION),
            await self._read_location(client),
        )
        logger.info(
            "strap %s: %s %s, firmware %s, worn on the %s",
            self.address,
            details.manufacturer or "unknown maker",
            details.model or "unknown model",
            details.firmware or "unknown",
            details.body_location or "unknown location",
        )
        self._on_event(details)
        battery = await self._read(client, BATTERY_LEVEL)
        if battery:
            self._on_event(BatteryLevel(self._clock(), battery[0]))
        self._contact = None
        self._last_data_s = self._clock()
        await client.start_notify(HEART_RATE_MEASUREMENT, self._on_notification)
        try:
            await client.start_notify(BATTERY_LEVEL, self._on_battery)
        except transient_errors() as error:  # battery notifications are optional: the level read above stands
            logger.debug("strap %s: no battery notifications (%s)", self.address, describe(error))
        self._set_state(LinkState.STREAMING, f"connection {self.connection}")

    async def _read(self, client: _Client, uuid: str) -> bytes | None:
        """A characteristic's value, or None where the strap does not have it or the read fails."""
        try:
            return bytes(await client.read_gatt_char(uuid))
        except transient_errors() as error:
            logger.debug("strap %s: no %s (%s)", self.address, uuid, describe(error))
            return None

    async def _read_text(self, client: _Client, uuid: str) -> str | None:
        value = await self._read(client, uuid)
        return value.decode("utf-8", "replace").strip("\x00 ") if value else None

    async def _read_location(self, client: _Client) -> str | None:
        value = await self._read(client, BODY_SENSOR_LOCATION)
        if not value:
            return None
        return BODY_LOCATIONS[value[0]] if value[0] < len(BODY_LOCATIONS) else f"code {value[0]}"

    async def _stream(self, client: _Client) -> str:
        """Wait while data flows; returns why streaming ended."""
        while True:
            if self._stop_requested:
                await self._close(client)
                return "stopped by the user"
            if self._link_lost:
                return "link lost"
            silent = self._clock() - self._last_data_s
            if silent > self.config.watchdog_s:
                await self._close(client)
                return f"no data for {silent:.1f} s (watchdog)"
            await self._sleep(self.config.poll_s)

    async def _close(self, client: _Client) -> None:
        """Our own disconnect: marked so that the disconnect callback does not report a link loss."""
        self._closing = True
        try:
            await client.disconnect()
        except transient_errors() as error:  # already gone: nothing left to close
            logger.debug("strap %s: disconnect: %s", self.address, describe(error))

    def _on_disconnect(self, _client: Any) -> None:
        if not self._closing:
            self._link_lost = True

    def _on_notification(self, _sender: Any, data: bytearray) -> None:
        now = self._clock()
        self._last_data_s = now
        raw = bytes(data)
        try:
            measurement = parse_measurement(raw)
        except MeasurementError as error:
            logger.warning("strap %s: %s", self.address, error)
            self._on_event(BadPacket(now, raw, str(error)))
            return
        if measurement.extra:
            logger.warning(
                "strap %s: notification %s ends with %d byte(s) that are not a whole RR value (ignored)",
                self.address,
                raw.hex(),
                len(measurement.extra),
            )
        if measurement.contact is not None and measurement.contact != self._contact:
            if self._contact is not None or not measurement.contact:
                self._on_event(ContactChanged(now, measurement.contact))
            self._contact = measurement.contact
        self._on_packet(RRPacket(now, measurement, raw, self.connection))

    def _on_battery(self, _sender: Any, data: bytearray) -> None:
        if data:
            self._on_event(BatteryLevel(self._clock(), data[0]))
