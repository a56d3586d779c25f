"""`restbeat scan`: the heart-rate straps in range, or the one-line reason there are none."""

from __future__ import annotations

import asyncio
from typing import Any

from restbeat.devices.ble import StrapInfo, scan


def scan_straps(timeout_s: float = 5.0, scanner_cls: Any = None) -> list[StrapInfo]:
    """Scan for ``timeout_s`` seconds; raises ``BluetoothUnavailableError`` when there is no Bluetooth."""
    return asyncio.run(scan(timeout_s, scanner_cls))


def render_straps(straps: list[StrapInfo], timeout_s: float) -> str:
    """A table of the straps found, or what to try when there are none."""
    if not straps:
        return (
            f"No heart-rate strap found in {timeout_s:g} s. Wet the electrodes and put the strap on (most "
            "straps advertise only when worn), and make sure no other app or the system's Bluetooth "
            "settings are connected to it."
        )
    width = max(len(strap.name or "(no name)") for strap in straps)
    lines = [f"{'name':<{width}}  {'address':<17}  RSSI"]
    for strap in straps:
        rssi = f"{strap.rssi} dBm" if strap.rssi is not None else "-"
        lines.append(f"{strap.name or '(no name)':<{width}}  {strap.address:<17}  {rssi}")
    return "\n".join(lines)
