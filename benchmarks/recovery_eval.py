"""How the assessment and recommender behave on real recordings and simulated people.

    python -m benchmarks.recovery_eval [--records N] [--people N]

1. False prompts on calm nights (PhysioNet nsr2db, 54 healthy 24-h Holter records).  Each record's first
   3 h (extended until they hold 60 low-effort minutes) are the person's baseline; the rest is replayed
   through the live pipeline.  The records carry no clock time, so the night is the 6 h with the lowest
   mean HR (sleep).  Prompts in the night per 12 h: target 0.  Prompts in the rest of the day are shown
   too: ambulatory daytime, where no motion data separates effort from stress.
2. GUDB (25 people, 2 min each of sitting, maths, walking, jogging; chest-strap R peaks): sitting is the
   person's check-in; per task, the lnRMSSD difference from sitting and what the assessment reads over the
   task's 60-s windows: effort (HR >= resting + 10), low (median z <= -1), usual, or no data.
3. The practice learner on simulated people for whom one of the five in-shift practices truly works best
   (reward +1.0 or +0.5 SD above the others, noise SD 1): the share of decisions that pick it, by episode.
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks._timing import markdown_table
from benchmarks.data import corpus_path
from restbeat.app.replay import baseline_from_recording, replay
from restbeat.devices.files import read_recording
from restbeat.recovery.assess import Assessor, Gate, Profile, WindowReading
from restbeat.recovery.baseline import CheckIn
from restbeat.recovery.learning import PracticeLearner, context_vector
from restbeat.recovery.practices import Place, Trigger, eligible
from restbeat.recovery.recommend import Prompt
from restbeat.signal.metrics import time_domain
from restbeat.signal.stream import HRVStream

NIGHT_S = 6 * 3600.0
BASELINE_S = 3 * 3600.0
BASELINE_EPOCHS = 60


@dataclass(frozen=True, slots=True)
class NightResult:
    record: str
    baseline_h: float
    night_h: float
    night_prompts: int
    day_h: float
    day_prompts: int
    night_candidates: int


def _night_start(t_s: np.ndarray, rr_ms: np.ndarray, after_s: float) -> float:
    """Start (s) of the 6 h with the lowest mean HR after ``after_s`` (from the start if less than 6 h are
    left after it), searched every 10 min."""
    hr = 60000.0 / rr_ms
    first = after_s if float(t_s[-1]) - after_s > NIGHT_S else 0.0
    starts = np.arange(first, float(t_s[-1]) - NIGHT_S, 600.0)
    means = [float(np.mean(hr[(t_s >= s) & (t_s < s + NIGHT_S)])) for s in starts]
    return float(starts[int(np.argmin(means))])


def night_result(path: Path) -> NightResult:
    recording = read_recording(path)
    profile, end_s = baseline_from_recording(recording, until_s=BASELINE_S, min_epochs=BASELINE_EPOCHS)
    outcomes, summary = replay(recording, profile, start_s=end_s)
    night = _night_start(recording.t_s, recording.rr_ms, end_s)
    night_h = (min(night + NIGHT_S, float(recording.t_s[-1])) - max(night, end_s)) / 3600
    in_night = [o for o in outcomes if night <= o.t_s < night + NIGHT_S]
    prompts = [o for o in outcomes if isinstance(o, Prompt)]
    night_prompts = sum(isinstance(o, Prompt) for o in in_night)
    return NightResult(
        record=path.stem,
        baseline_h=end_s / 3600,
        night_h=night_h,
        night_prompts=night_prompts,
        day_h=summary.duration_s / 3600 - night_h,
        day_prompts=len(prompts) - night_prompts,
        night_candidates=sum(type(o).__name__ == "TriggerEvent" for o in in_night),
    )


@dataclass(frozen=True, slots=True)
class FirstShiftResult:
    """A whole recording replayed as a first shift with a new strap (no baseline): prompts by part."""

    record: str
    hours: float
    sleep_h: float
    sleep_prompts: int
    day_prompts: int
    prompt_times_h: tuple[float, ...]


def first_shift_result(path: Path) -> FirstShiftResult:
    """Replay a recording with no baseline; the sleep-like part is its 6 h of lowest mean HR."""
    recording = read_recording(path)
    outcomes, summary = replay(recording, None)
    night = _night_start(recording.t_s, recording.rr_ms, 0.0)
    end = float(recording.t_s[-1])
    sleep_h = (min(night + NIGHT_S, end) - night) / 3600
    prompts = [o for o in outcomes if isinstance(o, Prompt)]
    in_sleep = sum(night <= p.t_s < night + NIGHT_S for p in prompts)
    return FirstShiftResult(
        record=f"{path.parent.name.removeprefix('physionet_')}/{path.stem}",
        hours=summary.duration_s / 3600,
        sleep_h=sleep_h,
        sleep_prompts=in_sleep,
        day_prompts=len(prompts) - in_sleep,
        prompt_times_h=tuple(round(p.t_s / 3600, 2) for p in prompts),
    )


def first_shifts(paths: list[Path]) -> list[FirstShiftResult]:
    with ProcessPoolExecutor() as pool:
        return list(pool.map(first_shift_result, paths))


def first_shift_table(results: list[FirstShiftResult]) -> str:
    """Prompts per 12 h overall, in the sleep-like 6 h and the rest; per-record spread and the worst."""
    hours = sum(r.hours for r in results)
    sleep_h = sum(r.sleep_h for r in results)
    sleep_prompts = sum(r.sleep_prompts for r in results)
    day_prompts = sum(r.day_prompts for r in results)
    per_record = sorted(r.sleep_prompts + r.day_prompts for r in results)
    worst = max(results, key=lambda r: r.sleep_prompts + r.day_prompts)
    rows = [
        [
            str(len(results)),
            f"{hours:.0f}",
            f"{sleep_prompts + day_prompts} ({12 * (sleep_prompts + day_prompts) / hours:.2f})",
            f"{sleep_prompts} ({12 * sleep_prompts / sleep_h:.2f})",
            f"{day_prompts} ({12 * day_prompts / (hours - sleep_h):.2f})",
            f"{statistics.median(per_record):g}",
            f"{worst.sleep_prompts + worst.day_prompts} ({worst.record})",
            str(sum(r.sleep_prompts + r.day_prompts > 2 for r in results)),
        ]
    ]
    header = [
        "records",
        "hours",
        "prompts (per 12 h)",
        "in the lowest-HR 6 h",
        "in the rest",
        "per record, median",
        "worst record",
        "records over 2",
    ]
    return markdown_table(header, rows)


def nights(limit: int | None) -> list[NightResult]:
    folder = corpus_path("physionet_nsr2db")
    records = sorted(folder.glob("nsr*.ecg"))[:limit]
    with ProcessPoolExecutor() as pool:
        return list(pool.map(night_result, records))


def nights_table(results: list[NightResult]) -> str:
    night_h = sum(r.night_h for r in results)
    day_h = sum(r.day_h for r in results)
    night_prompts = sum(r.night_prompts for r in results)
    day_prompts = sum(r.day_prompts for r in results)
    with_day = sum(r.day_prompts > 0 for r in results)
    worst = max(results, key=lambda r: r.night_prompts + r.day_prompts)
    rows = [
        [
            "night (6 h of lowest HR)",
            str(len(results)),
            f"{night_h:.0f}",
            str(night_prompts),
            f"{12 * night_prompts / night_h:.2f}",
            str(sum(r.night_candidates for r in results)),
            str(sum(r.night_prompts > 0 for r in results)),
        ],
        [
            "rest of the day (ambulatory)",
            str(len(results)),
            f"{day_h:.0f}",
            str(day_prompts),
            f"{12 * day_prompts / day_h:.2f}",
            "",
            str(with_day),
        ],
    ]
    header = ["nsr2db part", "records", "hours", "prompts", "per 12 h", "strain entries", "records with any"]
    baseline = statistics.median(r.baseline_h for r in results)
    total, hours = night_prompts + day_prompts, night_h + day_h
    return markdown_table(header, rows) + (
        f"\n\nbaseline per record: median {baseline:.1f} h; overall {total} prompts in {hours:.0f} h"
        f" ({12 * total / hours:.2f} per 12 h); worst record {worst.record}"
        f" ({worst.night_prompts + worst.day_prompts})"
    )


GUDB_TASKS = ("sitting", "maths", "walking", "jogging")
FS_GUDB = 250.0


def _gudb_rr(subject: Path, task: str) -> np.ndarray | None:
    path = subject / task / "annotation_cs.tsv"
    if not path.exists():
        return None
    peaks = np.loadtxt(path).astype(np.int64)
    rr = np.diff(peaks) / FS_GUDB * 1000.0
    return rr[(rr > 250) & (rr < 2000)]


def _reading_of_task(rr: np.ndarray, check_in: CheckIn) -> str:
    """What the assessment reads over a task: the majority gate, else low/usual by the median z."""
    assessor = Assessor(Profile(check_in=check_in))
    stream = HRVStream()
    t = np.cumsum(rr) / 1000.0
    gates: list[Gate] = []
    zs: list[float] = []
    for time_s, value in zip(t, rr, strict=True):
        window = stream.push(float(time_s), float(value)).window(60.0)
        reading = WindowReading(float(time_s), window.ln_rmssd, window.mean_hr_bpm, str(window.quality))
        assessor.update(reading)
        if assessor.current is not None and assessor.current.t_s == time_s:  # a tick on this beat
            gates.append(assessor.current.gate)
            if assessor.current.z is not None:
                zs.append(assessor.current.z)
    counted = Counter(gates)
    if counted[Gate.EFFORT] + counted[Gate.AFTER_EFFORT] > len(gates) / 2:
        return "effort"
    if not zs:
        return "no data"
    return "low" if statistics.median(zs) <= -1.0 else "usual"


def gudb_table() -> str:
    folder = corpus_path("gudb_rpeak_annotations")
    deltas: dict[str, list[float]] = {task: [] for task in GUDB_TASKS}
    readings: dict[str, Counter[str]] = {task: Counter() for task in GUDB_TASKS}
    for subject in sorted(folder.glob("subject_*")):
        sitting = _gudb_rr(subject, "sitting")
        if sitting is None:
            continue
        base = time_domain(sitting)
        check_in = CheckIn(
            math.log(base.rmssd_ms), base.rmssd_ms, 60000.0 / base.mean_nn_ms, sitting.size, 0.0
        )
        for task in GUDB_TASKS:
            rr = _gudb_rr(subject, task)
            if rr is None:
                continue
            deltas[task].append(math.log(time_domain(rr).rmssd_ms) - check_in.ln_rmssd)
            readings[task][_reading_of_task(rr, check_in)] += 1
    rows = []
    for task in GUDB_TASKS:
        d = np.asarray(deltas[task])
        half = 1.96 * d.std(ddof=1) / math.sqrt(d.size) if d.size > 1 else 0.0
        counts = readings[task]
        rows.append(
            [
                task,
                str(d.size),
                f"{d.mean():+.2f} ({d.mean() - half:+.2f} to {d.mean() + half:+.2f})",
                f"{int((d < 0).sum())}/{d.size}",
                *(str(counts[k]) for k in ("effort", "low", "usual", "no data")),
            ]
        )
    header = [
        "task",
        "people",
        "lnRMSSD vs sitting (95% CI)",
        "lower than sitting",
        "read: effort",
        "low",
        "usual",
        "no data",
    ]
    return markdown_table(header, rows)


def bandit_curve(people: int, advantage: float, episodes: int = 60, block: int = 10) -> list[float]:
    """Share of decisions picking the truly best practice, per block of episodes, over simulated people."""
    practices = [p.id for p in eligible(Trigger.SUSTAINED_LOW, Place.BEDSIDE)]
    x = context_vector(Trigger.SUSTAINED_LOW, False, -1.3, 0)
    hits = np.zeros(episodes)
    for person in range(people):
        rng = np.random.default_rng(10_000 + person)
        best = practices[person % len(practices)]
        learner = PracticeLearner(seed=person)
        for episode in range(episodes):
            choice = learner.choose(practices, x)
            hits[episode] += choice.practice == best
            mean = advantage if choice.practice == best else 0.0
            learner.learn(choice.practice, x, mean + float(rng.normal()))
    shares = hits / people
    return [float(shares[k : k + block].mean()) for k in range(0, episodes, block)]


def bandit_table(people: int) -> str:
    practices = eligible(Trigger.SUSTAINED_LOW, Place.BEDSIDE)
    ceiling = 1 - 0.1 * (len(practices) - 1)
    rows = []
    for advantage in (1.0, 0.5):
        curve = bandit_curve(people, advantage)
        rows.append([f"+{advantage:.1f} SD", *(f"{100 * share:.0f} %" for share in curve)])
    header = ["best practice's advantage", *(f"episodes {k + 1}-{k + 10}" for k in range(0, 60, 10))]
    chance = 100 / len(practices)
    note = (
        f"\n\n{len(practices)} practices, {people} simulated people; chance {chance:.0f} %, "
        f"ceiling {100 * ceiling:.0f} % (every practice keeps a probability of at least 0.1)"
    )
    return markdown_table(header, rows) + note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=None, help="only the first N nsr2db records")
    parser.add_argument("--people", type=int, default=200, help="simulated people for the learner")
    parser.add_argument("--only", choices=("first-shift", "baseline", "gudb", "learner"), default=None)
    args = parser.parse_args()
    if args.only in (None, "first-shift"):
        print("## First shift with a new strap: whole 24-h records replayed with no baseline\n")
        nsr = sorted(corpus_path("physionet_nsr2db").glob("nsr*.ecg"))[: args.records]
        healthy = sorted(corpus_path("physionet_rr_healthy_subjects").glob("[0-9]*.txt"))
        for name, paths in (("nsr2db (tuned on)", nsr), ("RR of healthy subjects (held out)", healthy)):
            results = first_shifts(paths)
            print(f"### {name}\n")
            print(first_shift_table(results))
            print()
        if args.only is not None:
            return
    print("## Calm nights (nsr2db): prompts that should not happen\n")
    print(nights_table(nights(args.records)))
    print("\n## GUDB: rest, mental arithmetic, walking, jogging\n")
    print(gudb_table())
    print("\n## Learning what works: share of decisions picking the best practice\n")
    print(bandit_table(args.people))


if __name__ == "__main__":
    main()
