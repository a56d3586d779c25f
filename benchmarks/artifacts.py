"""Artifact detection and correction: restbeat against neurokit2, systole and hrv-analysis, in one run.

Run:  python -m benchmarks.artifacts [--records nsr001,nsr002,nsr003] [--rates 1,2,5] [--peers ...]
      python -m benchmarks.artifacts --figure docs/img/polar_h10_pvc.png   (only the Polar H10 figure)

1. Injected artifacts: clean 24-h N-to-N series from PhysioNet nsr2db (ODC-By 1.0) get ectopic pairs, missed,
   extra, long and short intervals at each rate (benchmarks/injection.py, seeded).  Scores: per-class and
   overall sensitivity (an event counts as detected when an interval it touched, or a neighbour, is flagged),
   specificity over the untouched intervals, and the relative error of RMSSD, SDNN and HF power (Welch) of the
   corrected series against the clean one; wall time of the correction call.
2. Real ectopy: every beat of PhysioNet chf2db and ltdb (ODC-By 1.0) records; the annotators' ectopic labels
   (V, S, A, a, J, F, e, j, E) are the truth.  A labelled beat counts as detected when the interval it ends or
   the next one is flagged; false positives are flags on runs of five N beats.  Many labelled beats are not
   premature at all (runs of atrial tachycardia, late-coupled ventricular beats) and so invisible in RR;
   the detection rate of those that came early (< 80 % of the interval before) is reported beside.
3. Streaming: restbeat's streaming detector against its batch detector on a real 24-h series (all beats of
   nsr001): class agreement.

Peers run in their own virtual environments (benchmarks/.peer-envs, created on first use) because their pins
clash: systole 0.3.1 needs numpy < 2.3; hrv-analysis 1.0.6 needs nolds 0.5.2 (0.6.x fails to import).
neurokit2 runs in the project environment.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from benchmarks._timing import markdown_table
from benchmarks.injection import KINDS, Injected, inject
from restbeat.beats import BeatQuality
from restbeat.signal import artifacts, spectrum
from restbeat.signal.metrics import time_domain
from tests.support.shared_data import shared

HERE = Path(__file__).resolve().parent
PEER_ENVS = HERE / ".peer-envs"
#: pip install steps per peer (hrv-analysis declares nolds>=0.6.3, which fails to import; 0.5.2 works)
PEER_REQUIREMENTS = {
    "systole": [["systole==0.3.1"]],
    "hrv-analysis": [["hrv-analysis==1.0.6"], ["--no-deps", "nolds==0.5.2"]],
}
ECTOPIC_SYMBOLS = frozenset("VSAaJFejE")
PREMATURE_BELOW = 0.8  # an ectopic beat is visible in RR when its interval is < 80 % of the one before
SINUS_SYMBOLS = frozenset("NLRB")


# --- running the methods ---------------------------------------------------------------------------------


def peer_python(name: str) -> str:
    """The Python of a peer's environment, created with its pinned requirements on first use."""
    if name == "neurokit2":
        return sys.executable
    env = PEER_ENVS / name
    python = env / "bin" / "python"
    if not python.exists():
        print(f"creating the {name} environment in {env} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        for step in PEER_REQUIREMENTS[name]:
            install = subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", *step],
                capture_output=True,
                text=True,
                check=False,
            )
            if install.returncode:
                raise RuntimeError(f"installing {' '.join(step)} for {name} failed:\n{install.stderr}")
    return str(python)


@dataclass(frozen=True)
class MethodResult:
    """One method's output on one series: corrected intervals, flags per input interval, seconds."""

    corrected: NDArray[np.float64]
    flags: NDArray[np.bool_]
    seconds: float


def run_peer(name: str, series: list[NDArray[np.float64]]) -> list[MethodResult]:
    """Run a peer on every series in one subprocess of its environment."""
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(source, **cast("dict[str, Any]", {f"rr_{k}": rr for k, rr in enumerate(series)}))
        subprocess.run(
            [peer_python(name), str(HERE / "peer_runner.py"), name, str(source), str(target)],
            check=True,
        )
        data = np.load(target)
        return [
            MethodResult(data[f"corrected_{k}"], data[f"flags_{k}"], float(data[f"seconds_{k}"]))
            for k in range(len(series))
        ]


def run_restbeat(series: list[NDArray[np.float64]]) -> list[MethodResult]:
    """restbeat's batch correction (plausibility, detection, correction, range gate)."""
    artifacts.correct_rr(series[0][:600])  # warm-up (scipy imports)
    results = []
    for rr in series:
        start = time.perf_counter()
        corrected = artifacts.correct_rr(rr)
        seconds = time.perf_counter() - start
        flags = corrected.input_class != artifacts.NORMAL
        results.append(MethodResult(corrected.rr_ms, flags, seconds))
    return results


