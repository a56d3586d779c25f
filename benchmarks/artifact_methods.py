"""The methods of the artifact evaluation, run on the same inputs: restbeat (batch and stream) and its peers.

Peers run in their own virtual environments (benchmarks/.peer-envs, created on first use) because their pins
clash: systole 0.3.1 needs numpy < 2.3; hrv-analysis 1.0.6 needs nolds 0.5.2 (0.6.x fails to import).
neurokit2 runs in the project environment.  systole's function is ``systole.correction.correct_rr``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from benchmarks.artifact_scoring import Output, output_from_intervals
from restbeat.signal import artifacts

HERE = Path(__file__).resolve().parent
PEER_ENVS = HERE / ".peer-envs"
#: pip install steps per peer (hrv-analysis declares nolds>=0.6.3, which fails to import; 0.5.2 works)
PEER_REQUIREMENTS = {
    "systole": [["systole==0.3.1"]],
    "hrv-analysis": [["hrv-analysis==1.0.6"], ["--no-deps", "nolds==0.5.2"]],
}
OURS = ("restbeat", "restbeat (stream)")
#: the previous version of restbeat's correction, run from the source folder in $RESTBEAT_BEFORE_SRC (a
#: checkout of an earlier commit: git worktree add /tmp/before <commit>; RESTBEAT_BEFORE_SRC=/tmp/before/src)
BEFORE = "restbeat (before)"


def peer_python(name: str) -> str:
    """The Python of a peer's environment, created with its pinned requirements on first use."""
    if name in ("neurokit2", BEFORE):
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


def run_peer(name: str, series: list[NDArray[np.float64]]) -> list[Output]:
    """Run a peer on every series in one subprocess of its environment."""
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(source, **cast("dict[str, Any]", {f"rr_{k}": rr for k, rr in enumerate(series)}))
        env = None
        if name == BEFORE:
            env = {**os.environ, "PYTHONPATH": os.environ["RESTBEAT_BEFORE_SRC"]}
        subprocess.run(
            [peer_python(name), str(HERE / "peer_runner.py"), name, str(source), str(target)],
            check=True,
            env=env,
        )
        data = np.load(target)
        outputs = []
        for k in range(len(series)):
            corrected = data[f"corrected_{k}"]
            times = data[f"times_{k}"] if f"times_{k}" in data.files else None
            output = output_from_intervals(corrected, data[f"flags_{k}"], float(data[f"seconds_{k}"]))
            if times is not None:
                output = Output(times, output.rr_ms, output.segment_ids, output.flags, output.seconds)
            outputs.append(output)
        return outputs


def run_batch(rr: NDArray[np.float64]) -> Output:
    """restbeat's batch correction (plausibility, detection, correction, range gate)."""
    start = time.perf_counter()
    corrected = artifacts.correct_rr(rr)
    seconds = time.perf_counter() - start
    return output_from_intervals(
        corrected.rr_ms,
        corrected.input_class != artifacts.NORMAL,
        seconds,
        t_end_s=corrected.t_s,
        segment_ids=corrected.segment_ids,
    )


def run_stream(rr: NDArray[np.float64]) -> Output:
    """restbeat's streaming correction, one beat at a time."""
    from restbeat.signal.artifacts.stream import ArtifactStream

    start = time.perf_counter()
    stream = ArtifactStream(record_classes=True)
    values: list[float] = []
    ends: list[float] = []
    segments: list[int] = []
    t = 0.0
    for value in rr.tolist():
        t += value / 1000.0
        for beat in stream.push(t, value):
            if beat.quality.name in ("GOOD", "CORRECTED"):
                values.append(beat.rr_ms)
                ends.append(beat.t_s)
                segments.append(beat.segment)
    for beat in stream.flush():
        if beat.quality.name in ("GOOD", "CORRECTED"):
            values.append(beat.rr_ms)
            ends.append(beat.t_s)
            segments.append(beat.segment)
    seconds = time.perf_counter() - start
    flags = np.zeros(rr.size, dtype=bool)
    for index, code in stream.input_classes():
        flags[index] = code != artifacts.NORMAL
    return output_from_intervals(
        np.asarray(values), flags, seconds, t_end_s=np.asarray(ends), segment_ids=np.asarray(segments)
    )


def run(method: str, series: list[NDArray[np.float64]]) -> list[Output]:
    """Every series through one method (peers in one subprocess)."""
    if method == "restbeat":
        artifacts.correct_rr(series[0][:600])  # warm-up (scipy imports)
        return [run_batch(rr) for rr in series]
    if method == "restbeat (stream)":
        return [run_stream(rr) for rr in series]
    return run_peer(method, series)
