"""Beat timeline: placement by cumulative RR, anchoring, re-anchoring, reconnects, invalid values.

The strap is simulated on a real RR series (PhysioNet nsr2db nsr001, ODC-By 1.0): it counts ticks on its own
clock (with a drift), notifies once a second of its time with the beats since the previous notification, the
link adds latency with jitter and spikes, and drops now and then (the strap discards what it measured).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from restbeat.devices import hrs
from restbeat.devices.files import read_wfdb_annotations
from restbeat.devices.timeline import BeatTimeline, RRPacket, TimedBeat, TimelineConfig
from tests.support.shared_data import bundled


@dataclass(frozen=True)
class Simulated:
    """Packets as received, and the true time (s) and ticks of every beat the strap delivered, in order."""

    packets: list[RRPacket]
    true_t_s: np.ndarray
    ticks: np.ndarray
    connections_started: int


def packet(arrival_s: float, ticks: list[int], connection: int = 0, contact: bool | None = None) -> RRPacket:
    built = hrs.measurement(72, ticks, contact=contact, rr_present=True)
    return RRPacket(arrival_s, built, hrs.encode_measurement(built), connection)


def simulate(
    rr_s: np.ndarray,
    *,
    seed: int,
    drift_ppm: float = 0.0,
    latency_s: tuple[float, float] = (0.02, 0.3),
    spike_share: float = 0.0,
    drops: int = 0,
) -> Simulated:
    """A strap notifying once a second of its own time, over a link with latency and ``drops`` outages."""
    rng = np.random.default_rng(seed)
    true_t = np.cumsum(rr_s) + 5.0
    strap_ticks = np.rint(rr_s * hrs.TICKS_PER_SECOND * (1 + drift_ppm * 1e-6)).astype(int)
    end = float(true_t[-1])
    outages = []
    for start in np.sort(rng.uniform(60.0, end - 60.0, size=drops)):
        outages.append((float(start), float(start) + float(rng.uniform(3.0, 20.0))))
    packets: list[RRPacket] = []
    delivered: list[int] = []
    connection = 0
    connected = True
    send = 5.0 + float(rng.uniform(0, 1))
    first = 0
    while first < rr_s.size:
        last = int(np.searchsorted(true_t, send, side="right"))  # beats up to the send time
        in_outage = any(a <= send < b for a, b in outages)
        if in_outage:
            connected = False
        elif not connected:
            connected, connection = True, connection + 1
        if not in_outage:
            latency = float(rng.uniform(*latency_s))
            if rng.random() < spike_share:
                latency += float(rng.uniform(0.3, 1.0))
            ticks = strap_ticks[first:last].tolist()
            arrival = send + latency
            if packets:  # BLE delivers notifications of a connection in order: a delayed one holds the next
                arrival = max(arrival, packets[-1].arrival_s)
            packets.append(packet(arrival, ticks, connection))
            delivered += range(first, last)
        first = last  # what was measured during an outage is discarded
        send += 1.0
    index = np.asarray(delivered, dtype=int)
    return Simulated(packets, true_t[index], strap_ticks[index], connection + 1)


def run(
    packets: list[RRPacket], config: TimelineConfig | None = None
) -> tuple[list[TimedBeat], BeatTimeline]:
    timeline = BeatTimeline(config)
    beats: list[TimedBeat] = []
    for p in packets:
        beats += timeline.push(p)
    beats += timeline.flush()
    return beats, timeline


@pytest.fixture(scope="module")
def two_hours() -> np.ndarray:
    nn = read_wfdb_annotations(bundled("physionet_nsr2db", "nsr001.ecg")).rr_ms
    series: np.ndarray = nn[(nn > 300) & (nn < 2000)][:9000] / 1000.0
    return series


def assert_exact_spacing(beats: list[TimedBeat]) -> None:
    for before, after in itertools.pairwise(beats):
        if before.segment == after.segment:
            assert after.t_s - before.t_s == pytest.approx(after.rr_ticks / 1024, abs=1e-9)


def test_clean_link_one_segment_exact_spacing_and_small_error(two_hours: np.ndarray) -> None:
    sim = simulate(two_hours, seed=1)
    beats, timeline = run(sim.packets)
    assert [b.rr_ticks for b in beats] == sim.ticks.tolist()  # every beat once, in order
    assert {b.segment for b in beats} == {0}
    assert_exact_spacing(beats)
    error = np.array([b.t_s for b in beats]) - sim.true_t_s
    assert np.all(error >= 0)  # a beat is never placed before it happened (no drift)
    assert error.max() <= timeline.config.max_latency_s
    assert float(np.median(error)) < 0.5


def test_drift_jitter_spikes_and_drops(two_hours: np.ndarray) -> None:
    """100 ppm strap clock, latency 20-300 ms with 2 % spikes of up to 1 s more, 6 outages of 3-20 s."""
    sim = simulate(two_hours, seed=2, drift_ppm=100.0, spike_share=0.02, drops=6)
    beats, timeline = run(sim.packets)
    assert [b.rr_ticks for b in beats] == sim.ticks.tolist()
    assert_exact_spacing(beats)
    error = np.array([b.t_s for b in beats]) - sim.true_t_s
    bound = timeline.config.max_latency_s + timeline.config.tolerance_s
    assert np.abs(error).max() <= bound
    # every reconnect starts a new segment, whose first interval is marked
    assert timeline.stats.reconnects == sim.connections_started - 1 == 6
    marked = [i for i, b in enumerate(beats) if b.first_after_connect]
    assert len(marked) == sim.connections_started
    for i in marked[1:]:
        assert beats[i].segment != beats[i - 1].segment


def test_a_clock_drift_is_caught_by_re_anchoring(two_hours: np.ndarray) -> None:
    """1000 ppm (a very bad clock): 3.6 s per hour, so the placement must re-anchor, and stay in bound."""
    sim = simulate(two_hours, seed=3, drift_ppm=1000.0)
    beats, timeline = run(sim.packets)
    assert timeline.stats.reanchors >= 2
    error = np.array([b.t_s for b in beats]) - sim.true_t_s
    assert np.abs(error).max() <= timeline.config.max_latency_s + timeline.config.tolerance_s
    assert_exact_spacing(beats)


def test_beats_the_strap_dropped_start_a_new_segment() -> None:
    """Ten seconds of beats missing while connected (a strap that filtered them out): a re-anchor."""
    ticks = [1024] * 3
    packets = [packet(float(k), ticks[:1]) for k in range(1, 20)]
    packets += [packet(float(k) + 10.0, ticks[:1]) for k in range(20, 30)]
    beats, timeline = run(packets)
    assert timeline.stats.reanchors == 1
    assert len({b.segment for b in beats}) == 2
    assert beats[19].t_s - beats[18].t_s == pytest.approx(11.0, abs=0.01)


def test_invalid_values_are_dropped_and_break_the_segment() -> None:
    packets = [packet(float(k), [1024]) for k in range(1, 6)]
    packets.append(packet(6.0, [1024, 0xFFFF, 1024]))
    packets.append(packet(7.0, [1024, 0]))
    packets += [packet(float(k), [1024]) for k in range(8, 12)]
    beats, timeline = run(packets)
    assert timeline.stats.invalid_values == 2
    assert len(beats) == 5 + 2 + 1 + 4
    assert all(b.rr_ticks == 1024 for b in beats)
    segments = [b.segment for b in beats]
    assert segments[5] == segments[4] and segments[6] != segments[5]  # break at the 65535
    assert segments[7] == segments[6] and segments[8] != segments[7]  # and at the 0


def test_fields_carried_to_the_beats() -> None:
    packets = [packet(1.0, [700, 800], contact=True), packet(2.0, [900], contact=False), packet(3.0, [800])]
    beats, _ = run(packets)
    assert [b.follows_in_packet for b in beats] == [False, True, False, False]
    assert [b.contact for b in beats] == [True, True, False, None]
    assert [b.first_after_connect for b in beats] == [True, False, False, False]
    assert beats[1].rr_ms == 800 * 1000 / 1024
    assert all(b.heart_rate == 72 for b in beats)


def test_a_packet_without_rr_places_nothing() -> None:
    timeline = BeatTimeline()
    assert timeline.push(packet(1.0, [])) == []
    assert timeline.flush() == []
