"""A tiny encoder of Garmin FIT files, for test fixtures (only what the FIT HRV reader needs).

Layout of a FIT file (FIT SDK, "Flexible and Interoperable Data Transfer Protocol"), little-endian here:

    header   14 bytes: header size (14), protocol version (0x20 = 2.0), profile version (uint16, e.g. 2132),
             data size (uint32: bytes of records between header and file CRC), b".FIT", header CRC (uint16,
             over the first 12 bytes)
    records  definition messages (record header 0x40 | local number; reserved 0; architecture 0 =
             little-endian; global message number uint16; field count; 3 bytes per field: field number,
             size in bytes, base type) and data messages (record header = local number; then the field
             values in the order and sizes the definition gave)
    CRC      uint16 over everything before it (header included)

The CRC is CRC-16/ARC (reflected polynomial 0xA001, initial value 0, no final XOR): check value 0xBB3D
for ``b"123456789"``.  Times are FIT ``date_time``: uint32 seconds since 1989-12-31 00:00 UTC.

Messages written: ``file_id`` (global 0), ``session`` (18, only ``start_time``) and ``hrv`` (78: field 0
``time``, an array of five uint16 beat intervals in ms, i.e. s with scale 1000; 0xFFFF pads unused slots).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

#: Unix time of the FIT epoch, 1989-12-31T00:00:00Z.
FIT_EPOCH_UNIX = 631065600
HEADER_SIZE = 14
PROTOCOL_VERSION = 0x20
PROFILE_VERSION = 2132

# base types (FIT SDK "Base Type" table): the code and the struct format of one element
ENUM = 0x00
UINT8 = 0x02
UINT16 = 0x84
UINT32 = 0x86
UINT32Z = 0x8C
_BASE_FORMATS = {ENUM: "B", UINT8: "B", UINT16: "H", UINT32: "I", UINT32Z: "I"}

# global message numbers and the values used in file_id
MESG_FILE_ID = 0
MESG_SESSION = 18
MESG_HRV = 78
FILE_TYPE_ACTIVITY = 4
MANUFACTURER_GARMIN = 1

HRV_SLOTS = 5
HRV_INVALID = 0xFFFF

_DEFINITION_FLAG = 0x40


def crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC of ``data`` (FIT's CRC), continuing from ``crc``."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of a definition message: field number, size in bytes and base type code."""

    number: int
    size: int
    base_type: int

    @property
    def count(self) -> int:
        """Number of elements (an array field holds ``size / element size`` of them)."""
        return self.size // struct.calcsize(_BASE_FORMATS[self.base_type])


def fit_time(unix_s: float) -> int:
    """A Unix time as FIT ``date_time`` (whole seconds since the FIT epoch, rounded)."""
    return round(unix_s) - FIT_EPOCH_UNIX


def definition_message(local: int, global_number: int, fields: Sequence[FieldDef]) -> bytes:
    """A definition message binding local message type ``local`` (0-15) to ``global_number``."""
    if not 0 <= local <= 0x0F:
        raise ValueError(f"local message type {local} is not 0-15")
    out = bytearray([_DEFINITION_FLAG | local, 0, 0])  # record header, reserved, little-endian
    out += struct.pack("<HB", global_number, len(fields))
    for field in fields:
        out += bytes([field.number, field.size, field.base_type])
    return bytes(out)


def data_message(local: int, fields: Sequence[FieldDef], values: Sequence[int | Sequence[int]]) -> bytes:
    """A data message of local type ``local``: one value per field (a sequence for an array field)."""
    if len(values) != len(fields):
        raise ValueError(f"{len(values)} values for {len(fields)} fields")
    out = bytearray([local])
    for field, value in zip(fields, values, strict=True):
        elements = [value] if isinstance(value, int) else list(value)
        if len(elements) != field.count:
            raise ValueError(f"field {field.number}: {len(elements)} elements, expected {field.count}")
        out += struct.pack(f"<{field.count}{_BASE_FORMATS[field.base_type]}", *elements)
    return bytes(out)


def file_header(data_size: int, profile_version: int = PROFILE_VERSION) -> bytes:
    """The 14-byte file header for ``data_size`` bytes of records."""
    head = struct.pack("<BBHI4s", HEADER_SIZE, PROTOCOL_VERSION, profile_version, data_size, b".FIT")
    return head + struct.pack("<H", crc16(head))


def fit_file(records: bytes) -> bytes:
    """A complete FIT file: header, ``records``, file CRC."""
    body = file_header(len(records)) + records
    return body + struct.pack("<H", crc16(body))


FILE_ID_FIELDS = (
    FieldDef(0, 1, ENUM),  # type
    FieldDef(1, 2, UINT16),  # manufacturer
    FieldDef(2, 2, UINT16),  # product
    FieldDef(3, 4, UINT32Z),  # serial_number
    FieldDef(4, 4, UINT32),  # time_created
)
SESSION_FIELDS = (FieldDef(2, 4, UINT32),)  # start_time
HRV_FIELDS = (FieldDef(0, 2 * HRV_SLOTS, UINT16),)  # time: five uint16 (s, scale 1000)


def file_id_records(
    time_created_utc: float,
    *,
    local: int = 0,
    manufacturer: int = MANUFACTURER_GARMIN,
    product: int = 3121,
    serial_number: int = 3_456_789_012,
) -> bytes:
    """Definition and data message of an activity ``file_id``."""
    values = (FILE_TYPE_ACTIVITY, manufacturer, product, serial_number, fit_time(time_created_utc))
    return definition_message(local, MESG_FILE_ID, FILE_ID_FIELDS) + data_message(
        local, FILE_ID_FIELDS, values
    )


def session_records(start_utc: float, *, local: int = 1) -> bytes:
    """Definition and data message of a ``session`` holding only its ``start_time``."""
    return definition_message(local, MESG_SESSION, SESSION_FIELDS) + data_message(
        local, SESSION_FIELDS, (fit_time(start_utc),)
    )


def hrv_records(rr_ms: Sequence[float], *, local: int = 2) -> bytes:
    """One ``hrv`` definition, then a data message per five intervals (``round(ms)``; 0xFFFF padding)."""
    out = bytearray(definition_message(local, MESG_HRV, HRV_FIELDS))
    for first in range(0, len(rr_ms), HRV_SLOTS):
        chunk = [round(value) for value in rr_ms[first : first + HRV_SLOTS]]
        for value in chunk:
            if not 0 < value < HRV_INVALID:
                raise ValueError(f"RR {value} ms does not fit a FIT hrv slot")
        chunk += [HRV_INVALID] * (HRV_SLOTS - len(chunk))
        out += data_message(local, HRV_FIELDS, (chunk,))
    return bytes(out)


def fit_file_bytes(
    rr_ms: Sequence[float],
    start_utc: float,
    *,
    time_created_utc: float | None = None,
    with_hrv: bool = True,
) -> bytes:
    """An activity FIT file as a watch writes one with HRV logging on: ``file_id``, the ``hrv`` messages,
    then the ``session`` (starting at ``start_utc``, whole seconds).  ``time_created_utc`` defaults to the
    start; ``with_hrv=False`` leaves the hrv messages out."""
    created = start_utc if time_created_utc is None else time_created_utc
    records = file_id_records(created)
    if with_hrv:
        records += hrv_records(rr_ms)
    records += session_records(start_utc)
    return fit_file(records)
