"""Does restbeat still prompt when it should?  Scripted sustained lows at rest, and real mental arithmetic.

    python -m benchmarks.prompt_sensitivity [--seeds 4]

1. Scripted shifts (devices/rr_synth; the scenario tests' calm person, vagal withdrawal at rest: RSA 90 -> 28
   ms, HR 70 -> 74 bpm) with a sustained low of 10, 15 or 20 min, for four people: one known from three past
   calm shifts, one with only today's check-in, and two first shifts with no baseline at all, the low coming
   after 1 h (a young reference of their own) or after 4 h (a mature one).  Each is run through the live
   pipeline with strap artifacts; the delay is from the start of the low to the prompt.
2. GUDB (25 people; chest-strap R peaks; CC-BY 3.0): the 2-min sitting reading is the check-in; a shift is
   built from the person's own beats: sitting repeated for 30 min, mental arithmetic repeated for 10 min,
   sitting again for 10 min.  Whether maths was a sustained low for that person is read from the reading
   itself (median 60-s z over the maths block <= -1, the entry threshold).
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks._timing import markdown_table
from benchmarks.data import corpus_path
from restbeat.app.pipeline import ShiftPipeline
from restbeat.app.replay import learn_shift, profile_from, readings
from restbeat.beats import BeatClass, BeatQuality
from restbeat.devices.rr_synth import Phase, synthesize
from restbeat.recovery.assess import Profile
from restbeat.recovery.baseline import CheckIn
from restbeat.recovery.recommend import Prompt
from restbeat.signal.artifacts import CleanBeat
from restbeat.signal.metrics import time_domain

CALM = Phase(0, 70, rsa_ms=90, mayer_ms=25, noise_ms=8, drift_ms=15, label="calm")
LOW = replace(CALM, hr_bpm=74, rsa_ms=28, mayer_ms=8, noise_ms=4, drift_ms=8, label="low")
DURATIONS_MIN = (10, 15, 20)


def _phase(base: Phase, minutes: float) -> Phase:
    return replace(base, duration_s=minutes * 60.0)


def _clean(t_s: Sequence[float], rr_ms: Sequence[float]) -> list[CleanBeat]:
    return [CleanBeat(t, v, 0, BeatQuality.GOOD, BeatClass.NORMAL) for t, v in zip(t_s, rr_ms, strict=True)]


def known_person() -> Profile:
    """Three calm synthetic shifts of 3 h (the scenario tests' person)."""
    shifts = []
    for seed in (21, 22, 23):
        rr = synthesize([_phase(CALM, 180)], seed=seed)
        shifts.append(learn_shift(readings(_clean(rr.t_s.tolist(), rr.rr_ms.tolist())), shift=seed))
    return profile_from(shifts)


def check_in_person(seed: int) -> Profile:
    """Only today's check-in: 2 min of the calm rhythm."""
    rr = synthesize([_phase(CALM, 3)], seed=seed).rr_ms[-150:]
    metrics = time_domain(rr)
    check_in = CheckIn(
        math.log(metrics.rmssd_ms), metrics.rmssd_ms, 60000.0 / metrics.mean_nn_ms, rr.size, 0.0
    )
    return Profile(check_in=check_in)


@dataclass(frozen=True, slots=True)
class Run:
    situation: str
    low_min: float
    prompted: bool
    delay_min: float


def run_shift(profile: Profile, calm_before_min: float, low_min: float, seed: int) -> tuple[bool, float]:
    """A shift with a sustained low after ``calm_before_min``: prompted during the low or up to 10 min after
    it began to lift, and the delay (min) from its start."""
    phases = [_phase(CALM, calm_before_min), _phase(LOW, low_min), _phase(CALM, 30)]
    rr = synthesize(phases, seed=seed, artifacts_per_hour=6)
    pipeline = ShiftPipeline(profile=profile)
    prompts: list[Prompt] = []
    for t, value in zip(rr.t_s.tolist(), rr.rr_ms.tolist(), strict=True):
        prompts += [o for o in pipeline.push(t, value) if isinstance(o, Prompt)]
    onset = calm_before_min * 60.0
    during = [p for p in prompts if onset <= p.t_s <= onset + (low_min + 10) * 60.0]
    if not during:
        return False, math.inf
    return True, (during[0].t_s - onset) / 60.0


def scripted(seeds: int) -> list[Run]:
    known = known_person()
    runs = []
    for low_min in DURATIONS_MIN:
        for seed in range(seeds):
            cases = [
                ("known person (3 past shifts)", known, 45.0),
                ("today's check-in only", check_in_person(100 + seed), 45.0),
                ("first shift, low after 1 h", Profile(), 60.0),
                ("first shift, low after 4 h", Profile(), 240.0),
            ]
            for situation, profile, before in cases:
                prompted, delay = run_shift(profile, before, low_min, seed=1000 * seed + int(low_min))
                runs.append(Run(situation, low_min, prompted, delay))
    return runs


def scripted_table(runs: list[Run]) -> str:
    rows = []
    situations = list(dict.fromkeys(run.situation for run in runs))
    for situation in situations:
        for low_min in DURATIONS_MIN:
            chosen = [r for r in runs if r.situation == situation and r.low_min == low_min]
            delays = [r.delay_min for r in chosen if r.prompted]
            rows.append(
                [
                    situation,
                    f"{low_min:g} min",
                    f"{len(delays)}/{len(chosen)}",
                    f"{statistics.median(delays):.1f}" if delays else "-",
                    f"{max(delays):.1f}" if delays else "-",
                ]
            )
    header = ["person", "sustained low", "prompted", "delay, median (min)", "delay, worst (min)"]
    return markdown_table(header, rows)


def _gudb_rr(subject: Path, task: str) -> np.ndarray | None:
    path = subject / task / "annotation_cs.tsv"
    if not path.exists():
        return None
    rr = np.diff(np.loadtxt(path)) * 4.0  # 250 Hz samples -> ms
    kept: np.ndarray = rr[(rr > 300) & (rr < 2000)]
    return kept


def _repeat(rr: np.ndarray, minutes: float) -> np.ndarray:
    count = math.ceil(minutes * 60_000.0 / float(rr.sum()))
    repeated: np.ndarray = np.tile(rr, count)
    return repeated[np.cumsum(repeated) <= minutes * 60_000.0]


def gudb_runs() -> list[tuple[str, bool, bool, float]]:
    """(subject, maths read as a sustained low, prompted, delay min) for every subject with both tasks."""
    out = []
    for subject in sorted(corpus_path("gudb_rpeak_annotations").glob("subject_*")):
        sitting, maths = _gudb_rr(subject, "sitting"), _gudb_rr(subject, "maths")
        if sitting is None or maths is None or sitting.size < 60 or maths.size < 60:
            continue
        base = time_domain(sitting)
        check_in = CheckIn(
            math.log(base.rmssd_ms), base.rmssd_ms, 60000.0 / base.mean_nn_ms, sitting.size, 0.0
        )
        rr = np.concatenate([_repeat(sitting, 30), _repeat(maths, 10), _repeat(sitting, 10)])
        t = np.cumsum(rr) / 1000.0
        pipeline = ShiftPipeline(profile=Profile(check_in=check_in))
        prompts: list[Prompt] = []
        zs: list[float] = []
        onset = 30 * 60.0
        for time_s, value in zip(t.tolist(), rr.tolist(), strict=True):
            prompts += [o for o in pipeline.push(time_s, value) if isinstance(o, Prompt)]
            current = pipeline.assessment
            if (
                current
                and current.t_s == time_s
                and onset + 60 <= time_s <= onset + 600
                and current.z is not None
            ):
                zs.append(current.z)
        low = bool(zs) and statistics.median(zs) <= -1.0
        during = [p for p in prompts if onset <= p.t_s <= onset + 20 * 60]
        delay = (during[0].t_s - onset) / 60.0 if during else math.inf
        out.append((subject.name, low, bool(during), delay))
    return out


def gudb_table(runs: list[tuple[str, bool, bool, float]]) -> str:
    rows = []
    for label, want in (("maths a sustained low (median z <= -1)", True), ("maths not low", False)):
        chosen = [r for r in runs if r[1] is want]
        delays = [r[3] for r in chosen if r[2]]
        rows.append(
            [
                label,
                str(len(chosen)),
                f"{len(delays)}/{len(chosen)}",
                f"{statistics.median(delays):.1f}" if delays else "-",
                f"{max(delays):.1f}" if delays else "-",
            ]
        )
    header = ["GUDB people", "n", "prompted", "delay, median (min)", "delay, worst (min)"]
    return markdown_table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    print("## Scripted sustained lows at rest\n")
    print(scripted_table(scripted(args.seeds)))
    print("\n## GUDB mental arithmetic between sitting\n")
    print(gudb_table(gudb_runs()))


if __name__ == "__main__":
    main()
