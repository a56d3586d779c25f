"""Soak: a 12-hour shift over the virtual link at accelerated time, with 100 forced drops.

Run by hand with ``python -m pytest -m soak tests/devices/test_ble_soak.py -s`` (it prints its figures).
The strap notifies one packet per second of shift time, built from 12 h of a real RR series (PhysioNet
nsr2db nsr001, ODC-By 1.0), as fast as the stack takes them.  Faults cycle through: the strap ends the
connection, the link is lost, the strap goes silent (the watchdog must act), and the strap stops advertising
for a while.  Checked: every packet the strap delivered while connected is received exactly once and in
order; the timeline turns them into exactly the delivered beats; each reconnect completes within 2 s (real
time) of the strap advertising again.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import replace

import numpy as np
import pytest

from restbeat.devices import hrs
from restbeat.devices.ble import LinkState
from restbeat.devices.emulator import EmulatedStrap
from restbeat.devices.files import read_wfdb_annotations
from restbeat.devices.timeline import BeatTimeline
from restbeat.devices.virtual_link import VirtualRadio
from tests.devices.test_ble_virtual import Collector, wait_until
from tests.support.shared_data import bundled

SHIFT_S = 12 * 3600
DROPS = 100
FAULTS = ("strap disconnect", "link loss", "silence", "away")


def shift_packets() -> list[list[int]]:
    """12 h of RR (ticks) grouped into one packet per second, as a strap sends them."""
    nn = read_wfdb_annotations(bundled("physionet_nsr2db", "nsr001.ecg")).rr_ms
    rr = nn[(nn > 300) & (nn < 2000)]
    beat_t = np.cumsum(rr) / 1000.0
    rr, beat_t = rr[beat_t < SHIFT_S], beat_t[beat_t < SHIFT_S]
    second = np.floor(beat_t).astype(int)
    ticks = [hrs.ms_to_ticks(v) for v in rr.tolist()]
    packets: list[list[int]] = [[] for _ in range(SHIFT_S)]
    for s, t in zip(second.tolist(), ticks, strict=True):
        packets[s].append(t)
    return packets


@pytest.mark.soak
@pytest.mark.asyncio
async def test_twelve_hour_shift_with_a_hundred_drops() -> None:
    packets = shift_packets()  # before connecting: an idle link would trip the 0.5-s watchdog
    radio = VirtualRadio()
    strap = EmulatedStrap(radio)
    await strap.start()
    collector = Collector(radio, strap)
    collector.start()
    await wait_until(collector.streaming(1))
    rng = np.random.default_rng(12)
    fault_at = set(rng.choice(np.arange(600, SHIFT_S - 600), size=DROPS, replace=False).tolist())
    delivered: list[bytes] = []
    delivered_second: list[int] = []
    reconnect_s: list[float] = []
    started = time.perf_counter()
    faults = 0
    for second, ticks in enumerate(packets):
        payload = hrs.encode_measurement(hrs.measurement(70, ticks, contact=True, rr_present=True))
        if await strap.notify(payload):
            delivered.append(payload)
            delivered_second.append(second)
        if second in fault_at:
            # settle, so that "delivered" means received or lost with the link, never in flight
            await wait_until(lambda: len(collector.packets) == len(delivered))
            connection = collector.supervisor.connection
            kind = FAULTS[faults % len(FAULTS)]
            faults += 1
            if kind == "strap disconnect":
                await strap.disconnect()
            elif kind == "link loss":
                strap.lose_link()
            elif kind == "silence":
                strap.silent = True
                await wait_until(lambda: collector.supervisor.state is not LinkState.STREAMING)
                strap.silent = False
            else:
                await strap.stop_advertising()
                await strap.disconnect()
                await asyncio.sleep(0.3)
                await strap.start_advertising()
            advertising_again = time.perf_counter()
            await wait_until(collector.streaming(connection + 1), timeout_s=10.0)
            reconnect_s.append(time.perf_counter() - advertising_again)
        if second % 50 == 0:
            await asyncio.sleep(0)
    await wait_until(lambda: len(collector.packets) == len(delivered))
    elapsed = time.perf_counter() - started
    await collector.stop()
    await strap.stop()

    received = [p.raw for p in collector.packets]
    assert received == delivered  # every delivered packet exactly once, in order
    assert collector.supervisor.connection == DROPS + 1
    # the stack ran faster than real time, so for the timeline each packet is stamped with the end of its
    # shift second plus 50 ms of latency: the beats must come out as delivered, split only at the reconnects
    timeline = BeatTimeline()
    beats = [
        beat
        for p, second in zip(collector.packets, delivered_second, strict=True)
        for beat in timeline.push(replace(p, arrival_s=second + 1.05))
    ] + timeline.flush()
    delivered_ticks = [t for payload in delivered for t in hrs.parse_measurement(payload).rr_ticks]
    assert [b.rr_ticks for b in beats] == delivered_ticks
    assert timeline.stats.reconnects == DROPS
    assert len({b.segment for b in beats}) == DROPS + 1
    assert max(reconnect_s) < 2.0
    total_beats = sum(len(p) for p in packets)
    print(
        f"\nsoak: {SHIFT_S / 3600:.0f} h shift, {len(packets)} packets, {total_beats} beats; {DROPS} drops "
        f"({', '.join(FAULTS)}); delivered {len(delivered)} packets / {len(delivered_ticks)} beats, all "
        f"received once and in order; reconnect after advertising again: median "
        f"{statistics.median(reconnect_s):.3f} s, max {max(reconnect_s):.3f} s; "
        f"{len({b.segment for b in beats})} segments; {elapsed:.1f} s wall time"
    )
