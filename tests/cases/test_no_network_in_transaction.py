"""No register is queried inside a transaction: prefill at intake and shared-material fetches run with no
transaction open (beyond the test's own), and a failing register neither stops intake nor hides itself."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.cases import services
from tongban.cases.models import Case
from tongban.exchange import querying

from .conftest import accepted_restaurant, start_restaurant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]


def _spy_on_registers(monkeypatch) -> list[int]:
    """Record how many atomic blocks are open whenever an exchange adapter fetches from a register."""
    depths: list[int] = []
    real = querying.adapter_for

    class Spy:
        def __init__(self, adapter):
            self.adapter = adapter

        def fetch(self, *args, **kwargs):
            depths.append(len(connection.atomic_blocks))
            return self.adapter.fetch(*args, **kwargs)

    monkeypatch.setattr(querying, "adapter_for", lambda resource: Spy(real(resource)))
    return depths


def test_intake_prefills_from_the_registers_outside_any_transaction(monkeypatch):
    outside = len(connection.atomic_blocks)  # the test's own blocks
    depths = _spy_on_registers(monkeypatch)
    case = start_restaurant()
    assert depths and set(depths) == {outside}, depths
    assert any(source.get("resource") for source in case.form_sources.values()), case.form_sources
    assert Case.objects.get(pk=case.pk).form_sources == case.form_sources


def test_a_failing_register_does_not_stop_intake_and_is_not_hidden(monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("register unreachable")

    monkeypatch.setattr(querying, "prefill", broken)
    with caplog.at_level(logging.ERROR, logger="tongban.cases.services.intake"):
        case = start_restaurant()
    assert case.status == Case.Status.DRAFT
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and case.number in errors[0].getMessage(), [r.getMessage() for r in caplog.records]
    standard = [n for n, p in case.plan["form"]["properties"].items() if p.get("x-standard")]
    # Every standard field is marked: failed, or filled from the questionnaire's answers (the area).
    assert standard and all(case.form_sources[n]["prefill"] in ("failed", "answers") for n in standard)
    assert any(case.form_sources[n]["prefill"] == "failed" for n in standard)
    client = Client()
    client.force_login(case.filed_by)
    page = client.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-testid="not-prefilled"' in page and 'data-testid="prefilled"' not in page


def test_shared_material_is_fetched_before_the_case_is_locked(monkeypatch):
    from tests.access.test_write_access import _data_material

    case = accepted_restaurant()
    row, officer = _data_material(case)
    outside = len(connection.atomic_blocks)
    depths = _spy_on_registers(monkeypatch)
    fetched = services.fetch_shared_material(case=case, material_code=row.code, actor=officer)
    assert depths == [outside]
    assert fetched.data["ref"] and case.materials.get(code=row.code).data == fetched.data
