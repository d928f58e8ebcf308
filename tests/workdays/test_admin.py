"""The admin goes through the services: uploads load a year, overrides notify listeners."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tongban.workdays.calendar import add_workdays, is_workday
from tongban.workdays.models import CalendarOverride, CalendarYear

pytestmark = pytest.mark.django_db


def test_upload_notice_loads_the_year(admin_client, example_2027, calls):
    upload = SimpleUploadedFile("notice.yaml", example_2027.read_bytes())
    response = admin_client.post("/admin/workdays/calendaryear/add/", {"file": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    record = CalendarYear.objects.get(year=2027)
    assert record.loaded_by.username == "admin"
    assert add_workdays(date(2026, 12, 28), 5).provisional is False
    assert calls == [(date(2027, 1, 1), date(2027, 12, 31), None)]


def test_upload_bad_notice_shows_problems_and_writes_nothing(admin_client):
    upload = SimpleUploadedFile("notice.yaml", b"year: 2027\nsource: x\nholidays: []\n")
    response = admin_client.post("/admin/workdays/calendaryear/add/", {"file": upload})
    assert response.status_code == 200
    assert "holidays: [required]" in response.content.decode()
    assert not CalendarYear.objects.exists()


def test_admin_pages_render_in_chinese(admin_client, example_2027):
    admin_client.post("/admin/workdays/calendaryear/add/",
                      {"file": SimpleUploadedFile("n.yaml", example_2027.read_bytes())})
    for url in ["/admin/workdays/calendaryear/", "/admin/workdays/calendaroverride/",
                "/admin/workdays/calendaroverride/add/", "/admin/workdays/calendaryear/add/",
                f"/admin/workdays/calendaryear/{CalendarYear.objects.get().pk}/change/"]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
    assert "工作日调整" in admin_client.get("/admin/workdays/calendaroverride/").content.decode()


def test_admin_override_create_change_delete(admin_client, regions, calls):
    form = {"date": "2026-11-10", "kind": "holiday", "region": "430100", "name": "台风停工", "source": "长沙市通知"}
    assert admin_client.post("/admin/workdays/calendaroverride/add/", form).status_code == 302
    override = CalendarOverride.objects.get()
    assert is_workday(date(2026, 11, 10), "430102") is False
    duplicate = admin_client.post("/admin/workdays/calendaroverride/add/", form)
    assert duplicate.status_code == 200 and "已有调整" in duplicate.content.decode()
    changed = {**form, "date": "2026-11-11"}
    assert admin_client.post(f"/admin/workdays/calendaroverride/{override.pk}/change/", changed).status_code == 302
    assert is_workday(date(2026, 11, 10), "430102") is True and is_workday(date(2026, 11, 11), "430102") is False
    assert admin_client.post(f"/admin/workdays/calendaroverride/{override.pk}/delete/", {"post": "yes"}).status_code \
        == 302
    assert not CalendarOverride.objects.exists()
    assert [c[0] for c in calls] == [date(2026, 11, 10), date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 11)]
