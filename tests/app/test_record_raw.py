"""`restbeat record --raw` against the emulated strap: every notification and event lands in the file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from restbeat.app.importing import import_file
from restbeat.app.record_raw import RawFileExistsError, record_raw
from restbeat.devices import hrs
from restbeat.devices.emulator import EmulatedStrap
from restbeat.devices.formats.raw_hrm import FORMAT
from restbeat.devices.virtual_link import VirtualRadio, virtual_bleak_kwargs
from restbeat.store.database import open_database
from restbeat.store.queries import list_sessions, session_beats, session_packets, session_records
from tests.devices.test_ble_virtual import FAST


@pytest.mark.asyncio
async def test_raw_recording_through_a_drop(tmp_path: Path) -> None:
    radio = VirtualRadio()
    strap = EmulatedStrap(radio)
    await strap.start()
    scanner_kwargs, client_kwargs = virtual_bleak_kwargs(radio)
    path = tmp_path / "raw.jsonl"
    payloads = [hrs.encode_measurement(hrs.measurement(60 + k, [1000 + k])) for k in range(6)]

    async def strap_side() -> None:
        while not strap.connected:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # let the collector subscribe
        for payload in payloads[:3]:
            assert await strap.notify(payload)
        await strap.disconnect()
        while not strap.connected:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        for payload in payloads[3:]:
            assert await strap.notify(payload)

    summary, _ = await asyncio.gather(
        record_raw(
            path,
            strap.identity.address,
            duration_s=2.5,
            config=FAST,
            scanner_kwargs=scanner_kwargs,
            client_kwargs=client_kwargs,
        ),
        strap_side(),
    )
    await strap.stop()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["format"] == FORMAT and lines[0]["strap"] == strap.identity.address
    notifications = [line for line in lines if "hex" in line]
    assert [bytes.fromhex(n["hex"]) for n in notifications] == payloads
    assert [n["connection"] for n in notifications] == [1, 1, 1, 2, 2, 2]
    times = [n["t_s"] for n in notifications]
    assert times == sorted(times) and times[0] > 0
    events = [line["event"] for line in lines if "event" in line]
    assert "StrapDetails" in events and "BatteryLevel" in events
    states = [(line["state"], line["reason"]) for line in lines if line.get("event") == "StateChanged"]
    reconnects = [reason for state, reason in states if state == "reconnecting"]
    assert reconnects[0] == "link lost"  # the strap's disconnect; later ones are the watchdog on silence
    assert all(reason.endswith("(watchdog)") for reason in reconnects[1:])
    assert states[-1] == ("stopped", "stopped by the user")
    assert summary.notifications == 6 and summary.connections == 1 + len(reconnects)
    with pytest.raises(RawFileExistsError, match="never overwrites"):
        await record_raw(path, strap.identity.address, duration_s=0.1)

    # the raw file imports into the store with every notification and link event kept
    conn = open_database(tmp_path / "db.sqlite3")
    result = import_file(conn, path, context="on-shift")
    assert result.format == "restbeat-raw"
    [session] = list_sessions(conn)
    assert [raw for _, _, raw in session_packets(conn, session.id)] == payloads
    assert len(session_records(conn, "link_events", session.id)) == len(events)
    beats = session_beats(conn, session.id)
    assert beats.rr_ms.tolist() == [(1000 + k) * 1000 / 1024 for k in range(6)]  # ticks to ms
    assert beats.kind.count("first_after_connect") == 2  # one per connection, flagged and never used
