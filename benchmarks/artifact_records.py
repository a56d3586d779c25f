"""The clean NN series of the artifact evaluation, split into records tuned on and records reported on.

Sets (sources and licences in each folder's SOURCE.txt):

* ``kubios``: the five 1-h NN series with Kubios reports (pyHRV, BSD-3-Clause; RMSSD 21-73 ms);
* ``nsr2db``: healthy 24-h Holter records (ODC-By 1.0), one hour each, from 2 h into the record;
* ``chf2db``: heart-failure Holter records (ODC-By 1.0), one hour each from 2 h in: low variability (RMSSD
  often under 20 ms), fast rates;
* ``gudb``: chest-strap R peaks of 2-min sitting and maths readings (CC-BY 3.0): the length of a check-in.

The clean series is the N-to-N intervals within 300-2000 ms in order.  No record is left out for being hard:
a series whose own rhythm is irregular (more than 1 % of successive intervals change by over 20 %: large
natural swings, or premature beats the annotators labelled N) is kept and marked, since such people wear
straps too; correcting what it holds is the floor of its RMSSD error (the 0 % row).

The split: the correction rules were tuned on ``TUNE`` only; ``REPORT`` was not looked at while tuning (the
README's tables come from it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from benchmarks.data import corpus_path

REPO = Path(__file__).resolve().parents[1]
EXCERPT_START_S = 2 * 3600.0
EXCERPT_S = 3600.0

TUNE = {
    "kubios": ["series_2", "series_4"],
    "nsr2db": ["nsr001", "nsr002", "nsr003", "nsr004", "nsr005", "nsr006", "nsr007", "nsr008"],
    "chf2db": ["chf201", "chf202", "chf203", "chf204", "chf205", "chf206", "chf207", "chf208"],
    "gudb": [f"subject_{k:02d}/{task}" for k in range(0, 8) for task in ("sitting", "maths")],
}
REPORT = {
    "kubios": ["series_1", "series_3", "series_5"],
    "nsr2db": [
        "nsr009",
        "nsr011",
        "nsr019",
        "nsr021",
        "nsr029",
        "nsr031",
        "nsr039",
        "nsr041",
        "nsr049",
        "nsr051",
    ],
    "chf2db": [f"chf2{k:02d}" for k in range(9, 30)],
    "gudb": [f"subject_{k:02d}/{task}" for k in range(8, 25) for task in ("sitting", "maths")],
}


@dataclass(frozen=True)
class Record:
    """A clean NN series (ms) and where it came from."""

    set_name: str
    name: str
    nn_ms: NDArray[np.float64]

    @property
    def irregular(self) -> bool:
        """More than 1 % of successive intervals change by over 20 %."""
        return not is_sinus_rhythm(self.nn_ms)

    @property
    def label(self) -> str:
        return f"{self.set_name}/{self.name}"

    @property
    def rmssd_ms(self) -> float:
        return float(np.sqrt(np.mean(np.diff(self.nn_ms) ** 2)))


def is_sinus_rhythm(nn: NDArray[np.float64]) -> bool:
    """At most 1 % of successive intervals change by more than 20 % (the a-priori inclusion rule)."""
    changes = np.abs(np.diff(nn)) / nn[:-1]
    return float(np.mean(changes > 0.2)) <= 0.01


def _holter_nn(folder: str, record: str, full: bool) -> NDArray[np.float64]:
    from restbeat.devices.files import read_wfdb_annotations

    nn = read_wfdb_annotations(corpus_path(folder, f"{record}.ecg")).rr_ms
    nn = nn[(nn >= 300) & (nn <= 2000)]
    if full:
        return nn
    elapsed = np.cumsum(nn) / 1000.0
    return nn[(elapsed > EXCERPT_START_S) & (elapsed <= EXCERPT_START_S + EXCERPT_S)]


def load(set_name: str, name: str, *, full: bool = False) -> NDArray[np.float64]:
    """The clean series of one record (``full``: the whole Holter record instead of the 1-h excerpt)."""
    if set_name == "kubios":
        nn = np.load(REPO / "tests" / "data" / "kubios_pyhrv" / f"{name}.npy").astype(np.float64)
    elif set_name in ("nsr2db", "chf2db"):
        nn = _holter_nn(f"physionet_{set_name}", name, full)
    elif set_name == "gudb":
        peaks = np.loadtxt(corpus_path("gudb_rpeak_annotations", name, "annotation_cs.tsv"))
        nn = np.diff(np.atleast_1d(peaks)) * (1000.0 / 250.0)
    else:
        raise ValueError(f"unknown record set {set_name!r}")
    kept: NDArray[np.float64] = nn[(nn >= 300) & (nn <= 2000)]
    return kept


def records(split: dict[str, list[str]], sets: list[str] | None = None) -> tuple[list[Record], list[str]]:
    """The records of a split, and one line per record that could not be read (why)."""
    kept: list[Record] = []
    left_out: list[str] = []
    for set_name, names in split.items():
        if sets is not None and set_name not in sets:
            continue
        for name in names:
            try:
                nn = load(set_name, name)
            except FileNotFoundError:
                left_out.append(f"{set_name}/{name}: no file")
                continue
            if nn.size < 100:
                left_out.append(f"{set_name}/{name}: {nn.size} intervals")
            else:
                kept.append(Record(set_name, name, nn))
    return kept, left_out
