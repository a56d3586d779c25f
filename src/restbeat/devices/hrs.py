"""Heart Rate Measurement (GATT characteristic 0x2A37): a pure decoder, and an encoder for emulators
and tests.

Layout (Bluetooth SIG Heart Rate Service 1.0), little-endian:

    byte 0   flags  bit0 HR is uint16 (else uint8) | bit1 contact detected | bit2 contact supported
                    bit3 energy expended present   | bit4 RR intervals present | bits 5-7 reserved
    then     heart rate (bpm), uint8 or uint16; 0 means "no valid reading"
    then     energy expended (kJ, uint16), only if bit3: it comes BEFORE the RR list
    then     RR intervals (uint16, 1/1024 s), only if bit4, oldest first, filling the rest of the payload

Contact is None ("unknown") when bit2 is clear, whatever bit1 says.  An odd byte left after the RR list is
kept in ``extra`` and reported, never a crash; so are bytes after the declared fields when no RR list is
declared.  A payload too short for the fields its flags promise raises :class:`MeasurementError`.
RR values are reported raw (0 and 65535 included): the beat timeline decides what is a beat.
"""

from __future__ import annotations

from dataclasses import dataclass

TICKS_PER_SECOND = 1024
MS_PER_TICK = 1000.0 / TICKS_PER_SECOND

FLAG_HR_UINT16 = 0x01
FLAG_CONTACT_DETECTED = 0x02
FLAG_CONTACT_SUPPORTED = 0x04
FLAG_ENERGY = 0x08
FLAG_RR = 0x10

_UINT16_MAX = 0xFFFF


class MeasurementError(ValueError):
    """A Heart Rate Measurement payload that cannot be decoded (too short for what its flags declare)."""


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One decoded 0x2A37 notification.

    ``heart_rate`` in bpm (0: no valid reading); ``contact`` True / False / None (not supported);
    ``energy_expended`` in kJ or None; ``rr_ticks`` the RR intervals in 1/1024 s, oldest first;
    ``extra`` the bytes after the declared fields that could not be decoded (an odd trailing byte).
    ``flags`` is kept as sent (reserved bits included) so that encoding round-trips byte for byte.
    """

    flags: int
    heart_rate: int
    contact: bool | None
    energy_expended: int | None
    rr_ticks: tuple[int, ...]
    extra: bytes = b""

    @property
    def rr_ms(self) -> tuple[float, ...]:
        """The RR intervals in ms (ticks x 1000/1024, not rounded)."""
        return tuple(ticks * MS_PER_TICK for ticks in self.rr_ticks)

    @property
    def has_valid_heart_rate(self) -> bool:
        """False when the strap sent HR 0 ("no valid reading": lost contact, optical sensor in PPI mode)."""
        return self.heart_rate > 0


def _need(data: bytes, end: int, what: str) -> None:
    if len(data) < end:
        raise MeasurementError(
            f"Heart Rate Measurement too short: flags 0x{data[0]:02x} declare {what} ending at byte {end}, "
            f"but the payload has {len(data)} byte{'s' if len(data) != 1 else ''} ({data.hex()})"
        )


def parse_measurement(data: bytes | bytearray | memoryview) -> HeartRateMeasurement:
    """Decode one 0x2A37 payload; raises :class:`MeasurementError` when it is shorter than its flags say."""
    payload = bytes(data)
    if not payload:
        raise MeasurementError("Heart Rate Measurement is empty: no flags byte")
    flags = payload[0]
    if flags & FLAG_HR_UINT16:
        _need(payload, 3, "a uint16 heart rate")
        heart_rate = int.from_bytes(payload[1:3], "little")
        offset = 3
    else:
        _need(payload, 2, "a uint8 heart rate")
        heart_rate = payload[1]
        offset = 2
    energy: int | None = None
    if flags & FLAG_ENERGY:
        _need(payload, offset + 2, "energy expended")
        energy = int.from_bytes(payload[offset : offset + 2], "little")
        offset += 2
    contact = bool(flags & FLAG_CONTACT_DETECTED) if flags & FLAG_CONTACT_SUPPORTED else None
    rr: tuple[int, ...] = ()
    if flags & FLAG_RR:
        whole = offset + 2 * ((len(payload) - offset) // 2)
        rr = tuple(int.from_bytes(payload[i : i + 2], "little") for i in range(offset, whole, 2))
        offset = whole
    return HeartRateMeasurement(flags, heart_rate, contact, energy, rr, payload[offset:])


def encode_measurement(measurement: HeartRateMeasurement) -> bytes:
    """The payload of ``measurement``, byte for byte as :func:`parse_measurement` read it.

    Raises ValueError when a field does not fit the format its flags select, or when ``rr_ticks`` is not
    empty but the RR flag is clear.
    """
    flags = measurement.flags
    if not 0 <= flags <= 0xFF:
        raise ValueError(f"flags {flags} do not fit in one byte")
    hr_size = 2 if flags & FLAG_HR_UINT16 else 1
    if not 0 <= measurement.heart_rate < 1 << (8 * hr_size):
        raise ValueError(f"heart rate {measurement.heart_rate} does not fit in {hr_size} byte(s)")
    out = bytearray([flags]) + measurement.heart_rate.to_bytes(hr_size, "little")
    if flags & FLAG_ENERGY:
        if measurement.energy_expended is None or not 0 <= measurement.energy_expended <= _UINT16_MAX:
            raise ValueError(f"energy expended {measurement.energy_expended} is not a uint16 (flag bit 3)")
        out += measurement.energy_expended.to_bytes(2, "little")
    elif measurement.energy_expended is not None:
        raise ValueError("energy expended given but flag bit 3 is clear")
    if measurement.rr_ticks and not flags & FLAG_RR:
        raise ValueError("RR intervals given but flag bit 4 is clear")
    for ticks in measurement.rr_ticks:
        if not 0 <= ticks <= _UINT16_MAX:
            raise ValueError(f"RR interval {ticks} ticks is not a uint16")
        out += ticks.to_bytes(2, "little")
    return bytes(out + measurement.extra)


def measurement(
    heart_rate: int,
    rr_ticks: tuple[int, ...] | list[int] = (),
    *,
    contact: bool | None = None,
    energy_expended: int | None = None,
    uint16: bool | None = None,
    rr_present: bool | None = None,
) -> HeartRateMeasurement:
    """A consistent measurement with the flags its fields need (for emulators and tests).

    ``uint16`` defaults to heart rates above 255; ``rr_present`` to whether ``rr_ticks`` is non-empty (a
    strap may also set the RR flag with no interval in the notification).
    """
    wide = heart_rate > 0xFF if uint16 is None else uint16
    with_rr = bool(rr_ticks) if rr_present is None else rr_present
    flags = (
        (FLAG_HR_UINT16 if wide else 0)
        | (FLAG_CONTACT_SUPPORTED if contact is not None else 0)
        | (FLAG_CONTACT_DETECTED if contact else 0)
        | (FLAG_ENERGY if energy_expended is not None else 0)
        | (FLAG_RR if with_rr else 0)
    )
    return HeartRateMeasurement(flags, heart_rate, contact, energy_expended, tuple(rr_ticks))


def ms_to_ticks(rr_ms: float) -> int:
    """The nearest whole number of 1/1024-s ticks to an interval in ms (what a strap would send)."""
    return round(rr_ms * TICKS_PER_SECOND / 1000.0)
