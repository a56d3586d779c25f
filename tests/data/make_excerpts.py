"""Rebuild the cut files of tests/data from the full corpus (see tests/data/README.md for what and why).

    python -m tests.data.make_excerpts [CORPUS_DIR]

CORPUS_DIR defaults to the corpus that ``benchmarks.data.corpus_dir()`` finds.  Whole files are copied by hand
(they are byte-identical to the corpus); only the excerpts below are made here, so that anyone can check them.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MITDB_EXCERPT_S = 300
POLAR_EXCERPT_S = 60
HEAD_LINES = {"003": 12_000, "009": 1_000, "010": 1_000, "013": 1_000}


def mitdb_excerpt(corpus: Path, record: str, seconds: int) -> None:
    """The first ``seconds`` of a MIT-BIH record: the same samples (format 212), the annotations in them."""
    import wfdb

    source = corpus / "physionet_mitdb" / record
    target = HERE / f"physionet_mitdb_{seconds // 60}min"
    target.mkdir(exist_ok=True)
    signal = wfdb.rdrecord(str(source), sampto=seconds * 360, physical=False)
    signal.wrsamp(write_dir=str(target), expanded=False)
    # the original header, with only the sample count and the checksums (of the kept samples) changed
    written = (target / f"{record}.hea").read_text().splitlines()
    original = (source.parent / f"{record}.hea").read_text().splitlines()
    lines = [" ".join([*original[0].split()[:3], str(seconds * 360)])]
    for mine, theirs in zip(original[1:3], written[1:3], strict=True):
        fields = mine.split()
        fields[6] = theirs.split()[6]
        lines.append(" ".join(fields))
    (target / f"{record}.hea").write_text("\n".join([*lines, *original[3:]]) + "\n")
    annotation = wfdb.rdann(str(source), "atr", sampto=seconds * 360)
    annotation.wrann(write_fs=False, write_dir=str(target))


def polar_excerpt(corpus: Path, seconds: int) -> None:
    """The first ``seconds`` of detectPVC's Polar H10 CSVs, cut at the same instant in both files."""
    source = corpus / "polar_h10_detectPVC"
    target = HERE / f"polar_h10_detectPVC_{seconds}s"
    target.mkdir(exist_ok=True)
    for name in ("polar_h10_ecg_hr_rr.csv", "polar_h10_rr_only.csv"):
        lines = (source / name).read_text().splitlines(keepends=True)
        start = int(lines[1].split(",")[0])
        kept = [line for line in lines[1:] if int(line.split(",")[0]) < start + seconds * 1_000_000_000]
        (target / name).write_text(lines[0] + "".join(kept))


def healthy_heads(corpus: Path) -> None:
    """The first lines of PhysioNet healthy-subjects records that tests read only the start of."""
    target = HERE / "physionet_rr_healthy_subjects_heads"
    target.mkdir(exist_ok=True)
    for record, count in HEAD_LINES.items():
        with (corpus / "physionet_rr_healthy_subjects" / f"{record}.txt").open("rb") as handle:
            head = [handle.readline() for _ in range(count)]
        (target / f"{record}.txt").write_bytes(b"".join(head))


def kubios_report_head(corpus: Path) -> None:
    """series_1's Kubios report cut before its RR table, as series_2..5 are (the table repeats the .npy)."""
    text = (corpus / "kubios_reference" / "series_1_kubios_report.txt").read_bytes()
    cut = text.index(b"RR INTERVAL DATA")
    (HERE / "kubios_pyhrv" / "series_1_kubios_report.txt").write_bytes(text[:cut])


def main(argv: list[str]) -> int:
    from benchmarks.data import corpus_dir

    corpus = Path(argv[0]) if argv else corpus_dir()
    for record in ("100", "105"):
        mitdb_excerpt(corpus, record, MITDB_EXCERPT_S)
    polar_excerpt(corpus, POLAR_EXCERPT_S)
    healthy_heads(corpus)
    kubios_report_head(corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
