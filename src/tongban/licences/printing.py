"""The printable licence (证照打印版): a Chinese A4 PDF of one licence version, with a QR code leading to
the public verification page `/verify/licence/<identifier>`.

The print shows the type name, the holder's name and masked code, every field of the licence data
with its label from the type's `fields` schema, the issuer, the validity, the identifier, the version
and the status on the day it was printed. The print is a convenience: what counts is the signed
licence, which anyone can check by scanning the code.

The verification URL is absolute: `base_url` if given, else TONGBAN_PUBLIC_URL (settings or
environment), else http://127.0.0.1:8000.
"""

from __future__ import annotations

import os
from datetime import date

from django.conf import settings
from django.utils import timezone

from tongban.core.codes import mask
from tongban.core.pdf import Document, Section, render

from .documents import field_specs
from .models import Licence
from .selectors import display_status

VERIFY_PATH = "/verify/licence/{identifier}"

STATUS_ZH: dict[str, str] = {
    "valid": "有效",
    "suspended": "已中止",
    "revoked": "已注销",
    "superseded": "已被新版本取代（已注销）",
    "expired": "已超过有效期",
    "not_yet_valid": "尚未生效",
}
HOLDER_CODE_ZH = {"111": "居民身份证号码", "001": "统一社会信用代码"}


def configured_base_url() -> str | None:
    return getattr(settings, "TONGBAN_PUBLIC_URL", None) or os.environ.get("TONGBAN_PUBLIC_URL") or None


def public_base_url() -> str:
    return (configured_base_url() or "http://127.0.0.1:8000").rstrip("/")


def verify_path(identifier: str) -> str:
    return VERIFY_PATH.format(identifier=identifier)


def verify_url(identifier: str, base_url: str | None = None) -> str:
    return (base_url or public_base_url()).rstrip("/") + verify_path(identifier)


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def validity_text(licence: Licence) -> str:
    start = chinese_date(licence.valid_from)
    return f"自 {start} 起长期有效" if licence.valid_until is None else f"{start} 至 {chinese_date(licence.valid_until)}"


def _value_text(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def data_rows(licence: Licence) -> list[tuple[str, str]]:
    """Every field of the licence data with its label, in the type's schema order; fields the schema
    does not name (an old version's data, say) follow under their own names."""
    data = licence.data or {}
    rows, seen = [], set()
    for spec in field_specs(licence.licence_type.fields):
        rows.append((str(spec["label"]), _value_text(data.get(spec["name"]))))
        seen.add(spec["name"])
    rows.extend((str(key), _value_text(value)) for key, value in data.items() if key not in seen)
    return rows


def print_document(licence: Licence, *, base_url: str | None = None, today: date | None = None) -> Document:
    """The licence as a `tongban.core.pdf.Document` (what `licence_pdf` renders)."""
    today = today or timezone.localdate()
    status = display_status(licence, today)
    issued_on = timezone.localtime(licence.issued_at).date()
    holder = [
        ("持证主体名称", licence.holder_name),
        ("持证主体代码类型", HOLDER_CODE_ZH.get(licence.holder_code_type, licence.holder_code_type)),
        ("持证主体代码", mask(licence.holder_code)),
    ]
    issuance = [
        ("发证机关", licence.issuer.name),
        ("签发日期", chinese_date(issued_on)),
        ("有效期限", validity_text(licence)),
        ("版本", f"第 {licence.version} 版"),
        ("状态", f"{STATUS_ZH.get(status, status)}（{chinese_date(today)}）"),
    ]
    note = ("本件为电子证照的打印版，仅供参考。扫描下方二维码或访问二维码下的地址，可核验本证照的签名、"
            "发证机关、状态和有效期；以核验结果为准。")
    return Document(
        title=licence.licence_type.name,
        number=f"证照编号：{licence.identifier}",
        issuer=licence.issuer.name,
        issued_on=issued_on,
        sections=[
            Section(heading="持证主体", rows=holder),
            Section(heading="照面信息", rows=data_rows(licence)),
            Section(heading="发证信息", rows=issuance),
            Section(paragraphs=[note]),
        ],
        verify_url=verify_url(licence.identifier, base_url),
        seal_text=licence.issuer.name,
        footer="通办 · 电子证照库 打印版",
    )


def licence_pdf(licence: Licence, *, base_url: str | None = None, today: date | None = None) -> bytes:
    """The printable licence as PDF bytes (A4, Chinese, with the verification QR code)."""
    return render(print_document(licence, base_url=base_url, today=today))