def run_restbeat_stream(series: list[NDArray[np.float64]]) -> list[MethodResult]:
    """restbeat's streaming detector, beat by beat (causal thresholds, 3-beat look-ahead)."""
    from restbeat.signal.artifact_stream import ArtifactStream

    results = []
    for rr in series:
        start = time.perf_counter()
        stream = ArtifactStream(record_classes=True)
        out: list[float] = []
        flags = np.zeros(rr.size, dtype=bool)
        t = 0.0
        for value in rr.tolist():
            t += value / 1000.0
            for beat in stream.push(t, value):
                out.append(beat.rr_ms)
        for beat in stream.flush():
            out.append(beat.rr_ms)
        seconds = time.perf_counter() - start
        for index, code in stream.input_classes():
            flags[index] = code != artifacts.NORMAL
        results.append(MethodResult(np.asarray(out), flags, seconds))
    return results


# --- scoring ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """Detection and correction quality of one method on one injected series."""

    sensitivity: dict[str, float]
    overall_sensitivity: float
    specificity: float
    rmssd_error_pct: float
    sdnn_error_pct: float
    hf_error_pct: float
    seconds: float


def _hf(rr: NDArray[np.float64]) -> float:
    return spectrum.band_powers(spectrum.welch_psd(rr)).hf_ms2


def score(clean: NDArray[np.float64], injected: Injected, result: MethodResult) -> Score:
    """Event sensitivity per class, interval specificity, and metric errors against the clean series."""
    flags = result.flags
    near_flag = np.convolve(flags.astype(int), [1, 1, 1], mode="same") > 0
    hits: dict[str, list[bool]] = {kind: [] for kind in KINDS}
    for code, affected in injected.events:
        hits[KINDS[code - 1]].append(bool(near_flag[list(affected)].any()))
    touched = np.convolve((injected.labels != 0).astype(int), [1, 1, 1], mode="same") > 0
    untouched_flags = flags[~touched]
    truth = time_domain(clean)
    corrected = time_domain(result.corrected)
    all_hits = [hit for values in hits.values() for hit in values]
    return Score(
        sensitivity={
            kind: float(np.mean(values)) if values else float("nan") for kind, values in hits.items()
        },
        overall_sensitivity=float(np.mean(all_hits)) if all_hits else float("nan"),
        specificity=1.0 - float(np.mean(untouched_flags)),
        rmssd_error_pct=100.0 * (corrected.rmssd_ms / truth.rmssd_ms - 1.0),
        sdnn_error_pct=100.0 * (corrected.sdnn_ms / truth.sdnn_ms - 1.0),
        hf_error_pct=100.0 * (_hf(result.corrected) / _hf(clean) - 1.0),
        seconds=result.seconds,
    )


def _pct(value: float, decimals: int = 1) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.{decimals}f}"


def _mean_abs(values: list[float]) -> str:
    return f"{statistics.mean(abs(v) for v in values):.2f}"


def injected_table(records: list[str], rates: list[float], methods: list[str]) -> str:
    """Run every method on every record and rate; one row per (rate, method), averaged over records."""
    cleans = [artifacts_free_nn(record) for record in records]
    for record, clean in zip(records, cleans, strict=True):
        if not is_sinus_rhythm(clean):
            raise SystemExit(
                f"{record} is not a clean sinus-rhythm series (see is_sinus_rhythm); pick another"
            )
    rows = []
    for rate in rates:
        cases = [inject(clean, rate, seed=1000 * int(rate * 100) + k) for k, clean in enumerate(cleans)]
        series = [case.rr_ms for case in cases]
        for method in methods:
            if method == "restbeat":
                results = run_restbeat(series)
            elif method == "restbeat (stream)":
                results = run_restbeat_stream(series)
            else:
                results = run_peer(method, series)
            scores = [
                score(clean, case, result) for clean, case, result in zip(cleans, cases, results, strict=True)
            ]
            per_class = " / ".join(
                _pct(statistics.mean(s.sensitivity[kind] for s in scores), 1) for kind in KINDS
            )
            rows.append(
                [
                    f"{rate * 100:g} %",
                    method,
                    f"{statistics.median(s.seconds for s in scores):.2f}",
                    _pct(statistics.mean(s.overall_sensitivity for s in scores)),
                    per_class,
                    _pct(statistics.mean(s.specificity for s in scores), 2),
                    _mean_abs([s.rmssd_error_pct for s in scores]),
                    _mean_abs([s.sdnn_error_pct for s in scores]),
                    _mean_abs([s.hf_error_pct for s in scores]),
                ]
            )
            print(f"  done: {rate * 100:g} % {method}", file=sys.stderr, flush=True)
    header = [
        "artifacts",
        "method",
        "time s",
        "sens %",
        "sens E/M/X/L/S %",
        "spec %",
        "|RMSSD err| %",
        "|SDNN err| %",
        "|HF err| %",
    ]
    return markdown_table(header, rows)


