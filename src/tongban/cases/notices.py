"""Notices as PDF (Chinese, with a QR code to the public verification page) and their verification.

The content of a notice is frozen at issue (Notice.content) with its SHA-256 digest; the PDF is
rendered from it on demand, deterministically, so the same notice always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.urls import reverse

from tongban.core import pdf

from .models import Notice


def verify_path(notice: Notice) -> str:
    return reverse("cases:verify-notice", args=[notice.token])


def verify_url(notice: Notice, request=None) -> str:
    path = verify_path(notice)
    if request is not None:
        return request.build_absolute_uri(path)
    base = getattr(settings, "TONGBAN_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return base + path


def document_for(notice: Notice, request=None) -> pdf.Document:
    content = notice.content
    paragraphs = list(content.get("paragraphs", []))
    sections = [pdf.Section(paragraphs=paragraphs)]
    if content.get("rows"):
        sections.append(pdf.Section(heading="明细", rows=[(str(k), str(v)) for k, v in content["rows"]]))
    sections.append(pdf.Section(rows=[("办件编号", content.get("case", "")), ("事项", content.get("case_title", ""))]))
    return pdf.Document(title=content.get("title", notice.get_kind_display()), number=notice.number,
                        issuer=notice.issuer_name, issued_on=notice.issued_on, sections=sections,
                        verify_url=verify_url(notice, request), recipient=content.get("recipient", ""),
                        seal_text=notice.issuer_name, footer="扫描二维码或访问上述网址核验本文书真伪")


def render_pdf(notice: Notice, request=None) -> bytes:
    return pdf.render(document_for(notice, request))


def _intact(notice: Notice) -> bool:
    canonical = json.dumps(notice.content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest() == notice.digest


def verify(token: str) -> dict:
    """Public answer for a notice's QR code: genuine or not, with only non-personal facts."""
    notice = Notice.objects.filter(token=token).select_related("case").first() if token else None
    if notice is None or not _intact(notice):
        return {"valid": False}
    return {"valid": True, "number": notice.number, "kind": notice.kind, "title": notice.content.get("title"),
            "issued_on": notice.issued_on, "issuer": notice.issuer_name, "case": notice.case.number,
            "digest": notice.digest}
