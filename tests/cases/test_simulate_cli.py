"""`tongban simulate` mistakes are clear messages naming what is wrong, before any case is created."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.demo_fixtures import demo_full  # noqa: F401
from tongban.cases.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

RESTAURANT = ["open-restaurant", "--region", "430100", "--answers", '{"area_sqm": 800}']


@pytest.mark.parametrize(("args", "message"), [
    ([*RESTAURANT, "--deny", "nosuchitem"], "未知的事项键 nosuchitem"),
    ([*RESTAURANT, "--decide", '{"typo-key": {"类型": "股份有限公司"}}'], "unknown item key(s) typo-key"),
    (["open-restaurant", "--region", "999999"], "region 999999 does not exist"),
    (["nosuch", "--region", "430100"], "bundle nosuch does not exist"),
    (["--item", "000117001000", "--region", "999999"], "region 999999 does not exist"),
    ([*RESTAURANT, "--accept-on", "2026-02-30"], "not a valid date"),
])
def test_a_mistake_is_named_and_nothing_is_created(args, message):
    before = Case.objects.count()
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("simulate", *args)
    assert Case.objects.count() == before


def test_a_known_key_denies_that_item(capsys):
    call_command("simulate", *RESTAURANT, "--deny", "env-impact-filing")
    case = Case.objects.latest("id")
    assert case.subcases.get(key="env-impact-filing").status == "denied"
