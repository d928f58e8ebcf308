"""Data the portal tests need beyond the demo loader: a licence held by a demo enterprise, and a
logged data query about a demo person. Both go through the owning apps' services."""

from __future__ import annotations

from datetime import date

from tongban.accounts.models import Enterprise, User
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
    data = {spec["name"]: f"{spec['label']}（示例）" for spec in field_specs(licence_type.fields)}
    return licence_services.issue_licence(
        licence_type=licence_type, issuer=issuer, holder_code_type="001", holder_code=enterprise.uscc,
        holder_name=enterprise.name, data=data, valid_from=date(2026, 1, 1), source_ref="DEMO-PORTAL-1")


def log_prefill_query(username: str = "changsha-boss", case_ref: str = "YJS-PORTAL-0001") -> None:
    """The platform prefills a form with the user's enterprise data: one granted, logged query."""
    user = User.objects.get(username=username)
    enterprise = Enterprise.objects.get(legal_representative=user)
    exchange_services.prefill(subject=enterprise.uscc, standard_fields=["enterprise.name", "enterprise.address"],
                              actor=user, case_ref=case_ref)
