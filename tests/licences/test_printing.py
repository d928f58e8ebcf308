"""The printable licence (证照打印版), the public verification page its QR code leads to, and
GET /api/v1/licences/{id}/pdf for the holder."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date

import pytest
from django.urls import include, path

from tongban.licences import printing, services

from .factories import LicenceTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

# The verification page is mounted by tongban.urls (`path("", include("tongban.licences.urls"))`); the
# tests mount it themselves too, so they do not depend on that line.
urlpatterns = [path("", include("tongban.licences.urls")), path("", include("tongban.urls"))]
with_page = pytest.mark.urls(__name__)

BASE = "https://tongban.example.gov.cn"


def tool(name: str, *args: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} not installed (poppler-utils / zbar-tools)")
    return subprocess.run([exe, *args], capture_output=True, text=True).stdout  # noqa: S603


def pdf_text(data: bytes, tmp_path) -> str:
    (tmp_path / "licence.pdf").write_bytes(data)
    return re.sub(r"\s+", "", tool("pdftotext", "-enc", "UTF-8", str(tmp_path / "licence.pdf"), "-"))


def test_the_printed_licence_carries_every_field_and_masks_the_code(issue, enterprise, tmp_path):
    licence = issue(data={"business_name": enterprise.name, "address": "长沙市岳麓区麓山路 1 号", "floor_area": 120})
    data = printing.licence_pdf(licence, base_url=BASE, today=date(2025, 6, 1))
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1  # a licence fits on one page
    text = pdf_text(data, tmp_path)
    for expected in (licence.licence_type.name, enterprise.name, "经营者名称", "经营场所", "长沙市岳麓区麓山路1号",
                     "经营项目—", "面积120", licence.issuer.name, "2025年1月1日至2029年12月31日",
                     licence.identifier, "第1版", "有效（2025年6月1日）", "持证主体代码类型统一社会信用代码"):
        assert expected in text, expected
    assert enterprise.uscc not in text
    assert enterprise.uscc[:4] in text and enterprise.uscc[-4:] in text  # masked, not removed
    assert f"{BASE}/verify/licence/{licence.identifier}" in text


def test_the_printed_qr_code_leads_to_the_verification_page(issue, tmp_path):
    licence = issue()
    (tmp_path / "licence.pdf").write_bytes(printing.licence_pdf(licence, base_url=BASE))
    tool("pdftoppm", "-r", "150", "-png", str(tmp_path / "licence.pdf"), str(tmp_path / "page"))
    decoded = {tool("zbarimg", "-q", "--raw", str(p)).strip() for p in tmp_path.glob("page*.png")} - {""}
    assert decoded == {f"{BASE}/verify/licence/{licence.identifier}"}


def test_the_print_shows_the_status_of_the_day(issue, tmp_path):
    licence = issue()
    services.suspend_licence(licence=licence, reason="整改")
    licence.refresh_from_db()
    assert "已中止" in pdf_text(printing.licence_pdf(licence, base_url=BASE), tmp_path)


def test_same_licence_same_day_same_bytes(issue):
    licence = issue()
    day = date(2025, 6, 1)
    assert printing.licence_pdf(licence, base_url=BASE, today=day) == printing.licence_pdf(licence, base_url=BASE,
                                                                                        today=day)


def test_the_url_comes_from_the_setting_when_no_base_is_given(issue, settings):
    settings.TONGBAN_PUBLIC_URL = "https://gov.example.cn/"
    licence = issue()
    assert printing.print_document(licence).verify_url == f"https://gov.example.cn/verify/licence/{licence.identifier}"


# --- the verification page ----------------------------------------------------------------------------


@with_page
def test_verification_page_says_valid_and_shows_only_non_sensitive_fields(issue, enterprise, client):
    licence = issue()
    response = client.get(f"/verify/licence/{licence.identifier}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "证照有效" in page and licence.licence_type.name in page and licence.issuer.name in page
    assert enterprise.name in page and "2025年1月1日 至 2029年12月31日" in page
    assert enterprise.uscc not in page  # the code is masked
    assert "长沙市岳麓区麓山路" not in page  # the licence data is not shown


@with_page
def test_verification_page_for_a_person_masks_the_name(issue, make_issuer, client):
    person = UserFactory(real_name="欧阳娜娜")
    person_type = LicenceTypeFactory(holder_kind="111", fields=[])
    licence = issue(lt=person_type, by=make_issuer(person_type), holder_code_type="111",
                    holder_code=person.id_number, holder_name=person.real_name, data={})
    page = client.get(f"/verify/licence/{licence.identifier}").content.decode()
    assert "欧***" in page and "欧阳娜娜" not in page and person.id_number not in page


@with_page
def test_verification_page_says_revoked(issue, client):
    licence = issue()
    services.revoke_licence(licence=licence, reason="吊销")
    response = client.get(f"/verify/licence/{licence.identifier}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "证照无效" in page and "证照已注销" in page and "证照有效</" not in page


@with_page
@pytest.mark.parametrize("identifier", ["1.2.156.3005.2.nothing", "x" * 500, "%E4%B8%AD"])
def test_unknown_identifiers_get_the_same_not_found_page(identifier, issue, client):
    issue()
    response = client.get(f"/verify/licence/{identifier}")
    assert response.status_code == 404
    page = response.content.decode()
    assert "未找到该证照，或证照标识无效" in page and "发证机关" not in page


# --- the API ------------------------------------------------------------------------------------------


def test_the_holder_downloads_the_pdf_and_nobody_else_does(issue, enterprise, client):
    licence = issue()
    url = f"/api/v1/licences/{licence.pk}/pdf"
    assert client.get(url).status_code == 401
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(enterprise.legal_representative)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f"licence-{licence.pk}-v1.pdf" in response["Content-Disposition"]
    assert client.get("/api/v1/licences/999999/pdf").status_code == 404
