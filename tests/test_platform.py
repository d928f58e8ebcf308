import pytest


@pytest.mark.django_db
def test_healthz_reports_database_and_task_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"]["ok"] is True
    assert body["tasks"]["ok"] is True


@pytest.mark.django_db
def test_home_page_renders_in_chinese(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "一网通办" in response.content.decode()