# --- data ------------------------------------------------------------------------------------------------


def artifacts_free_nn(record: str) -> NDArray[np.float64]:
    """The clean series of an nsr2db record: its N-to-N intervals within 300-2000 ms, in order.

    (Intervals touching a non-N beat are left out; so are recording gaps such as the 41.9-s "N-to-N"
    interval of nsr039.)
    """
    from restbeat.devices.files import read_wfdb_annotations

    nn = read_wfdb_annotations(shared("physionet_nsr2db", f"{record}.ecg")).rr_ms
    return nn[(nn >= 300) & (nn <= 2000)]


def is_sinus_rhythm(nn: NDArray[np.float64]) -> bool:
    """The a-priori inclusion rule: at most 1 % of successive intervals change by more than 20 %.

    Excludes nsr014 (5.6 %), nsr017 (1.7 %) and nsr024 (1.1 %), whose erratic rhythms no RR-only method
    can tell from artifacts.
    """
    changes = np.abs(np.diff(nn)) / nn[:-1]
    return float(np.mean(changes > 0.2)) <= 0.01


def all_beat_intervals(path: Path, annotator: str) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    """RR between consecutive beats of any label, and the label of the beat ending each interval."""
    import wfdb

    annotation = wfdb.rdann(str(path), annotator)
    symbols = np.asarray(annotation.symbol)
    samples = np.asarray(annotation.sample)
    beat = np.isin(symbols, list(ECTOPIC_SYMBOLS | SINUS_SYMBOLS | set("Q/fn")))
    samples, symbols = samples[beat], symbols[beat]
    return np.diff(samples) * (1000.0 / float(annotation.fs)), symbols[1:]


def real_ectopy_table(methods: list[str]) -> str:
    """Detection rate of annotated ectopic beats and false flags on N runs, chf2db + ltdb."""
    sources = [(shared("physionet_chf2db"), "ecg"), (shared("physionet_ltdb"), "atr")]
    series, labels, names = [], [], []
    for folder, annotator in sources:
        for record in (folder / "RECORDS").read_text().split():
            rr, symbols = all_beat_intervals(folder / record, annotator)
            series.append(rr)
            labels.append(symbols)
            names.append(f"{folder.name.removeprefix('physionet_')}/{record}")
    rows = []
    for method in methods:
        results = run_restbeat(series) if method == "restbeat" else run_peer(method, series)
        detected = ectopic = detected_premature = premature = false_flags = sinus_runs = 0
        for rr, symbols, result in zip(series, labels, results, strict=True):
            is_ectopic = np.isin(symbols, list(ECTOPIC_SYMBOLS))
            flags = result.flags
            flagged_here_or_next = flags | np.append(flags[1:], False)
            detected += int(np.count_nonzero(flagged_here_or_next & is_ectopic))
            ectopic += int(np.count_nonzero(is_ectopic))
            # visible in the RR series at all: the ectopic beat came early (< 80 % of the interval before)
            early = is_ectopic & (rr < PREMATURE_BELOW * np.concatenate([[np.inf], rr[:-1]]))
            detected_premature += int(np.count_nonzero(flagged_here_or_next & early))
            premature += int(np.count_nonzero(early))
            sinus = np.isin(symbols, list(SINUS_SYMBOLS)).astype(int)
            run_of_five = np.convolve(sinus, np.ones(5, dtype=int), mode="same") == 5
            false_flags += int(np.count_nonzero(flags & run_of_five))
            sinus_runs += int(np.count_nonzero(run_of_five))
        rows.append(
            [
                method,
                f"{len(series)}",
                f"{ectopic}",
                f"{100 * detected / ectopic:.1f}",
                f"{premature}",
                f"{100 * detected_premature / premature:.1f}",
                f"{1000 * false_flags / sinus_runs:.2f}",
                f"{sum(r.seconds for r in results):.1f}",
            ]
        )
        print(f"  done: real ectopy {method}", file=sys.stderr, flush=True)
    header = [
        "method",
        "records",
        "ectopic beats",
        "detected %",
        "of them premature",
        "premature detected %",
        "false flags /1000 N",
        "time s",
    ]
    return markdown_table(header, rows)


