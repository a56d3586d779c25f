"""Fuzz of the importers: seeded random corpora of every format restbeat reads, mutated.

Seeds are small valid files written here, one per format (RR text in ms and s, Kubios, Polar Sensor Logger,
HRV Logger, a generic RR CSV, restbeat's beat CSV and raw strap JSON lines, OpenHRV, FIT, WFDB beats and
ECG, ECG CSV).  Mutations: truncation, bit flips, inserted or deleted bytes, numbers replaced by huge,
tiny, negative or non-finite ones (and dates by year 1 or 9999), other encodings (UTF-16 with and without
a BOM, UTF-32, Latin-1), a line over 64 KiB, lines repeated or shuffled, random bytes, empty.

Each mutant is imported into a fresh database and analysed; the outcome must be a success or the typed
one-line :class:`RecordingError` naming a file of the case, never another exception, and never a row the
store refuses ("could not be stored": a value the readers should have refused first).

The default run tries 696 files in about 15 s; ``-m soak`` runs 11 200 for each of three seeds and
prints the files tried per format, the outcomes and the peak RSS.
"""

from __future__ import annotations

import random
import re
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from restbeat.app.analyze import analyze_file
from restbeat.app.importing import import_files
from restbeat.devices.formats.raw_hrm import write_raw_hrm
from restbeat.devices.hrs import encode_measurement, measurement, ms_to_ticks
from restbeat.devices.recording import RawPacketRecord, RecordingError
from restbeat.store.database import open_database
from tests.support import fit_writer

START_UTC = 1_714_920_600.0  # 2024-05-05 14:50 UTC
EXTREMES = (
    "1e300", "-1e300", "1e20", "inf", "-inf", "nan", "NaN", "1e999", "1" + "0" * 30, "0", "-1", "-5", "99",
    "1e-300", "", "1e30", "0001-01-01T00:00:00", "9999-12-31T23:59:59", "2024-13-45T25:61:61", "null", '"x"',
)  # fmt: skip
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def _rr(n: int, rng: random.Random) -> list[float]:
    return [round(800 + 60 * np.sin(k / 7.0) + rng.gauss(0, 15), 1) for k in range(n)]


def _stamp(s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(s)) + f".{int(s * 1000) % 1000:03d}"


def _ecg(rate_hz: float, seconds: float) -> np.ndarray:
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    beats = np.cumsum(np.full(int(seconds / 0.8) + 2, 0.8))
    signal = sum(np.exp(-(((t - b) / 0.012) ** 2)) for b in beats)
    return np.asarray(signal - 0.15 * np.exp(-(((t % 0.8 - 0.25) / 0.05) ** 2)), dtype=np.float64)


def _text_seeds(folder: Path, rng: random.Random) -> dict[str, Path]:
    rr = _rr(240, rng)
    clock = np.cumsum(rr) / 1000.0
    pairs = list(zip(clock, rr, strict=True))
    files = {
        "rr-text": "".join(f"{int(v)}\n" for v in rr),
        "rr-text-s": "".join(f"{v / 1000:.3f}\r\n" for v in rr),
        "kubios-text": "".join(f"{t:.3f}\t{v / 1000:.3f}\n" for t, v in pairs),
        "polar-sensor-logger": "Phone timestamp;RR-interval [ms]\n"
        + "".join(f"{_stamp(START_UTC + t)};{int(v)}\n" for t, v in pairs),
        "hrv-logger": "timestamp, rr, since_start\n"
        + "".join(f"{int((START_UTC + t) * 1000)}, {int(v)}, {int(t * 1000)}\n" for t, v in pairs),
        "rr-csv": "time_ns,rr_ms\n" + "".join(f"{int((START_UTC + t) * 1e9)},{v}\n" for t, v in pairs),
        "restbeat-csv": "session,context,time,t_s,rr_ms,segment,quality,kind\n"
        + "".join(
            f"{1 + k // 120},on-shift,{_stamp(START_UTC + t)}+00:00,{float(t)!r},{float(v)!r},{k // 60},"
            + ("3,out_of_range\n" if k % 4 == 3 else "0,normal\n")
            for k, (t, v) in enumerate(pairs)
        ),
        "openhrv": "event,value,timestamp\nSensors,Polar H10, 1234,2024-05-05T16:50:00\n"
        + "".join(f"InterBeatInterval,{int(v)},{_stamp(START_UTC + t)}\n" for t, v in pairs)
        + "Annotation,felt calm, really,2024-05-05T16:52:00\n",
    }
    paths = {}
    for name, text in files.items():
        paths[name] = (
            folder / f"{name}.{'csv' if 'csv' in name or name in ('openhrv', 'hrv-logger') else 'txt'}"
        )
        paths[name].write_text(text)
    packets, pending, clock_s = [], [], 0.0
    for value in rr:
        clock_s += value / 1000.0
        pending.append(ms_to_ticks(value))
        if sum(pending) >= 1024 or len(pending) == 3:
            raw = encode_measurement(measurement(75, pending, contact=True))
            packets.append(RawPacketRecord(round(clock_s + 0.05, 6), 1, raw))
            pending = []
    paths["restbeat-raw"] = folder / "strap.jsonl"
    with paths["restbeat-raw"].open("w") as handle:
        write_raw_hrm(handle, "AA:BB:CC:DD:EE:FF", START_UTC, packets, [])
    paths["fit-hrv"] = folder / "activity.fit"
    paths["fit-hrv"].write_bytes(fit_writer.fit_file_bytes([round(v) for v in rr], int(START_UTC)))
    ecg = _ecg(130.0, 15.0)
    paths["ecg-csv"] = folder / "ecg.csv"
    paths["ecg-csv"].write_text("time,ecg\n" + "".join(f"{k / 130:.5f},{v:.4f}\n" for k, v in enumerate(ecg)))
    return paths


