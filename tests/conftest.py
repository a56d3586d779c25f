"""Fixtures shared by every test folder, and the ``corpus`` marker (see tests/support/shared_data.py)."""

from __future__ import annotations

import pytest

from tests.support import shared_data
from tests.support.demo_month import month_conn, month_db  # noqa: F401  (the shared demo month, built once)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``corpus`` run where the full corpus is found; elsewhere skipped, saying how to get it."""
    if shared_data.corpus_available():
        return
    skip = pytest.mark.skip(reason=shared_data.missing_message())
    for item in items:
        if item.get_closest_marker("corpus") is not None:
            item.add_marker(skip)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tell shared_data which test runs (before its fixtures are set up), and if it may read the corpus."""
    shared_data.running = (item.nodeid, item.get_closest_marker("corpus") is not None)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    shared_data.running = None
