"""The service boundary (tongban.core.transactions): durable, audit last, one retry, then "busy"."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection, transaction
from django.test import RequestFactory

from tongban.audit.models import AuditEntry
from tongban.audit.services import append_entry, verify_chain
from tongban.core.errors import Busy
from tongban.core.middleware import RequestLogMiddleware
from tongban.core.transactions import retryable, service

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


class _Deadlock(Exception):
    sqlstate = "40P01"


def _deadlock() -> OperationalError:
    try:
        try:
            raise _Deadlock("deadlock detected")
        except _Deadlock as cause:
            raise OperationalError("deadlock detected") from cause
    except OperationalError as exc:
        return exc


@service
def _append(action: str) -> AuditEntry:
    return append_entry(action=action)


def test_a_top_level_service_inside_another_transaction_raises():
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        _append("case.nested")
    assert not AuditEntry.objects.exists()


def test_the_inner_function_joins_the_callers_transaction():
    @service
    def outer():
        return _append.inner("case.inner")

    entry = outer()
    assert entry.seq == 1 and verify_chain().ok


def test_trail_entries_are_written_at_the_end_of_the_service_in_order():
    seen = {}

    @service
    def work():
        first = append_entry(action="case.first")
        second = append_entry(action="case.second")
        seen["during"] = (first.pk, second.pk, AuditEntry.objects.count())
        return first, second

    first, second = work()
    assert seen["during"] == (None, None, 0)  # nothing appended (no chain-head lock) while the service ran
    assert (first.seq, second.seq) == (1, 2) and second.prev_hash == first.hash
    assert verify_chain().ok


def test_an_entry_made_in_a_rolled_back_savepoint_is_dropped():
    @service
    def work():
        append_entry(action="case.kept")
        with pytest.raises(Boom), transaction.atomic():
            append_entry(action="case.rolled_back")
            raise Boom
        append_entry(action="case.after")

    work()
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["case.kept", "case.after"]
    assert verify_chain().ok
    assert not connection.run_on_commit


def test_a_failing_service_appends_nothing():
    @service
    def work():
        append_entry(action="case.never")
        raise Boom

    with pytest.raises(Boom):
        work()
    assert not AuditEntry.objects.exists()


def test_a_deadlock_victim_is_run_once_more():
    calls = []

    @service
    def flaky():
        calls.append(1)
        append_entry(action=f"case.try{len(calls)}")
        if len(calls) == 1:
            raise _deadlock()
        return "done"

    assert flaky() == "done"
    assert len(calls) == 2
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["case.try2"]


def test_a_second_deadlock_is_busy_not_a_server_error():
    calls = []

    @service
    def always():
        calls.append(1)
        raise _deadlock()

    with pytest.raises(Busy) as caught:
        always()
    assert len(calls) == 2
    assert caught.value.problem.rule == "busy.retry"
    response = RequestLogMiddleware(lambda r: None).process_exception(RequestFactory().get("/x"), caught.value)
    assert response.status_code == 503 and response["Retry-After"]
    assert "请稍后重试" in response.content.decode() and "please retry" in response.content.decode()


def test_other_database_errors_are_not_retried():
    calls = []

    @service
    def broken():
        calls.append(1)
        raise OperationalError("no such table: nowhere")

    with pytest.raises(OperationalError):
        broken()
    assert len(calls) == 1
    assert not retryable(OperationalError("no such table"))
    assert retryable(_deadlock())
