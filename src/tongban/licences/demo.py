"""Demo keys and trust for the demo loader: `ensure_demo_keys()` (idempotent).

- Every department gets an active Ed25519 signing key, except market-regulation departments of
  咸宁 (421200), which sign with SM2/SM3 (to show the national algorithm side by side).
- Every region with departments gets a trust list naming them, signed by a region key.
- Regions of one cooperation area recognise each other (跨域互认): 长沙/株洲/湘潭 and
  青浦/吴江/嘉善 (长三角生态绿色一体化发展示范区). 咸宁 recognises nobody, so its licences only
  verify at home (or once recognised in the admin).
- Lists due for re-signing are refreshed, so a reloaded demo never serves stale lists.
Which department issues which licence type is demo data of the catalogue: call
`services.authorise_issuer(licence_type=..., department=...)` for each pair.
"""

from __future__ import annotations

from django.db import transaction

from tongban.catalog.models import LicenceType
from tongban.regions.models import Department, Region

from . import crypto, keystore, services, trust
from .models import Licence, TrustedIssuer, TrustRecognition

SM2_REGION = "421200"
SM2_KIND = Department.Kind.MARKET_REGULATION
RECOGNITION_GROUPS = [("430100", "430200", "430300"), ("310118", "320509", "330421")]


def authorise_catalogue_issuers() -> int:
    """Each item's implementing department may issue the item's result licence type (as the catalogue says)."""
    from tongban.catalog.models import ItemVersion

    from .models import LicenceTypeIssuer

    pairs = set(ItemVersion.objects.filter(result_licence_type__isnull=False)
                .values_list("result_licence_type_id", "item__department_id"))
    existing = set(LicenceTypeIssuer.objects.values_list("licence_type_id", "department_id"))
    for type_id, department_id in sorted(pairs - existing):
        services.authorise_issuer(licence_type=LicenceType.objects.get(pk=type_id),
                                  department=Department.objects.get(pk=department_id))
    return len(pairs - existing)


def demo_algorithm(department: Department) -> str:
    return crypto.SM2_SM3 if department.region_id == SM2_REGION and department.kind == SM2_KIND else crypto.ED25519


@transaction.atomic
def ensure_demo_keys() -> dict:
    created_keys, changed = 0, set()
    for department in Department.objects.select_related("region").order_by("pk"):
        if keystore.active_key(department=department) is None:
            keystore.create_key(department=department, algorithm=demo_algorithm(department))
            created_keys += 1
            changed.add(department.region_id)
        if not TrustedIssuer.objects.filter(trust_list__region=department.region, department=department).exists():
            trust.add_trusted_issuer(region=department.region, department=department, publish=False)
            changed.add(department.region_id)
    regions = {r.code: r for r in Region.objects.filter(code__in=[c for g in RECOGNITION_GROUPS for c in g])}
    for group in RECOGNITION_GROUPS:
        for a in group:
            for b in group:
                if a != b and a in regions and b in regions and not TrustRecognition.objects.filter(
                        region_id=a, recognised_id=b).exists():
                    TrustRecognition.objects.create(region=regions[a], recognised=regions[b])
                    changed.add(a)
    for region in Region.objects.filter(code__in=changed):
        trust.publish_trust_list(region=region)
    refreshed = trust.refresh_trust_lists() + services.refresh_status_lists()
    return {"issuers_authorised": authorise_catalogue_issuers(), "keys_created": created_keys, "trust_lists_published": len(changed), "refreshed": refreshed}


ID_CARD_NAME = "居民身份证"
ID_CARD_SOURCE = "DEMO-ID-CARD"


def issue_demo_id_cards() -> int:
    """Every demo applicant holds their 居民身份证 e-licence, issued by their region's public security
    bureau (idempotent), so the plan's "调用电子证照，无需提交" holds for them (issue 14, finding 4).
    Each issue is its own durable service call: run outside any transaction."""
    from datetime import date

    from tongban.accounts.models import User

    licence_type = LicenceType.objects.filter(name=ID_CARD_NAME).order_by("pk").first()
    if licence_type is None:
        return 0
    held = set(Licence.objects.filter(licence_type=licence_type).values_list("holder_code", flat=True))
    issued = 0
    people = User.objects.filter(kind=User.Kind.PERSON, username__regex=r"^[a-z]+-(citizen|boss|agent)$",
                                 region__isnull=False).exclude(id_number="").order_by("pk")
    for person in people:
        if person.id_number.upper() in held:
            continue
        issuer = Department.objects.filter(region_id=person.region_id, kind=Department.Kind.PUBLIC_SECURITY).first()
        if issuer is None:
            continue
        services.authorise_issuer(licence_type=licence_type, department=issuer)
        number = person.id_number
        data = {"姓名": person.real_name, "性别": "女" if int(number[16]) % 2 == 0 else "男", "民族": "汉",
                "出生": f"{number[6:10]}-{number[10:12]}-{number[12:14]}", "住址": f"{person.region.name}人民路 1 号",
                "公民身份号码": number}
        services.issue_licence(licence_type=licence_type, issuer=issuer, holder_code_type="111", holder_code=number,
                               holder_name=person.real_name, data=data, valid_from=date(2020, 1, 1),
                               source_ref=ID_CARD_SOURCE)
        issued += 1
    return issued
