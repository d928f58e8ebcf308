from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from .factories import EnterpriseFactory, PersonFactory

# Item basic codes (2 region + 2 type + 5 main + 3 sub).
ITEM_A, ITEM_B, ITEM_C = "430100001000", "432000002000", "430700003000"


@pytest.fixture
def people(db):
    boss = PersonFactory(username="boss")
    agent = PersonFactory(username="agent")
    other = PersonFactory(username="other")
    helper = PersonFactory(username="helper")
    enterprise = EnterpriseFactory(legal_representative=boss)
    today = timezone.localdate()
    return SimpleNamespace(boss=boss, agent=agent, other=other, helper=helper, enterprise=enterprise, today=today,
                           year=today + dt.timedelta(days=365))