def _wfdb_seeds(folder: Path) -> dict[str, tuple[Path, list[Path]]]:
    """WFDB beats (import the .atr; mutate .atr or .hea) and ECG (import the .dat; mutate .dat or .hea)."""
    import wfdb

    ecg = _ecg(250.0, 15.0)
    wfdb.wrsamp(
        "rec",
        fs=250,
        units=["mV"],
        sig_name=["MLII"],
        p_signal=ecg[:, None],
        fmt=["16"],
        write_dir=str(folder),
    )
    beats = np.arange(50, ecg.size - 50, 200)
    wfdb.wrann("rec", "atr", beats, symbol=["N"] * beats.size, write_dir=str(folder), fs=250)
    hea, atr, dat = (folder / f"rec.{suffix}" for suffix in ("hea", "atr", "dat"))
    return {"wfdb-beats": (atr, [atr, hea]), "wfdb-ecg": (dat, [dat, hea])}  # fmt: skip


def _mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(
        ("truncate", "flip", "edit", "number", "numbers", "encoding", "long", "lines", "random", "empty")
    )
    if kind == "truncate":
        return kind, data[: rng.randrange(len(data) + 1)]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            index = rng.randrange(len(out))
            out[index] ^= 1 << rng.randrange(8)
        return kind, bytes(out)
    if kind == "edit":
        index = rng.randrange(len(data) + 1)
        return kind, data[:index] + rng.randbytes(rng.randint(0, 4)) + data[index + rng.randint(0, 4) :]
    if kind in ("number", "numbers"):
        matches = list(_NUMBER.finditer(data))
        if not matches:
            return kind, data
        edited = data
        for match in sorted(
            rng.sample(matches, min(len(matches), 1 if kind == "number" else 5)), key=lambda m: -m.start()
        ):
            edited = edited[: match.start()] + rng.choice(EXTREMES).encode() + edited[match.end() :]
        return kind, edited
    if kind == "encoding":
        text = data.decode("utf-8", errors="replace")
        codec = rng.choice(("utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "utf-8-sig"))
        return kind, (text.replace("0", "\u00e9", rng.randint(0, 2)) if codec == "latin-1" else text).encode(
            codec, "replace"
        )
    if kind == "long":
        cut = data.find(b"\n", rng.randrange(len(data) + 1))
        cut = len(data) if cut < 0 else cut + 1
        return kind, data[:cut] + rng.choice(
            (b"8" * 70_000, b" 800" * 20_000, b"\x00" * 70_000)
        ) + b"\n" + data[cut:]
    if kind == "lines":
        rows = data.split(b"\n")
        head, body = rows[:1], rows[1:]
        if rng.random() < 0.5:
            rng.shuffle(body)
        else:
            body = body + body[: rng.randint(1, len(body) + 1)]
        return kind, b"\n".join(head + body)
    if kind == "random":
        return kind, rng.randbytes(rng.randint(1, 2000))
    return kind, b""


def _fit_values(rng: random.Random) -> bytes:
    edge = (fit_writer.FIT_EPOCH_UNIX, fit_writer.FIT_EPOCH_UNIX + 2**32 - 2, START_UTC)
    rr = [rng.choice((1, 2, 250, 800, 5000, 30000, 65000, 65534)) for _ in range(rng.randint(0, 40))]
    return fit_writer.fit_file_bytes(
        rr, rng.choice(edge), time_created_utc=rng.choice(edge), with_hrv=bool(rr)
    )


def _check(outcome: object, folder: Path, case: str) -> str:
    if isinstance(outcome, RecordingError):
        message = str(outcome)
        assert "\n" not in message and message.startswith(str(folder)), f"{case}: {message!r}"
        assert "could not be stored" not in message, (
            f"{case}: the store refused what the reader let in: {message}"
        )
        return "refused"
    return "ok"


_CASE_LIMIT_S = 30


class Hung(BaseException):
    """A case that did not finish (a BaseException, so that no reader's ``except Exception`` hides it)."""


def _hung(case: str) -> None:
    raise Hung(f"{case}: no answer in {_CASE_LIMIT_S} s")


def run_corpus(folder: Path, per_format: int, ecg_share: float, seed: int) -> Counter[str]:
    """Try ``per_format`` mutants of each seed (ECG ones ``ecg_share`` as many); returns outcome counts."""
    rng = random.Random(seed)
    seeds = folder / "seeds"
    seeds.mkdir()
    plain = _text_seeds(seeds, rng)
    record = _wfdb_seeds(seeds)
    tally: Counter[str] = Counter()
    for index, (fmt, target, victims) in enumerate(
        [(fmt, path, [path]) for fmt, path in plain.items()]
        + [(fmt, *value) for fmt, value in record.items()]
    ):
        heavy = fmt in ("ecg-csv", "wfdb-ecg")
        for trial in range(max(1, int(per_format * (ecg_share if heavy else 1.0)))):
            case_dir = folder / f"{index}-{trial}"
            case_dir.mkdir()
            copies = {
                victim: case_dir / victim.name for victim in (victims if fmt.startswith("wfdb") else [target])
            }
            for source in seeds.glob("rec.*") if fmt.startswith("wfdb") else [target]:
                (case_dir / source.name).write_bytes(source.read_bytes())
            victim = rng.choice(list(copies))
            mutation, data = _mutate(victim.read_bytes(), rng)
            if fmt == "fit-hrv" and rng.random() < 0.5:  # a valid CRC around values a watch never writes
                mutation, data = "fit values", _fit_values(rng)
            copies[victim].write_bytes(data)
            path = case_dir / target.name
            case = f"{fmt} trial {trial} ({mutation} of {victim.name}, seed {seed})"
            signal.signal(signal.SIGALRM, lambda *_, case=case: _hung(case))
            signal.alarm(_CASE_LIMIT_S)  # a reader that loops forever fails the test, naming the case
            conn = open_database(case_dir / "db.sqlite3")
            try:
                [imported] = import_files(conn, [path])
                try:
                    analyzed: object = analyze_file(path)
                except RecordingError as error:
                    analyzed = error
            finally:
                signal.alarm(0)
                conn.close()
            tally[f"{fmt} import {_check(imported, case_dir, case)}"] += 1
            tally[f"{fmt} analyze {_check(analyzed, case_dir, case)}"] += 1
            tally["files tried"] += 1
    return tally


def _peak_rss_kib() -> int:
    status = Path("/proc/self/status")
    if status.exists():
        return int(
            next(line.split()[1] for line in status.read_text().splitlines() if line.startswith("VmHWM"))
        )
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def test_fuzzed_files_give_a_success_or_one_line(tmp_path: Path) -> None:
    started = time.monotonic()
    tally = run_corpus(tmp_path, per_format=60, ecg_share=0.3, seed=18)
    assert tally["files tried"] > 600
    formats = {key.split()[0] for key in tally if key != "files tried"}
    assert len(formats) == 13  # every format's seed is valid: some of its mutants still import
    assert all(tally[f"{fmt} import ok"] and tally[f"{fmt} import refused"] for fmt in formats), tally
    assert time.monotonic() - started < 60


@pytest.mark.soak
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzz_soak(tmp_path: Path, seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    tally = run_corpus(tmp_path, per_format=1000, ecg_share=0.1, seed=seed)
    with capsys.disabled():
        print(f"\nfuzz seed {seed}: {tally['files tried']} files in {time.monotonic() - started:.0f} s, "
              f"peak RSS {_peak_rss_kib() / 1024:.0f} MiB", file=sys.stderr)  # fmt: skip
        for key in sorted(tally):
            print(f"  {key}: {tally[key]}", file=sys.stderr)
