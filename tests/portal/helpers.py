"""Data the portal tests need beyond the demo loader: a licence held by a demo enterprise, and a
logged data query about a demo person. Both go through the owning apps' services."""

from __future__ import annotations

from datetime import date

from tongban.accounts.models import Enterprise, User
from tongban.cases.simulation import minimal_pdf
from tongban.catalog.models import LicenceType
from tongban.exchange import services as exchange_services
from tongban.licences import services as licence_services
from tongban.licences.documents import field_specs
from tongban.licences.models import Licence
from tongban.regions.models import Department


def issue_business_licence(username: str = "changsha-boss") -> Licence:
    """A 营业执照 for the enterprise the demo user represents, issued by its region's market regulator."""
    enterprise = Enterprise.objects.select_related("region").get(legal_representative__username=username)
    licence_type = LicenceType.objects.filter(name="营业执照").order_by("pk").first()
    issuer = Department.objects.get(region_id=enterprise.region_id, kind=Department.Kind.MARKET_REGULATION)
    licence_services.authorise_issuer(licence_type=licence_type, department=issuer)
    data = {spec["name"]: "2026-01-01" if spec["type"] == "date" else f"{spec['label']}（示例）"
            for spec in field_specs(licence_type.fields)}
    return licence_services.issue_licence(
        licence_type=licence_type, issuer=issuer, holder_code_type="001", holder_code=enterprise.uscc,
        holder_name=enterprise.name, data=data, valid_from=date(2026, 1, 1), source_ref="DEMO-PORTAL-1")


def log_prefill_query(username: str = "changsha-boss", case_ref: str = "YJS-PORTAL-0001") -> None:
    """The platform prefills a form with the user's enterprise data: one granted, logged query."""
    user = User.objects.get(username=username)
    enterprise = Enterprise.objects.get(legal_representative=user)
    exchange_services.prefill(subject=enterprise.uscc, standard_fields=["enterprise.name", "enterprise.address"],
                              actor=user, case_ref=case_ref)


# --- cases --------------------------------------------------------------------------------------------

PDF = minimal_pdf("portal test")
BOSS_USCC = "91430100000700015J"
RESTAURANT_FORM = {"premises.address": "长沙市五一大道 1 号", "premises.area_sqm": 800,
                   "food.business_form": "餐饮服务经营者（大型餐馆）", "project.name": "刘记火锅店",
                   "enterprise.registered_capital": 360}
OFFICERS = {"市场监督管理局": "changsha-market", "生态环境局": "changsha-ecology", "住房和城乡建设局": "changsha-housing",
            "消防救援支队": "changsha-fire"}


def restaurant_draft(username: str = "changsha-boss"):
    from tongban.cases import services

    user = User.objects.get(username=username)
    return services.start_case(actor=user, region_code="430100", bundle_code="open-restaurant",
                               answers={"area_sqm": "800"}, enterprise_uscc=BOSS_USCC)


def complete(case, username: str = "changsha-boss"):
    """Everything the restaurant application needs: the missing form fields, a small PDF per upload
    material, the fire-safety commitment."""
    from tongban.cases import services
    from tongban.cases.models import CaseMaterial

    user = User.objects.get(username=username)
    services.update_draft(case=case, actor=user, form={k: v for k, v in RESTAURANT_FORM.items()
                                                       if k not in case.form})
    for row in case.materials.all():
        if row.status != CaseMaterial.Status.MISSING:
            continue
        if row.source == CaseMaterial.Source.COMMITMENT:
            services.commit_material(case=case, material_code=row.code, text="本单位承诺已建立消防安全制度。", actor=user)
        elif row.source in (CaseMaterial.Source.APPLICANT, CaseMaterial.Source.LICENCE):
            services.attach_file(case=case, material_code=row.code, name=f"{row.code}.pdf", content=PDF, actor=user)
    return case


def officer_for(subcase) -> User:
    name = subcase.department.name
    return User.objects.get(username=next(u for suffix, u in OFFICERS.items() if name.endswith(suffix)))


def approve_open_items(case) -> int:
    """Every active item approved step by step by its department's demo officer; returns the actions."""
    from tongban.cases import services
    from tongban.cases.models import SubCase
    from tongban.cases.simulation import sample_decision

    done = 0
    while True:
        active = list(SubCase.objects.filter(case=case, status=SubCase.Status.ACTIVE, hold="")
                      .select_related("department"))
        if not active:
            return done
        for sub in active:
            services.act(subcase=sub, actor=officer_for(sub), action="approve", step=sub.step,
                         decision=sample_decision(sub))
            done += 1
