"""RR packets -> beats with times, split into segments at reconnects, invalid values and re-anchors.

A Heart Rate Measurement notification carries no timestamp.  It arrives about once a second with the RR
intervals measured since the previous one (0..n, oldest first), after a variable latency; after a link loss
the strap discards what it measured, so there is no backlog.  The timeline places every beat:

* **Arrival** is stamped by the caller with an injected monotonic clock (``RRPacket.arrival_s``).
* **Within a segment beats are placed by cumulative RR** in integer ticks (1/1024 s) from the segment's anchor
  (the time of the beat before its first interval): spacing is exact.
* **Anchoring.**  A beat is reported after it happened, so each packet bounds the anchor from above:
  ``anchor <= arrival - (ticks up to the packet's last beat)/1024``.  A new segment holds its beats until it
  has seen ``anchor_packets`` packets with RR and takes the smallest of these bounds (the packet that came
  with the least delay), so beats are placed at most the smallest of those delays late.
* **Re-anchoring.**  Each later packet checks the placement: ``lag = arrival - predicted time of its last
  beat``.  Latency keeps lag within [0, ``max_latency_s``] up to the anchor's own delay, which can be up to
  one notification period (the anchoring packets' last beats may all have been old); when lag leaves
  [-``early_tolerance_s``, ``max_latency_s`` + ``tolerance_s``] (beats the strap dropped, a clock that
  drifted, a stall) a new segment starts at that packet.
* **A reconnect always starts a new segment**, and its first interval is marked ``first_after_connect``
  (it may span the connection's start).
* **RR values of 0 and 65535 ticks are not intervals**: they are dropped and, since the time they covered is
  unknown, the values after them start a new segment.

No HRV is computed across segments, so each break costs at most one window of metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from restbeat.devices.hrs import MS_PER_TICK, TICKS_PER_SECOND, HeartRateMeasurement

INVALID_TICKS = frozenset({0, 0xFFFF})


@dataclass(frozen=True, slots=True)
class RRPacket:
    """One notification as received: arrival time (s, monotonic clock), the decoded measurement, the raw
    bytes (kept so every number can be recomputed) and the connection it came on (a counter the collector
    increments at every (re)connect)."""

    arrival_s: float
    measurement: HeartRateMeasurement
    raw: bytes
    connection: int


@dataclass(frozen=True, slots=True)
class TimedBeat:
    """One RR interval placed in time: the time (s) of the beat that ends it, its length in ticks, its
    segment, the packet's contact flag and heart rate, and what the plausibility stage needs to know."""

    t_s: float
    rr_ticks: int
    segment: int
    contact: bool | None
    heart_rate: int
    first_after_connect: bool
    follows_in_packet: bool

    @property
    def rr_ms(self) -> float:
        """The interval in ms (ticks x 1000/1024)."""
        return self.rr_ticks * MS_PER_TICK


@dataclass(frozen=True, slots=True)
class TimelineConfig:
    """Placement tolerances (s) and how many packets a new segment waits for before it is anchored.

    A beat is placed within ``max_latency_s`` + ``tolerance_s`` of its true time when notifications arrive
    within ``max_latency_s`` of their last beat (tested with drift, jitter and outages)."""

    max_latency_s: float = 2.0
    tolerance_s: float = 0.5
    early_tolerance_s: float = 1.5
    anchor_packets: int = 5


@dataclass
class _Pending:
    """A beat waiting for its segment's anchor: ticks from the segment start to it, and its fields."""

    cumulative_ticks: int
    rr_ticks: int
    contact: bool | None
    heart_rate: int
    first_after_connect: bool
    follows_in_packet: bool


@dataclass
class _Segment:
    """Placement state of one segment."""

    id: int
    anchor_s: float | None = None  # None while the segment is still gathering packets
    bound_s: float = float("inf")  # smallest upper bound on the anchor seen so far
    ticks: int = 0  # ticks from the anchor to the last beat placed or pending
    packets: int = 0
    pending: list[_Pending] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TimelineStats:
    """What the timeline did so far: segments started and why, values dropped."""

    segments: int
    reconnects: int
    reanchors: int
    invalid_values: int


