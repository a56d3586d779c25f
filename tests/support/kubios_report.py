"""Reader of a Kubios HRV text report ("label , value" lines, Latin-1) for the reference tests."""

from __future__ import annotations

from pathlib import Path


def read_kubios_report(path: Path) -> dict[str, float]:
    """Numeric results of the first column, keyed by label with section prefixes for duplicates.

    Frequency-domain rows are keyed ``FFT <label>`` (the first value column is the FFT spectrum).
    """
    results: dict[str, float] = {}
    section = ""
    for raw in path.read_text(encoding="latin-1").splitlines():
        if raw.startswith("RR INTERVAL DATA"):
            break
        cells = [cell.strip() for cell in raw.split(",")]
        if len(cells) < 2:
            continue
        label = cells[0].rstrip(":").strip()
        if label.startswith("Frequency-Domain"):
            section = "FFT "
        elif label.startswith("Nonlinear"):
            section = ""
        try:
            value = float(cells[1])
        except ValueError:
            continue
        results[f"{section}{label}"] = value
    return results
