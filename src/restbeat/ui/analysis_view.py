"""Text table and JSON rendering of a batch analysis (`restbeat analyze`)."""

from __future__ import annotations

import json
import math
from typing import Any

from restbeat.app.analyze import Analysis
from restbeat.signal.artifacts import class_counts_text

_Row = tuple[str, str, str]  # label, value, unit


def _number(value: float | int | None, decimals: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{decimals}f}"


def _section(title: str, rows: list[_Row], align_values: bool = True) -> list[str]:
    label_width = max(len(label) for label, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows) if align_values else 0
    lines = [title]
    lines += [
        f"  {label:<{label_width}}  {value:>{value_width}}  {unit}".rstrip() for label, value, unit in rows
    ]
    return lines


def _recording_rows(analysis: Analysis) -> list[_Row]:
    recording = analysis.recording
    hours, rest = divmod(round(recording.duration_s), 3600)
    minutes, seconds = divmod(rest, 60)
    rows: list[_Row] = [
        ("File", str(recording.path), ""),
        ("Format", recording.format, ""),
        ("Duration", f"{hours}:{minutes:02d}:{seconds:02d}", "h:min:s"),
        ("NN intervals", str(recording.rr_ms.size), ""),
        ("Contiguous segments", str(int(recording.segment_ids.max()) + 1), ""),
    ]
    if recording.excluded_intervals:
        rows.append(("Excluded intervals", str(recording.excluded_intervals), "(touching a non-N beat)"))
    if recording.skipped_line_count:
        shown = ", ".join(f"{line.line_number}: {line.text!r}" for line in recording.skipped_lines[:3])
        more = "" if recording.skipped_line_count <= 3 else ", ..."
        rows.append(("Skipped lines", str(recording.skipped_line_count), f"(line {shown}{more})"))
    rows += [("Note", note, "") for note in recording.notes]
    correction = analysis.correction
    if correction is None:
        rows.append(("Artifact correction", "off", "(--no-correct)"))
    else:
        found = class_counts_text(correction.counts)
        rows.append(("Artifacts", found, ""))
        rows.append(
            (
                "Corrected intervals",
                f"{correction.corrected_intervals} of {correction.analysed_intervals}",
                f"({correction.corrected_pct:.2f} %)",
            )
        )
        if correction.analysed_segments != int(recording.segment_ids.max()) + 1:
            rows.append(
                ("Analysed segments", str(correction.analysed_segments), "(split at excluded intervals)")
            )
    return rows


def render_table(analysis: Analysis) -> str:
    """A readable multi-section table with units."""
    time = analysis.metrics.time
    nonlinear = analysis.metrics.nonlinear
    sections = [_section("Recording", _recording_rows(analysis), align_values=False)]
    sections.append(
        _section(
            "Time domain",
            [
                ("Mean NN", _number(time.mean_nn_ms, 2), "ms"),
                ("SDNN", _number(time.sdnn_ms, 2), "ms"),
                ("RMSSD", _number(time.rmssd_ms, 2), "ms"),
                ("lnRMSSD", _number(time.ln_rmssd, 3), "ln(ms)"),
                ("SDSD", _number(time.sdsd_ms, 2), "ms"),
                ("NN50", _number(time.nn50, 0), "beats"),
                ("pNN50", _number(time.pnn50_pct, 2), "%"),
                ("pNN20", _number(time.pnn20_pct, 2), "%"),
                ("Mean HR", _number(time.mean_hr_bpm, 1), "bpm"),
                ("Min HR", _number(time.min_hr_bpm, 1), "bpm"),
                ("Max HR", _number(time.max_hr_bpm, 1), "bpm"),
                ("STD HR", _number(time.std_hr_bpm, 2), "bpm"),
                ("CVNN", _number(time.cvnn_pct, 2), "%"),
            ],
        )
    )
    freq = analysis.metrics.frequency
    if freq is not None:
        method = "Welch, as Kubios FFT" if freq.method == "welch" else "Lomb-Scargle"
        sections.append(
            _section(
                f"Frequency domain ({method})",
                [
                    ("VLF power", _number(freq.vlf_ms2, 1), f"ms²  ({_number(freq.vlf_pct, 1)} %)"),
                    ("LF power", _number(freq.lf_ms2, 1), f"ms²  ({_number(freq.lf_pct, 1)} %)"),
                    ("HF power", _number(freq.hf_ms2, 1), f"ms²  ({_number(freq.hf_pct, 1)} %)"),
                    ("Total power", _number(freq.total_ms2, 1), "ms²"),
                    ("LF / HF", _number(freq.lf_hf_ratio, 3), ""),
                    ("LF, HF (n.u.)", f"{_number(freq.lf_nu, 1)}, {_number(freq.hf_nu, 1)}", ""),
                    ("Peak LF, HF", f"{_number(freq.lf_peak_hz, 3)}, {_number(freq.hf_peak_hz, 3)}", "Hz"),
                ],
            )
        )
    sections.append(
        _section(
            "Nonlinear",
            [
                ("Poincaré SD1", _number(nonlinear.sd1_ms, 2), "ms"),
                ("Poincaré SD2", _number(nonlinear.sd2_ms, 2), "ms"),
                ("SD2 / SD1", _number(nonlinear.sd2_sd1_ratio, 3), ""),
                ("DFA α1 (4-16 beats)", _number(nonlinear.dfa_alpha1, 3), ""),
                ("DFA α2 (16-64 beats)", _number(nonlinear.dfa_alpha2, 3), ""),
            ],
        )
    )
    return "\n\n".join("\n".join(lines) for lines in sections)


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    return value


def analysis_dict(analysis: Analysis) -> dict[str, Any]:
    """A JSON-ready dict of the recording summary and every metric (NaN becomes null)."""
    recording = analysis.recording
    metrics = analysis.metrics
    summary: dict[str, Any] = _finite_or_none(
        {
            "recording": {
                "path": str(recording.path),
                "format": recording.format,
                "duration_s": recording.duration_s,
                "nn_intervals": int(recording.rr_ms.size),
                "segments": int(recording.segment_ids.max()) + 1,
                "excluded_intervals": recording.excluded_intervals,
                "skipped_lines": recording.skipped_line_count,
                "skipped_line_numbers": [line.line_number for line in recording.skipped_lines],
                "notes": list(recording.notes),
            },
            "artifacts": None
            if analysis.correction is None
            else {
                "counts": {
                    cls.value: count for cls, count in analysis.correction.counts.items() if cls != "normal"
                },
                "corrected_intervals": analysis.correction.corrected_intervals,
                "analysed_intervals": analysis.correction.analysed_intervals,
                "analysed_segments": analysis.correction.analysed_segments,
            },
            **metrics.as_dict(),
        }
    )
    return summary


def render_json(analysis: Analysis) -> str:
    """Analysis as indented JSON."""
    return json.dumps(analysis_dict(analysis), indent=2)
