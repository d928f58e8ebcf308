import pytest
from django.core.management import call_command
from stdnum.cn import ric, uscc

from tongban.accounts.models import Enterprise, User
from tongban.bundles.models import Bundle
from tongban.catalog.models import Item
from tongban.regions.models import Department, Region, ServiceHall

DEMO_REGIONS = {"430100", "430200", "430300", "421200", "310118", "320509", "330421"}


@pytest.mark.django_db
def test_demo_load_creates_seven_regions_and_is_idempotent(capsys):
    call_command("demo", "load")
    assert set(Region.objects.values_list("code", flat=True)) >= DEMO_REGIONS
    for code in DEMO_REGIONS:
        assert Department.objects.filter(region_id=code).count() == 15
        assert Item.objects.filter(region_id=code).count() == 24
        assert ServiceHall.objects.filter(region_id=code).exists()
        assert User.objects.filter(region_id=code, kind="staff", groups__name="officer").count() == 15
    assert set(Bundle.objects.values_list("code", flat=True)) == {"open-restaurant", "open-hotel", "start-company",
                                                                   "sell-house", "newborn"}
    assert all(uscc.is_valid(u) for u in Department.objects.values_list("uscc", flat=True))
    assert all(uscc.is_valid(u) for u in Enterprise.objects.values_list("uscc", flat=True))
    ids = [i for i in User.objects.exclude(id_number="").values_list("id_number", flat=True)]
    assert len(ids) == 21 and all(ric.is_valid(i) for i in ids)
    counts = (Department.objects.count(), Item.objects.count(), User.objects.count())
    capsys.readouterr()
    call_command("demo", "load")
    assert "item_versions=0" in capsys.readouterr().out
    assert (Department.objects.count(), Item.objects.count(), User.objects.count()) == counts
