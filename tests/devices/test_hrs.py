"""Heart Rate Measurement decoder: real captured payloads, every flag combination, and a fuzz run."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restbeat.devices import hrs
from restbeat.devices.hrs import HeartRateMeasurement, MeasurementError, parse_measurement
from tests.support.shared_data import bundled


def vectors() -> list[dict[str, Any]]:
    """tests/data/hrm_captures/captures.json: real strap payloads (with sources) and SIG edge cases."""
    data: dict[str, Any] = json.loads(bundled("hrm_captures", "captures.json").read_text())
    return list(data["vectors"])


def payload(vector: dict[str, Any]) -> bytes:
    return bytes.fromhex(vector["hex"].replace(" ", ""))


REJECTED = {"11", ""}  # truncated uint16 HR, empty: the captures file says they must be rejected


@pytest.mark.parametrize("vector", vectors(), ids=lambda v: v["hex"].replace(" ", "") or "empty")
def test_every_capture_decodes_or_is_rejected_with_a_clear_error(vector: dict[str, Any]) -> None:
    raw = payload(vector)
    if raw.hex() in REJECTED:
        with pytest.raises(MeasurementError, match="Heart Rate Measurement"):
            parse_measurement(raw)
        return
    decoded = parse_measurement(raw)
    assert hrs.encode_measurement(decoded) == raw  # byte-exact round trip
    assert decoded.rr_ms == tuple(t * 1000 / 1024 for t in decoded.rr_ticks)


@pytest.mark.parametrize(
    ("hex_payload", "heart_rate", "contact", "energy", "rr_ticks", "extra"),
    [
        ("10482c03", 72, None, None, (812,), b""),  # Polar H10: contact not supported
        ("10495e039603", 73, None, None, (862, 918), b""),  # two RR, oldest first
        ("164d1603", 77, True, None, (790,), b""),  # Polar H7: contact supported and detected
        ("063c", 60, True, None, (), b""),  # first notification after subscribing: no RR
        ("10382d043500", 56, None, None, (1069, 53), b""),  # Garmin HRM-Dual: the 53 is bogus, kept raw
        ("0400", 0, False, None, (), b""),  # not in skin contact, HR 0 = no valid reading
        ("103eb103de", 62, None, None, (945,), b"\xde"),  # odd trailing byte: reported, not a beat
        ("1028", 40, None, None, (), b""),  # RR flag with zero RR: legal
        ("018080", 32896, None, None, (), b""),  # uint16 HR
        ("0200", 0, None, None, (), b""),  # 'detected' without 'supported': unknown
        ("090000ffff", 0, None, 65535, (), b""),  # energy expended saturated
        ("1000ffff", 0, None, None, (65535,), b""),  # RR 65535 is reported raw (the timeline drops it)
        ("1950000e010004", 80, None, 270, (1024,), b""),  # uint16 HR 80, energy BEFORE the RR list
        ("18482c010004", 72, None, 300, (1024,), b""),  # no false 293-ms beat from the energy field
    ],
)
def test_known_payloads(
    hex_payload: str,
    heart_rate: int,
    contact: bool | None,
    energy: int | None,
    rr_ticks: tuple[int, ...],
    extra: bytes,
) -> None:
    decoded = parse_measurement(bytes.fromhex(hex_payload))
    assert (decoded.heart_rate, decoded.contact, decoded.energy_expended) == (heart_rate, contact, energy)
    assert decoded.rr_ticks == rr_ticks
    assert decoded.extra == extra
    assert decoded.has_valid_heart_rate == (heart_rate > 0)


def test_an_rr_of_exactly_1024_ticks_is_1000_ms() -> None:
    assert parse_measurement(bytes.fromhex("1950000e010004")).rr_ms == (1000.0,)
    assert parse_measurement(bytes.fromhex("10482c03")).rr_ms == (
        812 * 1000 / 1024,
    )  # 792.96875, no rounding


@pytest.mark.parametrize(
    ("hex_payload", "what"),
    [
        ("", "empty"),
        ("11", "uint16 heart rate"),
        ("10", "uint8 heart rate"),
        ("0848", "energy"),
        ("194800", "energy"),
    ],
)
def test_short_payloads_name_what_is_missing(hex_payload: str, what: str) -> None:
    with pytest.raises(MeasurementError, match=what):
        parse_measurement(bytes.fromhex(hex_payload))


def _reference_payload(flags: int, heart_rate: int, energy: int, rr: list[int], odd: bool) -> bytes:
    """Built by hand from the SIG layout, independently of the encoder under test."""
    out = bytes([flags])
    out += heart_rate.to_bytes(2, "little") if flags & 1 else bytes([heart_rate & 0xFF])
    if flags & 8:
        out += energy.to_bytes(2, "little")
    if flags & 16:
        out += b"".join(v.to_bytes(2, "little") for v in rr)
    return out + (b"\x7f" if odd else b"")


@settings(max_examples=2000, deadline=None)
@given(
    flags=st.integers(0, 255),
    heart_rate=st.integers(0, 0xFFFF),
    energy=st.integers(0, 0xFFFF),
    rr=st.lists(st.integers(0, 0xFFFF), max_size=9),
    odd=st.booleans(),
)
def test_every_flag_combination(flags: int, heart_rate: int, energy: int, rr: list[int], odd: bool) -> None:
    raw = _reference_payload(flags, heart_rate, energy, rr, odd)
    decoded = parse_measurement(raw)
    assert decoded.flags == flags
    assert decoded.heart_rate == (heart_rate if flags & 1 else heart_rate & 0xFF)
    assert decoded.contact == (bool(flags & 2) if flags & 4 else None)
    assert decoded.energy_expended == (energy if flags & 8 else None)
    if flags & 16:
        assert decoded.rr_ticks == tuple(rr)
        assert decoded.extra == (b"\x7f" if odd else b"")
    else:
        assert decoded.rr_ticks == ()
    assert hrs.encode_measurement(decoded) == raw


@settings(max_examples=500, deadline=None)
@given(
    heart_rate=st.integers(0, 0xFFFF),
    rr=st.lists(st.integers(0, 0xFFFF), max_size=8),
    contact=st.sampled_from([None, True, False]),
    energy=st.one_of(st.none(), st.integers(0, 0xFFFF)),
)
def test_measurement_builder_round_trips(
    heart_rate: int, rr: list[int], contact: bool | None, energy: int | None
) -> None:
    built = hrs.measurement(heart_rate, rr, contact=contact, energy_expended=energy)
    assert parse_measurement(hrs.encode_measurement(built)) == built


def test_encoder_refuses_what_the_flags_cannot_carry() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        hrs.encode_measurement(HeartRateMeasurement(0x00, 300, None, None, ()))
    with pytest.raises(ValueError, match="bit 4"):
        hrs.encode_measurement(HeartRateMeasurement(0x00, 60, None, None, (1000,)))
    with pytest.raises(ValueError, match="bit 3"):
        hrs.encode_measurement(HeartRateMeasurement(0x00, 60, None, 12, ()))


def test_a_million_random_payloads_raise_nothing_but_the_typed_error() -> None:
    rng = np.random.default_rng(2026)
    lengths = rng.integers(0, 21, size=1_000_000)  # an ATT MTU of 23 allows 20 bytes
    pool = rng.integers(0, 256, size=int(lengths.sum()), dtype=np.uint8).tobytes()
    rejected = decoded = 0
    start = 0
    for length in lengths.tolist():
        chunk = pool[start : start + length]
        start += length
        try:
            parse_measurement(chunk)
        except MeasurementError:
            rejected += 1
        else:
            decoded += 1
    assert rejected + decoded == 1_000_000
    assert rejected > 0 and decoded > 0
