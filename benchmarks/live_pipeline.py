"""The live path's per-beat cost and a 12-hour shift's memory, on strap notifications from a real record.

    python -m benchmarks.live_pipeline [--hours 12] [--timing-hours 1]

Data: PhysioNet nsr2db record nsr001 (24-h Holter, N-to-N intervals; ODC-By 1.0, Goldberger et al. 2000).
Its first hours become what a chest strap would send: Heart Rate Measurement (0x2A37) payloads once a second
of beat time, each with the RR intervals ended since the previous one (as ``EmulatedStrap.play`` groups
them), arriving 30-80 ms after the second (seeded).  Where the record leaves intervals out (around non-N
beats), a gap of up to 3 s is sent as one long interval (a missed beat, for the artifact correction to
handle) and a longer gap as packets without RR (the timeline starts a new segment after it).  The person's
baseline is learned from the record's last 6 h (rebased to start at 0), which a replay of up to 16 h
does not reach.

1. Per-beat cost (``--timing-hours``, 1 h): each notification is timed (``perf_counter_ns``) from the raw
   bytes: decode (``parse_measurement``) plus ``LiveShift.on_packet`` (timeline, artifact correction, rolling
   HRV, assessment, recommender, and the recorder's buffers), divided by the beats it carries; with the
   recorder and without one.  UI (``view``, ``tick``) is excluded.  Statistics are over beats (each
   notification's per-beat cost counted once per beat it carries).  Target: median <= 20 µs.
   The commits are not on the per-beat path: in the app the recorder's flusher runs beside it every 0.5 s;
   here ``maybe_flush`` runs between notifications on a session clock that follows the arrivals (so once
   per notification), timed on its own, and shown as what it adds per beat.
2. Memory (``--hours``, 12 h): the shift with the recorder at full speed, in a fresh process that imports
   what ``restbeat monitor`` imports and warms up the analysis as ``new_shift`` does, then reads the
   notifications one at a time from a file (the record and the timing runs are not in it), with the
   flusher between notifications as in the timing run.  RSS
   (``/proc/self/status`` VmRSS; ``getrusage`` peak without /proc) after setup, every 30 min of session time
   and at the end; the peak is VmHWM.  Target: peak <= 120 MB, and flat (growth from 2 h to the end
   <= 5 MB).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import random
import resource
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._timing import format_seconds, markdown_table
from benchmarks.data import corpus_path
from restbeat.app.live import LiveShift, OpenPrompt
from restbeat.app.pipeline import ShiftPipeline
from restbeat.app.replay import baseline_from_recording
from restbeat.devices.files import read_recording
from restbeat.devices.hrs import encode_measurement, measurement, ms_to_ticks, parse_measurement
from restbeat.devices.recording import RRRecording
from restbeat.devices.timeline import RRPacket
from restbeat.recovery.assess import Profile
from restbeat.store.database import open_database
from restbeat.store.recorder import SessionRecorder
from restbeat.store.writes import SessionStart

RECORD = "nsr001"
ORIGIN_S = 10_000.0  # the session clock (a monotonic clock's reading) when the strap starts sending
STARTED_UTC = 1_750_000_000.0
MERGE_GAP_S = 3.0  # a left-out stretch up to this long is sent as one interval; longer: packets without RR
LATENCY_S = (0.03, 0.08)
LATENCY_SEED = 7
BASELINE_TAIL_S = 6 * 3600.0
BASELINE_S = 3 * 3600.0
BASELINE_EPOCHS = 60
SAMPLE_EVERY_S = 1800.0
TARGET_MEDIAN_US = 20.0
TARGET_RSS_MB = 120.0
FLAT_MB = 5.0  # growth from 2 h to the end that still counts as flat
REPO = Path(__file__).resolve().parents[1]


def load_record() -> RRRecording:
    """nsr001's N-to-N intervals."""
    return read_recording(corpus_path("physionet_nsr2db", f"{RECORD}.ecg"))


def tail_baseline(recording: RRRecording) -> Profile:
    """The person's baseline from the record's last 6 h, rebased to start at 0 (3 h, extended until 60
    low-effort minutes)."""
    keep = recording.t_s >= recording.t_s[-1] - BASELINE_TAIL_S
    first = int(np.argmax(keep))
    start = float(recording.t_s[first] - recording.rr_ms[first] / 1000.0)
    tail = dataclasses.replace(
        recording,
        rr_ms=recording.rr_ms[keep],
        t_s=recording.t_s[keep] - start,
        segment_ids=recording.segment_ids[keep] - recording.segment_ids[first],
    )
    profile, _ = baseline_from_recording(tail, until_s=BASELINE_S, min_epochs=BASELINE_EPOCHS)
    return profile


