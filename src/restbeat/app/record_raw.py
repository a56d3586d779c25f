"""`restbeat record --raw FILE`: every notification's bytes with its arrival time, and every link event,
as JSON lines, for turning a real strap's behaviour into new test vectors.

Line 1 is a header (format, strap address, start time in UTC); then one object per notification
(``t_s`` seconds since the start on the monotonic clock, ``connection``, ``hex``) or event (``t_s``,
``event`` and its fields).  Each line is flushed as it is written, so a crash loses at most the line being
written.  An existing file is never overwritten.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import IO, Any

from restbeat.app.private_files import open_private
from restbeat.devices.ble import BluetoothUnavailableError, LinkEvent, StrapSupervisor, SupervisorConfig
from restbeat.devices.formats.raw_hrm import event_line, header_line, packet_line
from restbeat.devices.timeline import RRPacket


class RawFileExistsError(FileExistsError):
    """The output file is already there (it is never overwritten)."""


@dataclass(frozen=True, slots=True)
class RawSummary:
    """What a raw recording holds."""

    path: Path
    notifications: int
    events: int
    connections: int
    seconds: float


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Enum):
        return value.value
    return value


class _RawWriter:
    def __init__(self, handle: IO[str], start_s: float) -> None:
        self.handle = handle
        self.start_s = start_s
        self.notifications = 0
        self.events = 0

    def write(self, record: dict[str, Any]) -> None:
        self.handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.handle.flush()

    def packet(self, packet: RRPacket) -> None:
        self.notifications += 1
        self.write(packet_line(round(packet.arrival_s - self.start_s, 6), packet.connection, packet.raw))

    def event(self, event: LinkEvent) -> None:
        self.events += 1
        fields = {key: _jsonable(value) for key, value in dataclasses.asdict(event).items() if key != "t_s"}
        self.write(event_line(round(event.t_s - self.start_s, 6), type(event).__name__, fields))


async def record_raw(
    path: Path,
    address: str,
    *,
    duration_s: float | None = None,
    config: SupervisorConfig | None = None,
    scanner_kwargs: dict[str, Any] | None = None,
    client_kwargs: dict[str, Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RawSummary:
    """Record until ``duration_s`` has passed (or the task is cancelled); raises
    :class:`RawFileExistsError` or ``BluetoothUnavailableError``."""
    try:
        handle = open_private(path)  # 0600, like the database
    except FileExistsError as error:
        raise RawFileExistsError(f"{path} already exists; restbeat never overwrites a recording") from error
    start = clock()
    writer = _RawWriter(handle, start)
    writer.write(header_line(address, datetime.now(UTC).timestamp()))
    supervisor = StrapSupervisor(
        address,
        writer.packet,
        writer.event,
        config=config,
        scanner_kwargs=scanner_kwargs,
        client_kwargs=client_kwargs,
        clock=clock,
    )
    task = asyncio.get_running_loop().create_task(supervisor.run())
    try:
        if duration_s is None:
            await asyncio.shield(task)
        else:
            done, _ = await asyncio.wait({task}, timeout=duration_s)
            if task not in done:
                supervisor.stop()
            await task
    except BluetoothUnavailableError:
        handle.close()
        if writer.notifications == 0:
            path.unlink()  # nothing was recorded: leave no empty file behind
        raise
    finally:
        if not task.done():
            supervisor.stop()
            await asyncio.wait({task}, timeout=5.0)
        handle.close()
    return RawSummary(path, writer.notifications, writer.events, supervisor.connection, clock() - start)
