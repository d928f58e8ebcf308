"""Region administrators in the admin (issue 14, finding 3): `changsha-admin` maintains 长沙's catalogue,
bundle versions, staff and calendar overrides, and reaches nothing of 株洲 (the outsider region);
published versions are deleted by nobody; the bundle preview reads as a table, not a Python dict."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from tests.demo_fixtures import demo_full  # noqa: F401
from tongban.accounts.models import User
from tongban.bundles.models import Bundle, BundleVersion
from tongban.catalog.models import Item, ItemVersion
from tongban.workdays.models import CalendarOverride

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]
OWN, OTHER = "430100", "430200"


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def changsha():
    return _client("changsha-admin")


def test_the_region_administrator_has_a_working_admin(changsha):
    index = changsha.get("/admin/")
    text = index.content.decode()
    assert index.status_code == 200 and "你没有查看或编辑的权限" not in text
    for model in ("/admin/catalog/item/", "/admin/catalog/itemversion/", "/admin/bundles/bundleversion/",
                  "/admin/accounts/user/", "/admin/workdays/calendaroverride/"):
        assert model in text, model
        assert changsha.get(model).status_code == 200, model


def test_own_items_listed_and_editable_others_not_found(changsha):
    own = Item.objects.filter(region_id=OWN).first()
    other = Item.objects.filter(region_id=OTHER).first()
    listing = changsha.get("/admin/catalog/item/").content.decode()
    assert f"/admin/catalog/item/{own.pk}/change/" in listing
    assert f"/admin/catalog/item/{other.pk}/change/" not in listing
    page = changsha.get(f"/admin/catalog/item/{own.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' in page.content.decode()
    # Another region's item is "not found" (the admin redirects to its index), its edit refused.
    assert changsha.get(f"/admin/catalog/item/{other.pk}/change/").status_code == 302
    name = other.name
    changsha.post(f"/admin/catalog/item/{other.pk}/change/", {"name": "改掉"})
    other.refresh_from_db()
    assert other.name == name


def test_an_item_cannot_be_moved_to_another_region(changsha):
    own = Item.objects.filter(region_id=OWN).first()
    page = changsha.get(f"/admin/catalog/item/{own.pk}/change/").content.decode()
    assert f'<option value="{OWN}"' in page and f'<option value="{OTHER}"' not in page


def test_published_versions_are_never_deleted(changsha):
    version = ItemVersion.objects.filter(item__region_id=OWN, status="published").first()
    page = changsha.get(f"/admin/catalog/itemversion/{version.pk}/change/").content.decode()
    assert "deletelink" not in page and 'name="_save"' not in page
    assert changsha.post(f"/admin/catalog/itemversion/{version.pk}/delete/", {"post": "yes"}).status_code == 403
    bundle_version = BundleVersion.objects.get(bundle__code="open-restaurant")
    root = User.objects.create_superuser("root-h", "root@example.org", "x-secret-pass-1")
    superuser = Client()
    superuser.force_login(root)
    page = superuser.get(f"/admin/bundles/bundleversion/{bundle_version.pk}/change/").content.decode()
    assert "deletelink" not in page
    assert superuser.post(f"/admin/bundles/bundleversion/{bundle_version.pk}/delete/", {"post": "yes"}).status_code == 403
    superuser.post("/admin/bundles/bundleversion/", {"action": "delete_selected", "_selected_action": [bundle_version.pk],
                                                     "post": "yes"})
    assert BundleVersion.objects.filter(pk=bundle_version.pk).exists() and ItemVersion.objects.filter(pk=version.pk).exists()


def _draft(regions: list[str]) -> BundleVersion:
    published = BundleVersion.objects.get(bundle__code="open-restaurant")
    draft = BundleVersion.objects.create(bundle=published.bundle, version=9, status="draft",
                                         definition=published.definition)
    draft.regions.set(regions)
    return draft


def test_bundle_drafts_of_the_own_region_only(changsha):
    own = _draft([OWN])
    shared = BundleVersion.objects.create(bundle=own.bundle, version=10, status="draft", definition=own.definition)
    shared.regions.set([OWN, OTHER])
    other = BundleVersion.objects.create(bundle=own.bundle, version=11, status="draft", definition=own.definition)
    other.regions.set([OTHER])
    assert 'name="_save"' in changsha.get(f"/admin/bundles/bundleversion/{own.pk}/change/").content.decode()
    # A draft that also applies elsewhere is seen, not changed; one of another region is not found.
    assert changsha.post(f"/admin/bundles/bundleversion/{shared.pk}/change/", {}).status_code == 403
    assert changsha.get(f"/admin/bundles/bundleversion/{other.pk}/change/").status_code == 302
    assert changsha.get(f"/admin/bundles/bundleversion/{other.pk}/preview/").status_code == 404
    # A new draft can only name the own region.
    new = {"bundle": own.bundle_id, "version": 12, "status": "draft", "regions": [OTHER],
           "definition": '{"questionnaire": [], "items": []}'}
    changsha.post("/admin/bundles/bundleversion/add/", new)
    assert not BundleVersion.objects.filter(version=12).exists()
    assert changsha.get(f"/admin/bundles/bundle/{own.bundle_id}/change/").status_code == 200  # national: view
    assert changsha.post(f"/admin/bundles/bundle/{own.bundle_id}/change/", {"name": "x"}).status_code == 403
    assert Bundle.objects.get(pk=own.bundle_id).name != "x"


def test_the_bundle_preview_is_a_table_not_a_python_dict(changsha):
    version = BundleVersion.objects.get(bundle__code="open-restaurant")
    text = changsha.get(f"/admin/bundles/bundleversion/{version.pk}/preview/",
                        {"region": OWN, "answers": '{"area_sqm": 800}'}).content.decode()
    assert 'data-testid="metrics"' in text and "特殊建设工程消防设计审查" in text
    assert "{&#x27;" not in text and "visits_bundled" not in text and "[produced]" not in text


def test_staff_of_the_own_region_only(changsha):
    own = User.objects.get(username="changsha-clerk")
    other = User.objects.get(username="zhuzhou-clerk")
    listing = changsha.get("/admin/accounts/user/").content.decode()
    assert "changsha-clerk" in listing and "zhuzhou-clerk" not in listing and "changsha-boss" not in listing
    assert changsha.get(f"/admin/accounts/user/{other.pk}/change/").status_code == 302
    page = changsha.get(f"/admin/accounts/user/{own.pk}/change/").content.decode()
    assert 'name="_save"' in page and "is_superuser" not in page and "user_permissions" not in page
    response = changsha.post("/admin/accounts/user/add/", {"username": "changsha-clerk2", "usable_password": "true",
                                                           "password1": "x-Secret-pass-19", "password2": "x-Secret-pass-19"})
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(username="changsha-clerk2")
    assert (created.kind, created.region_id, created.is_superuser) == ("staff", OWN, False)


def test_calendar_overrides_of_the_own_region_only(changsha):
    national = CalendarOverride.objects.create(date=date(2027, 3, 3), kind="holiday", name="全国", region=None)
    other = CalendarOverride.objects.create(date=date(2027, 3, 4), kind="holiday", name="株洲", region_id=OTHER)
    listing = changsha.get("/admin/workdays/calendaroverride/").content.decode()
    assert f"/{national.pk}/change/" in listing and f"/{other.pk}/change/" not in listing
    assert changsha.post(f"/admin/workdays/calendaroverride/{national.pk}/delete/", {"post": "yes"}).status_code == 403
    for region in (OTHER, ""):
        changsha.post("/admin/workdays/calendaroverride/add/",
                      {"date": "2027-03-05", "kind": "holiday", "region": region, "name": "x", "source": ""})
    assert not CalendarOverride.objects.filter(date=date(2027, 3, 5)).exists()
    response = changsha.post("/admin/workdays/calendaroverride/add/",
                             {"date": "2027-03-05", "kind": "holiday", "region": OWN, "name": "长沙", "source": "x"})
    assert response.status_code == 302
    assert CalendarOverride.objects.get(date=date(2027, 3, 5)).region_id == OWN


def test_an_officer_gets_no_admin(client):
    client.force_login(User.objects.get(username="changsha-market"))
    assert client.get("/admin/catalog/item/").status_code == 302  # to the admin login