def strap_notifications(recording: RRRecording, hours: float) -> Iterator[tuple[float, bytes]]:
    """(arrival time on the session clock, payload) of every notification a strap would send for the
    record's first ``hours``: once per second of beat time, each with the beats ended since the last one."""
    t_s, rr_ms = recording.t_s, recording.rr_ms
    start = float(t_s[0] - rr_ms[0] / 1000.0)
    end = start + hours * 3600.0
    latency = random.Random(LATENCY_SEED)
    send = start + 1.0
    pending: list[int] = []

    def payload(ticks: list[int]) -> bytes:
        bpm = round(60 * 1024 * len(ticks) / sum(ticks)) if ticks else 0
        return encode_measurement(measurement(bpm, ticks, contact=True, rr_present=True))

    previous_end = start
    for index in range(rr_ms.size):
        beat = float(t_s[index])
        if beat > end:
            break
        interval = float(rr_ms[index])
        beat_start = beat - interval / 1000.0
        gap = beat_start - previous_end
        beats: list[tuple[float, int]] = []
        if 0.001 < gap <= MERGE_GAP_S:  # intervals left out around a non-N beat: one long interval
            beats.append((beat_start, ms_to_ticks(gap * 1000.0)))
        beats.append((beat, ms_to_ticks(interval)))
        previous_end = beat
        for at, ticks in beats:
            while at > send:
                yield ORIGIN_S + (send - start) + latency.uniform(*LATENCY_S), payload(pending)
                pending = []
                send += 1.0
            pending.append(ticks)
    yield ORIGIN_S + (send - start) + latency.uniform(*LATENCY_S), payload(pending)


class TimedRecorder(SessionRecorder):
    """The store's recorder, with the time spent in its commits added up."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.flush_ns = 0
        super().__init__(*args, **kwargs)

    def flush(self) -> None:
        start = time.perf_counter_ns()
        super().flush()
        self.flush_ns += time.perf_counter_ns() - start


@dataclass
class SessionClock:
    """The injected clock: the arrival time of the notification being handled."""

    now_s: float = ORIGIN_S

    def __call__(self) -> float:
        return self.now_s


def live_shift(profile: Profile, clock: SessionClock, db: Path | None) -> LiveShift:
    """A live shift built as ``new_shift`` builds it, recording into ``db`` (no recorder when None) with
    commits on ``clock``."""
    recorder = None
    if db is not None:
        recorder = TimedRecorder(
            open_database(db),
            SessionStart(started_utc=STARTED_UTC, source="benchmark", context="on-shift"),
            origin_s=clock.now_s,
            clock=clock,
        )
    pipeline = ShiftPipeline(profile=dataclasses.replace(profile, start_s=clock.now_s, night=False))
    return LiveShift(pipeline, recorder, origin_s=clock.now_s)


@dataclass(frozen=True, slots=True)
class Timing:
    """One timed run: per-beat costs (µs, one value per beat), the time in the packet path and in the
    flusher's commits between packets (ns), and what happened."""

    per_beat_us: np.ndarray
    total_ns: int
    flush_ns: int
    commits: int
    packets: int
    prompts: int
    segments: int


def time_per_beat(notifications: list[tuple[float, bytes]], profile: Profile, with_recorder: bool) -> Timing:
    """Decode + ``on_packet`` of every notification, timed; the flusher runs (timed apart) between them."""
    clock = SessionClock()
    costs: list[float] = []
    weights: list[int] = []
    prompts: list[OpenPrompt] = []
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        shift = live_shift(profile, clock, Path(tmp) / "bench.db" if with_recorder else None)
        shift.on_prompt = prompts.append
        recorder = shift.recorder if isinstance(shift.recorder, TimedRecorder) else None
        for arrival, raw in notifications:
            clock.now_s = arrival
            start = time.perf_counter_ns()
            packet = RRPacket(arrival, parse_measurement(raw), raw, 1)
            shift.on_packet(packet)
            elapsed = time.perf_counter_ns() - start
            total += elapsed
            beats = len(packet.measurement.rr_ticks)
            if beats:
                costs.append(elapsed / beats / 1000.0)
                weights.append(beats)
            if recorder is not None:
                recorder.maybe_flush()
        flush_ns = commits = 0
        if recorder is not None:
            flush_ns, commits = recorder.flush_ns, recorder.commits
            recorder.close()
            recorder.conn.close()
        segments = shift.timeline.stats.segments
    return Timing(
        np.repeat(np.asarray(costs), weights),
        total,
        flush_ns,
        commits,
        len(notifications),
        len(prompts),
        segments,
    )