class BeatTimeline:
    """Feed packets in arrival order with :meth:`push`; it returns the beats whose times are decided."""

    def __init__(self, config: TimelineConfig | None = None) -> None:
        self.config = config or TimelineConfig()
        self._segment: _Segment | None = None
        self._next_segment_id = 0
        self._connection: int | None = None
        self._first_of_connection = False
        self._reconnects = self._reanchors = self._invalid = 0

    @property
    def stats(self) -> TimelineStats:
        """Counters since the timeline was created."""
        return TimelineStats(self._next_segment_id, self._reconnects, self._reanchors, self._invalid)

    def push(self, packet: RRPacket) -> list[TimedBeat]:
        """Place the RR intervals of one packet; returns the beats that became final (oldest first)."""
        beats: list[TimedBeat] = []
        if packet.connection != self._connection:
            if self._connection is not None:
                self._reconnects += 1
            self._connection = packet.connection
            self._first_of_connection = True
            beats += self.flush()
        measurement = packet.measurement
        runs: list[list[tuple[int, bool]]] = [[]]  # (ticks, follows_in_packet) between invalid values
        for index, ticks in enumerate(measurement.rr_ticks):
            if ticks in INVALID_TICKS:
                self._invalid += 1
                runs.append([])
            else:
                runs[-1].append((ticks, index > 0))
        for number, run in enumerate(runs):
            if number > 0:  # the time an invalid value covered is unknown: what follows is a new segment
                beats += self.flush()
            if run:
                beats += self._place(packet, run)
        return beats

    def flush(self) -> list[TimedBeat]:
        """End the current segment: anchor its pending beats with what has been seen (end of recording,
        before a reconnect)."""
        segment = self._segment
        self._segment = None
        if segment is None or not segment.pending:
            return []
        segment.anchor_s = segment.bound_s
        return self._release(segment)

    def _new_segment(self) -> _Segment:
        self._segment = _Segment(self._next_segment_id)
        self._next_segment_id += 1
        return self._segment

    def _place(self, packet: RRPacket, run: list[tuple[int, bool]]) -> list[TimedBeat]:
        config = self.config
        run_ticks = sum(ticks for ticks, _ in run)
        beats: list[TimedBeat] = []
        segment = self._segment or self._new_segment()
        if segment.anchor_s is not None:
            predicted = segment.anchor_s + (segment.ticks + run_ticks) / TICKS_PER_SECOND
            lag = packet.arrival_s - predicted
            if not -config.early_tolerance_s <= lag <= config.max_latency_s + config.tolerance_s:
                self._reanchors += 1
                segment = self._new_segment()
        elif segment.pending:
            bound = packet.arrival_s - (segment.ticks + run_ticks) / TICKS_PER_SECOND
            if bound > segment.bound_s + config.max_latency_s + config.tolerance_s:
                # this packet cannot belong to the same run of beats (beats were dropped): split here
                self._reanchors += 1
                beats += self.flush()
                segment = self._new_segment()
        measurement = packet.measurement
        for ticks, follows in run:
            segment.ticks += ticks
            segment.pending.append(
                _Pending(
                    segment.ticks,
                    ticks,
                    measurement.contact,
                    measurement.heart_rate,
                    self._first_of_connection,
                    follows,
                )
            )
            self._first_of_connection = False
        segment.packets += 1
        segment.bound_s = min(segment.bound_s, packet.arrival_s - segment.ticks / TICKS_PER_SECOND)
        if segment.anchor_s is None and segment.packets >= config.anchor_packets:
            segment.anchor_s = segment.bound_s
        if segment.anchor_s is not None:
            beats += self._release(segment)
        return beats

    def _release(self, segment: _Segment) -> list[TimedBeat]:
        anchor = segment.anchor_s
        assert anchor is not None
        beats = [
            TimedBeat(
                anchor + beat.cumulative_ticks / TICKS_PER_SECOND,
                beat.rr_ticks,
                segment.id,
                beat.contact,
                beat.heart_rate,
                beat.first_after_connect,
                beat.follows_in_packet,
            )
            for beat in segment.pending
        ]
        segment.pending.clear()
        return beats
