import pytest

from tests.demo_fixtures import demo_catalog  # noqa: F401 - fixture


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_catalog")
def test_home_lists_bundles_regions_and_demo_accounts(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = client.get("/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "我要开饭馆" in text and "新生儿出生一件事" in text
    assert "咸宁市 (421200)" in text and "xianning-clerk" in text