# -- memory, in a fresh process ----------------------------------------------------------------------------

_RECORD_HEADER = struct.Struct("<dB")  # arrival (s), payload length, then the payload


def write_notifications(path: Path, notifications: Iterator[tuple[float, bytes]]) -> None:
    with path.open("wb") as handle:
        for arrival, raw in notifications:
            handle.write(_RECORD_HEADER.pack(arrival, len(raw)) + raw)


def read_notifications(path: Path) -> Iterator[tuple[float, bytes]]:
    """The notifications back, one at a time (so the replay holds none of them in memory)."""
    with path.open("rb") as handle:
        while header := handle.read(_RECORD_HEADER.size):
            arrival, size = _RECORD_HEADER.unpack(header)
            yield arrival, handle.read(size)


def proc_status_mb(field_name: str) -> float | None:
    """A memory figure of this process from /proc/self/status (MB), None without /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def rss_mb() -> float:
    """Resident set size now (MB), from /proc; else the peak so far from getrusage."""
    now = proc_status_mb("VmRSS")
    return now if now is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def memory_child(work: Path) -> dict[str, Any]:
    """The shift in ``work`` (notifications and profile written by the parent) replayed at full speed with
    the recorder; RSS after the app's imports, after setup, and every 30 min of session time."""
    import restbeat.ui.sessions  # noqa: F401  (what `restbeat monitor` imports: rich, bleak, the app)
    from restbeat.app.monitor import warm_up_analysis

    imported_mb = rss_mb()
    warm_up_analysis()  # new_shift does this first: scipy's spline and spectral code
    warmed_mb = rss_mb()
    profile = pickle.loads((work / "profile.pickle").read_bytes())
    clock = SessionClock()
    samples: list[tuple[float, float]] = []
    shift = live_shift(profile, clock, work / "bench.db")
    shift.on_prompt = lambda _: None
    recorder = shift.recorder
    assert recorder is not None
    samples.append((0.0, rss_mb()))
    next_sample = SAMPLE_EVERY_S
    wall = time.perf_counter()
    for arrival, raw in read_notifications(work / "notifications.bin"):
        clock.now_s = arrival
        shift.on_packet(RRPacket(arrival, parse_measurement(raw), raw, 1))
        recorder.maybe_flush()
        if arrival - ORIGIN_S >= next_sample:
            samples.append((next_sample / 3600.0, rss_mb()))
            next_sample += SAMPLE_EVERY_S
    wall = time.perf_counter() - wall
    summary = shift.finish(clock.now_s)
    end_mb = rss_mb()
    peak_mb = proc_status_mb("VmHWM")
    recorder.close()
    recorder.conn.close()
    pipeline = shift.pipeline
    return {
        "imported_mb": imported_mb,
        "warmed_mb": warmed_mb,
        "samples": samples,
        "end_mb": end_mb,
        "peak_mb": peak_mb if peak_mb is not None else max(mb for _, mb in samples),
        "hours": (clock.now_s - ORIGIN_S) / 3600.0,
        "wall_s": wall,
        "beats": summary.beats,
        "corrected": summary.corrected,
        "excluded": summary.excluded,
        "prompts": len(summary.prompts),
        "db_mb": (work / "bench.db").stat().st_size / 2**20,
        "epochs": len(pipeline.assessor.epochs),
        "half_recoveries": len(pipeline.assessor.half_recoveries_s),
        "recommender_prompts": len(pipeline.recommender.prompts) if pipeline.recommender else 0,
    }


