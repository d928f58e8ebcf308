"""Public pages: the licence verification page the printed QR code leads to.

`/verify/licence/<identifier>` checks the licence now (signature, issuer trust in the issuer's home
region, status list, validity dates: `verification.verify_licence_document`, failing closed) and shows
only what is not sensitive: the type, the holder (a person's name masked, the code masked), the
issuer, the dates and the status. An unknown or malformed identifier gets the same page saying "not
found or invalid" (404), with nothing about why.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tongban.core.codes import mask

from .models import Licence
from .printing import STATUS_ZH, chinese_date, validity_text
from .selectors import display_status, licence_document
from .verification import VerificationUnavailable, verify_licence_document


def mask_person_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: a person's name is masked; an enterprise's is public register data."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


@require_GET
def verify_licence(request, identifier: str):
    licence = None
    if len(identifier) <= Licence._meta.get_field("identifier").max_length:
        licence = (Licence.objects.select_related("licence_type", "issuer", "signing_key")
                   .filter(identifier=identifier).first())
    now = timezone.now()
    context: dict = {"found": licence is not None, "checked_at": timezone.localtime(now)}
    code = 200 if licence is not None else 404
    if licence is not None:
        try:
            result = verify_licence_document(licence_document(licence), now=now)
        except VerificationUnavailable as exc:  # our failure: say so (503), never "invalid" or "untrusted"
            result, code = exc, 503
        status = display_status(licence, timezone.localdate(now))
        person = licence.holder_code_type == Licence.HolderCodeType.ID_NUMBER
        context.update(
            valid=getattr(result, "valid", False),
            reason_zh=result.reason_zh,
            reason_en=result.reason_en,
            type_name=licence.licence_type.name,
            holder_name=mask_person_name(licence.holder_name) if person else licence.holder_name,
            holder_code=mask(licence.holder_code),
            issuer_name=licence.issuer.name,
            issued_on=chinese_date(timezone.localtime(licence.issued_at).date()),
            validity=validity_text(licence),
            status_zh=STATUS_ZH.get(status, status),
            identifier=licence.identifier,
            version=licence.version,
        )
    response = render(request, "licences/verify.html", context, status=code)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
