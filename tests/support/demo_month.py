"""A two-week demo month in a database, built once per test run and shared (read-only) by the review,
trends and report tests: 8 shifts (5 day, 3 night) with their check-ins, about 20 s to record."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from restbeat.app.demo_month import fill_month
from restbeat.store.database import open_database

MONTH_LAST = dt.date(2026, 3, 11)  # the fixed last day of the shared month (a Wednesday)
MONTH_DAYS = 14


@pytest.fixture(scope="session")
def month_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared month's database file; open it, never write to it."""
    path = tmp_path_factory.mktemp("month") / "month.sqlite3"
    conn = open_database(path)
    try:
        fill_month(conn, MONTH_DAYS, seed=1, last=MONTH_LAST)
    finally:
        conn.close()
    return path


@pytest.fixture(scope="module")
def month_conn(month_db: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the shared month, for one test module."""
    conn = open_database(month_db)
    yield conn
    conn.close()
