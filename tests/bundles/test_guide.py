import pytest
from django.core.management import call_command

from tests.demo_fixtures import demo_catalog  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("demo_catalog")


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "expected"), [
    ("我想开一家火锅店", "open-restaurant"),
    ("开个小餐馆", "open-restaurant"),
    ("开火锅店", "open-restaurant"),
    ("开民宿", "open-hotel"),
    ("注册公司", "start-company"),
    ("生孩子上户口", "newborn"),
    ("二手房过户", "sell-house"),
])
def test_guide_finds_the_bundle_first(client, query, expected):
    response = client.get("/api/v1/guide", {"q": query})
    assert response.status_code == 200
    assert response.json()[0]["code"] == expected


@pytest.mark.django_db
def test_guide_finds_single_items_and_reports_nothing_found(capsys):
    call_command("guide", "特种行业许可证", "--json")
    assert "000121001000" in capsys.readouterr().out
    call_command("guide", "火星移民")
    assert "nothing found" in capsys.readouterr().out


@pytest.mark.django_db
def test_guide_rejects_an_empty_query(client):
    response = client.get("/api/v1/guide", {"q": ""})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "q"