def run_memory_child(recording: RRRecording, profile: Profile, hours: float) -> dict[str, Any]:
    """:func:`memory_child` in a fresh interpreter, so neither the timing runs nor reading the record
    count."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_notifications(work / "notifications.bin", strap_notifications(recording, hours))
        (work / "profile.pickle").write_bytes(pickle.dumps(profile))
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.live_pipeline", "--memory-child", str(work)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"the memory run failed:\n{result.stderr}")
    parsed: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return parsed


# -- tables ------------------------------------------------------------------------------------------------


def timing_table(with_recorder: Timing, without: Timing) -> str:
    rows = [
        ("decode -> assessment, with the recorder's buffers (the live path)", with_recorder.per_beat_us),
        ("decode -> assessment, no recorder", without.per_beat_us),
    ]
    header = ["per beat", "beats", "median", "p90", "p99", "max", "mean", "target", "pass"]
    body = []
    for name, us in rows:
        median = float(np.median(us))
        p90, p99 = np.percentile(us, [90, 99])
        body.append(
            [
                name,
                f"{us.size}",
                *(f"{value:.1f} µs" for value in (median, p90, p99, us.max(), us.mean())),
                f"median <= {TARGET_MEDIAN_US:g} µs",
                "pass" if median <= TARGET_MEDIAN_US else "FAIL",
            ]
        )
    return markdown_table(header, body)


def flusher_text(timing: Timing, hours: float) -> str:
    """The flusher's commits, beside the per-beat path: count, cost each, per beat if spread; and the CPU
    the whole path takes per hour of shift."""
    beats = timing.per_beat_us.size
    each_us = timing.flush_ns / max(timing.commits, 1) / 1000.0
    busy_s = (timing.flush_ns + timing.total_ns) / 1e9 / hours
    return (
        f"The flusher, beside the per-beat path: {timing.commits} commits × {each_us:.0f} µs "
        f"(= {timing.flush_ns / max(beats, 1) / 1000.0:.1f} µs per beat if spread over the beats; "
        f"{100 * timing.flush_ns / (timing.flush_ns + timing.total_ns):.0f}% of the loop's time).  "
        f"Path and commits together: {busy_s * 1000:.0f} ms of CPU per hour of shift "
        f"({100 * busy_s / 3600:.3f}% of one core)."
    )


def memory_table(result: dict[str, Any]) -> str:
    samples = [(float(h), float(mb)) for h, mb in result["samples"]]
    end_h, end_mb = float(result["hours"]), float(result["end_mb"])
    at_1h = next((mb for h, mb in samples if h >= 1.0), end_mb)
    peak = max(float(result["peak_mb"]), end_mb, *(mb for _, mb in samples))
    growth: float | None = None
    if end_h > 2.0:
        growth = end_mb - next(mb for h, mb in samples if h >= 2.0)
    flat = growth is not None and growth <= FLAT_MB
    header = [
        "shift",
        "wall time",
        "RSS start",
        "RSS 1 h",
        "RSS peak",
        "RSS end",
        "2 h -> end",
        "target",
        "pass",
    ]
    row = [
        f"{end_h:.1f} h, {result['beats']} beats",
        format_seconds(float(result["wall_s"])),
        f"{samples[0][1]:.1f} MB",
        f"{at_1h:.1f} MB",
        f"{peak:.1f} MB",
        f"{end_mb:.1f} MB",
        f"{growth:+.1f} MB" if growth is not None else "n/a",
        f"peak <= {TARGET_RSS_MB:g} MB, growth <= {FLAT_MB:g} MB",
        "pass" if peak <= TARGET_RSS_MB and flat else "FAIL",
    ]
    return markdown_table(header, [row])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=12.0, help="length of the shift replayed for memory")
    parser.add_argument(
        "--timing-hours", type=float, default=1.0, help="hours replayed for the per-beat cost"
    )
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        print(json.dumps(memory_child(args.memory_child)))
        return

    recording = load_record()
    profile = tail_baseline(recording)
    notifications = list(strap_notifications(recording, args.timing_hours))
    with_recorder = time_per_beat(notifications, profile, with_recorder=True)
    without = time_per_beat(notifications, profile, with_recorder=False)
    print(f"## Per-beat cost, decode to assessment ({RECORD}, first {args.timing_hours:g} h)\n")
    print(timing_table(with_recorder, without))
    print(
        f"\n{with_recorder.packets} notifications, {with_recorder.segments} timeline segment(s), "
        f"{with_recorder.prompts} prompt(s)."
    )
    print(flusher_text(with_recorder, args.timing_hours))

    print(f"\n## Memory over a {args.hours:g}-h shift at full speed (fresh process, with the recorder)\n")
    result = run_memory_child(recording, profile, args.hours)
    print(memory_table(result))
    series = ", ".join(f"{h:g} h {mb:.1f}" for h, mb in result["samples"])
    print(
        f"\nRSS after `restbeat monitor`'s imports {result['imported_mb']:.1f} MB, after `warm_up_analysis` "
        f"(scipy) {result['warmed_mb']:.1f} MB, shift set up {result['samples'][0][1]:.1f} MB."
    )
    print(f"RSS (MB) every 30 min of session time: {series}.")
    print(
        f"Shift: {result['corrected']} beats corrected, {result['excluded']} excluded, {result['prompts']} "
        f"prompt(s); kept by design: {result['epochs']} low-effort epochs, {result['half_recoveries']} "
        f"half-recovery times; database {result['db_mb']:.1f} MB on disk."
    )


if __name__ == "__main__":
    main()