def stream_agreement_table() -> str:
    """Class agreement of streaming and batch detection on every beat of nsr001 (24 h)."""
    from restbeat.signal.artifact_stream import ArtifactStream

    rr, _ = all_beat_intervals(shared("physionet_nsr2db", "nsr001"), "ecg")
    batch = artifacts.correct_rr(rr).input_class
    stream = ArtifactStream(record_classes=True)
    t = 0.0
    start = time.perf_counter()
    for value in rr.tolist():
        t += value / 1000.0
        stream.push(t, value)
    stream.flush()
    per_beat_us = 1e6 * (time.perf_counter() - start) / rr.size
    streamed = np.zeros(rr.size, dtype=np.int8)
    for index, code in stream.input_classes():
        streamed[index] = code
    agree = float(np.mean(streamed == batch))
    either = (streamed != artifacts.NORMAL) | (batch != artifacts.NORMAL)
    agree_flagged = float(np.mean(streamed[either] == batch[either]))
    rows = [
        [
            "nsr001, all beats",
            f"{rr.size}",
            f"{100 * agree:.2f}",
            f"{100 * agree_flagged:.1f} ({int(either.sum())})",
            f"{per_beat_us:.1f}",
        ]
    ]
    header = ["series", "beats", "same class %", "same class among flagged % (n)", "stream µs/beat"]
    return markdown_table(header, rows)


# --- figure ----------------------------------------------------------------------------------------------


def polar_figure(path: Path) -> None:
    """Raw and corrected RR of the Polar H10 recording with frequent PVCs (detectPVC, MIT licence)."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with shared("polar_h10_detectPVC", "polar_h10_rr_only.csv").open() as handle:
        rr = np.array([float(row["rr_ms"]) for row in csv.DictReader(handle)])
    corrected = artifacts.correct_rr(rr)
    raw_t = np.cumsum(rr) / 1000.0
    changed = np.zeros(rr.size, dtype=bool)  # input intervals whose value correction changed
    changed[corrected.source[corrected.quality == BeatQuality.CORRECTED]] = True
    changed[corrected.input_class != artifacts.NORMAL] = True  # merged-away and excluded ones too
    fig, axes = plt.subplots(2, 1, figsize=(11, 6), sharex=True, constrained_layout=True)
    axes[0].plot(raw_t, rr, color="#555555", lw=0.8, label="RR from the strap")
    axes[0].scatter(
        raw_t[changed], rr[changed], s=12, color="#d55e00", zorder=3, label="corrected by restbeat"
    )
    axes[0].set_ylabel("RR (ms)")
    axes[0].set_title("Polar H10, 10 min with frequent premature ventricular beats (detectPVC, K. Broman)")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[1].plot(corrected.t_s, corrected.rr_ms, color="#0072b2", lw=0.9, label="corrected RR")
    axes[1].set_ylabel("RR (ms)")
    axes[1].set_xlabel("time (s)")
    summary = artifacts.class_counts_text(corrected.counts)
    axes[1].set_title(f"after correction ({summary} of {rr.size} intervals)", fontsize=10)
    axes[1].legend(loc="lower right", fontsize=8)
    for axis in axes:
        axis.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"figure written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records",
        default="nsr009,nsr011,nsr019,nsr021,nsr029,nsr031,nsr039,nsr041,nsr049,nsr051",
        help="nsr2db records (the defaults are held out: the detector was developed on nsr001-nsr008, "
        "nsr010, nsr015, nsr018, nsr020, nsr025, nsr028, nsr030, nsr035, nsr038, nsr040, nsr045, nsr048 "
        "and nsr050)",
    )
    parser.add_argument("--rates", default="0,1,2,5", help="artifact rates in per cent (0: the clean series)")
    parser.add_argument("--peers", default="neurokit2,systole,hrv-analysis")
    parser.add_argument("--figure", type=Path, help="only write the Polar H10 figure to this PNG")
    args = parser.parse_args()
    if args.figure:
        polar_figure(args.figure)
        return
    peers = [p for p in args.peers.split(",") if p]
    methods = ["restbeat", "restbeat (stream)", *peers]
    rates = [float(r) / 100 for r in args.rates.split(",")]
    print("## Injected artifacts (nsr2db " + ", ".join(args.records.split(",")) + ", 21-24 h each)\n")
    print(injected_table(args.records.split(","), rates, methods))
    print(
        "\nE/M/X/L/S = ectopic / missed / extra / long / short;"
        " errors are mean |relative error| over records."
    )
    print("\n## Real ectopic beats (all chf2db and ltdb records)\n")
    print(real_ectopy_table(["restbeat", *[p for p in peers if p in ("neurokit2", "systole")]]))
    print("\n## Streaming against batch\n")
    print(stream_agreement_table())


if __name__ == "__main__":
    main()
