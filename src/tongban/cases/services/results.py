"""Results of approved items: the item's result licence, its data taken only from the sources its
licence type declares (tongban.licences.sources: the case's form and record, the officer's decision,
the case, the issuer, the catalogue), and signed by the issuing department's key."""

from __future__ import annotations

from datetime import date

from tongban.core.errors import InvalidInput, Problem
from tongban.licences import sources
from tongban.licences.services import issue_licence

from ..models import Case, SubCase


def standard_values(case: Case) -> dict[str, object]:
    """The merged form's answers by standard name, then the applicant's own record for the applicant
    standards the form does not answer."""
    values: dict[str, object] = {}
    for name, prop in case.plan.get("form", {}).get("properties", {}).items():
        if prop.get("x-standard") and case.form.get(name) not in (None, ""):
            values.setdefault(prop["x-standard"], case.form[name])
    if case.enterprise_id:
        enterprise = case.enterprise
        values.setdefault("enterprise.name", enterprise.name)
        values.setdefault("enterprise.uscc", enterprise.uscc)
        values.setdefault("enterprise.address", enterprise.address)
        if enterprise.legal_representative_id:
            values.setdefault("enterprise.legal_representative.name", enterprise.legal_representative.real_name)
    else:
        values.setdefault("person.name", case.applicant_name)
        values.setdefault("person.id_number", case.applicant_code)
    return {k: v for k, v in values.items() if v not in (None, "")}


def _values(case: Case, sub: SubCase, decision: dict, on: date) -> sources.Values:
    issuer = sub.department
    return sources.Values(
        standard=standard_values(case),
        case={"number": case.number, "title": case.title, "applicant_name": case.applicant_name,
              "applicant_code": case.applicant_code, "decided_on": on.isoformat(),
              "accepted_on": case.accepted_on.isoformat() if case.accepted_on else None},
        issuer={"name": issuer.name, "uscc": issuer.uscc, "region": issuer.region_id},
        decision=decision)


def licence_contents(case: Case, sub: SubCase, decision: dict | None, on: date) -> dict | None:
    """The result licence's data, or InvalidInput naming every decision field missing or wrong and
    every declared source this case has no value for. None when the item issues no licence."""
    licence_type = sub.item_version.result_licence_type
    if licence_type is None:
        if decision:
            raise InvalidInput(Problem("decision", "decision.not_expected", "本事项不签发证照，无需填写决定字段",
                                       "this item issues no licence; no decision fields are taken"))
        return None
    clean, problems = sources.clean_decision(licence_type.fields, decision or {})
    data, missing = sources.resolve(licence_type.fields, _values(case, sub, clean, on))
    problems += [p for p in missing if not p.field.startswith("decision.")]
    if problems:
        raise InvalidInput(problems)
    return data


def record_licence_use(licence, case: Case, sub: SubCase | None, reason: str, actor=None) -> None:
    """The holder sees every use of their licence: which department, when, for which case, why."""
    from tongban.licences.models import LicenceUse

    LicenceUse.objects.create(licence=licence, kind=LicenceUse.Kind.CASE, officer=actor,
                              department=sub.department if sub else None,
                              item_basic_code=sub.item_version.item.basic_code if sub else "", case_ref=case.number,
                              reason=reason[:256])


def produce_result(sub: SubCase, case: Case, actor, on: date, data: dict | None):
    """The signed result licence of an approved item (data from `licence_contents`), or None when the
    item's result is not a licence."""
    licence_type = sub.item_version.result_licence_type
    if licence_type is None:
        return None
    enterprise = case.applicant_kind == Case.ApplicantKind.ENTERPRISE
    return issue_licence.inner(licence_type=licence_type, issuer=sub.department,
                         holder_code_type="001" if enterprise else "111", holder_code=case.applicant_code,
                         holder_name=case.applicant_name, data=data, valid_from=on, source_ref=case.number,
                         actor=actor)
