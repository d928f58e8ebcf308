"""Shared fixtures: the demo catalogue loaded once per test module, rolled back afterwards."""

import contextlib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction


@contextlib.contextmanager
def committed_demo_data(django_db_blocker):
    """The whole demo, committed (threads with their own connections cannot see an uncommitted outer
    transaction), flushed afterwards. Refuses a database that is not a test database: a module-scoped
    fixture can run before pytest-django has switched to the test database (seen with `-n 0`)."""
    from tongban.core.demo import load
    from tongban.licences import cache as licence_cache
    from tongban.workdays import calendar

    with django_db_blocker.unblock():
        name = Path(str(connection.settings_dict["NAME"])).name
        assert name.startswith("test_"), f"refusing to load and flush a non-test database: {name}"
        calendar.clear_cache()
        licence_cache.invalidate()
        load()
        try:
            yield
        finally:
            connections.close_all()
            call_command("flush", interactive=False, verbosity=0)
            calendar.clear_cache()
            licence_cache.invalidate()


@pytest.fixture(scope="module")
def demo_catalog(django_db_setup, django_db_blocker):
    """The seven demo regions with their departments, items and bundles (no people)."""
    from tongban.catalog.services import import_documents
    from tongban.core.demo import build_documents

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic._from_testcase = True  # like a TestCase's own block: durable services may run inside it
        atomic.__enter__()
        try:
            import_documents(documents=build_documents(), provision_issuers=False)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def demo_full(django_db_setup, django_db_blocker):
    """The whole demo (`tongban.core.demo.load()`: catalogue, people, staff, licence keys, exchange
    registers, mandates) loaded once per test module, rolled back afterwards. Per-process caches that
    would outlive the rollback (working-day calendar, licence trust lists) are cleared around it."""
    from tongban.core.demo import load
    from tongban.licences import cache as licence_cache
    from tongban.workdays import calendar

    with django_db_blocker.unblock():
        calendar.clear_cache()
        licence_cache.invalidate()
        atomic = transaction.atomic()
        atomic._from_testcase = True  # like a TestCase's own block: durable services may run inside it
        atomic.__enter__()
        try:
            load()
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            calendar.clear_cache()
            licence_cache.invalidate()
