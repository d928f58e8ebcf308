import pytest

from tests.demo_fixtures import demo_catalog  # noqa: F401 - fixture
from tongban.bundles.models import BundleVersion

pytestmark = pytest.mark.usefixtures("demo_catalog")


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "x-secret-pass-1")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_admin_lists_and_compares_items_in_chinese(admin_client):
    page = admin_client.get("/admin/catalog/item/?region__code__exact=421200")
    assert page.status_code == 200 and "企业设立登记" in page.content.decode()
    diff = admin_client.get("/admin/catalog/item/diff/000117002000/")
    assert diff.status_code == 200 and "青浦区" in diff.content.decode() and "从业人员健康证明" in diff.content.decode()


@pytest.mark.django_db
def test_published_versions_are_read_only_in_the_admin(admin_client):
    version = BundleVersion.objects.get(bundle__code="open-restaurant")
    response = admin_client.post(f"/admin/bundles/bundleversion/{version.pk}/change/", {"definition": "{}"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.definition["items"]


@pytest.mark.django_db
def test_bundle_preview_and_validation_explain_every_error(admin_client):
    version = BundleVersion.objects.get(bundle__code="open-restaurant")
    page = admin_client.get(f"/admin/bundles/bundleversion/{version.pk}/preview/", {"region": "421200", "answers": '{"area_sqm": 800}'})
    text = page.content.decode()
    assert page.status_code == 200 and "特殊建设工程消防设计审查" in text and "由前一环节办结后产生" in text
    draft = {"bundle": version.bundle_id, "version": 2, "status": "draft", "regions": ["421200"],
             "definition": '{"questionnaire": [], "items": [{"key": "a", "item": "000199999000", "include_if": {">": [{"var": "nope"}, 1]}}]}'}
    response = admin_client.post("/admin/bundles/bundleversion/add/", draft)
    text = response.content.decode()
    assert response.status_code == 200 and "000199999000" in text and "nope" in text
    assert not BundleVersion.objects.filter(version=2).exists()
