"""Feed a recording to the streaming engine beat by beat and print the rolling metrics once a minute.

python examples/stream_hrv.py examples/data/rest_5min_rr.txt
"""

from __future__ import annotations

import sys

from restbeat.devices.files import read_recording
from restbeat.signal.stream import HRVStream


def show(value: float | None, state: str, width: int, decimals: int = 1) -> str:
    """The value, or why there is none (warming up, too few beats, ...)."""
    return f"{value:{width}.{decimals}f}" if value is not None else f"{state:>{width}}"


def main(path: str) -> None:
    recording = read_recording(path)
    stream = HRVStream()
    next_print_s = 60.0
    print("  time   HR bpm  RMSSD 60 s  lnRMSSD  RMSSD 5 min  HF ms²  breaths/min")
    for t, rr, segment in zip(recording.t_s, recording.rr_ms, recording.segment_ids, strict=True):
        snap = stream.push(float(t), float(rr), segment=int(segment))
        if snap.t_s < next_print_s:
            continue
        next_print_s += 60.0
        short, long, spectral = snap.window(60), snap.window(300), snap.spectral
        spectral_state = spectral.quality.value if spectral else "pending"
        print(
            f"{snap.t_s / 60:5.1f} min {show(short.mean_hr_bpm, short.quality, 6)}"
            f" {show(short.rmssd_ms, short.quality, 11)} {show(short.ln_rmssd, short.quality, 8, 2)}"
            f" {show(long.rmssd_ms, long.quality, 12)}"
            f" {show(spectral.hf_ms2 if spectral else None, spectral_state, 7, 0)}"
            f" {show(spectral.breathing_rate_per_min if spectral else None, spectral_state, 12)}"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/data/rest_5min_rr.txt")
