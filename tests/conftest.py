"""Fixtures shared by every test folder."""

from tests.support.demo_month import month_conn, month_db  # noqa: F401  (the shared demo month, built once)
