"""Drive cases end to end through the real services with the demo staff (`tongban simulate`, tests,
benchmarks). Nothing here bypasses a rule: it fills what an applicant would fill, uploads small real
PDF files, and lets each department's demo officer act on each step."""

from __future__ import annotations

from datetime import date

from tongban.accounts.models import Enterprise, User
from tongban.accounts.roles import Role
from tongban.catalog import standard_fields
from tongban.workdays.calendar import next_workday

from . import services
from .models import Case, CaseMaterial, SubCase


def minimal_pdf(note: str = "") -> bytes:
    """A small well-formed one-page PDF (catalogue, page tree, page, cross-reference table), for demo and
    test uploads; `note` goes into the document information so that files differ."""
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Resources<<>>>>",
               b"<</Title(" + note.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]") + b")>>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R/Info 4 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


SAMPLE_PDF = minimal_pdf()
SAMPLE_VALUES = {"string": "示例", "integer": 1, "number": 100, "boolean": True}


def demo_applicant(region_slug: str) -> tuple[User, Enterprise | None]:
    boss = User.objects.get(username=f"{region_slug}-boss")
    return boss, Enterprise.objects.filter(legal_representative=boss).first()


def fill_form(case: Case, actor) -> Case:
    form = case.plan["form"]
    missing = {}
    for name in form.get("required", []):
        if case.form.get(name) in (None, ""):
            prop = form["properties"][name]
            sample = standard_fields.example(prop.get("x-standard"))
            if sample is None:
                sample = "2026-01-01" if prop.get("format") == "date" else SAMPLE_VALUES.get(prop.get("type"), "示例")
            missing[name] = sample
    return services.update_draft(case=case, actor=actor, form=missing) if missing else case


def hand_in_materials(case: Case, actor, *, scanned: bool = False) -> None:
    for row in case.materials.filter(status__in=[CaseMaterial.Status.MISSING, CaseMaterial.Status.DEFECTIVE]):
        if row.required:
            services.attach_file(case=case, material_code=row.code, name=f"{row.code}.pdf",
                                 content=SAMPLE_PDF + row.code.encode(), actor=actor, scanned=scanned)


def officer_for(sub: SubCase) -> User:
    return (User.objects.filter(department_id=sub.department_id, groups__name=Role.OFFICER, is_active=True)
            .order_by("pk").first())


def clerk_for(case: Case) -> User:
    return User.objects.filter(region_id=case.intake_region_id, groups__name=Role.CLERK).order_by("pk").first()


def sample_decision(sub: SubCase, given: dict | None = None) -> dict:
    """The simulated officer's input at the decision step: what the caller gave for this item, else the
    `example` the catalogue documents on each decision field of the item's result licence type (the
    sample an officer sees; issuance itself never falls back to it)."""
    from .selectors import decision_fields

    if not sub.workflow.step(sub.step).get("decision"):
        return {}
    given = given or {}
    return {spec.name: given.get(spec.name, spec.decision.get("example")) for spec in decision_fields(sub)
            if spec.name in given or "example" in spec.decision}


def drive(case: Case, *, accept_on: date, deny: set[str] = frozenset(),
          decisions: dict[str, dict] | None = None) -> Case:
    """Submit, accept on `accept_on`, then approve (or deny the keys in `deny`) every item as soon as it
    starts, one step per working day, and deliver. At each decision step the simulated officer enters
    `decisions[item key]` (else the catalogue's documented samples). Returns the finished case."""
    applicant = case.filed_by
    case = fill_form(case, applicant)
    hand_in_materials(case, applicant)
    services.submit_case(case=case, actor=applicant, on=accept_on)
    services.accept_case(case=case, actor=clerk_for(case), on=accept_on)
    day = accept_on
    for _ in range(200):
        # Remote items (handled by a peer node) are left to that node's officers.
        active = list(SubCase.objects.filter(case=case, status=SubCase.Status.ACTIVE, hold="", remote_node="")
                      .select_related("workflow", "department").order_by("position"))
        if not active:
            break
        day = next_workday(day, active[0].department.region_id).due
        for sub in active:
            officer = officer_for(sub)
            action = "deny" if sub.key in deny and sub.workflow.step(sub.step).get("decision") else "approve"
            decision = sample_decision(sub, (decisions or {}).get(sub.key)) if action == "approve" else {}
            services.act(subcase=sub, actor=officer, action=action, step=sub.step, on=day, decision=decision,
                         reason="模拟：不符合条件" if action == "deny" else "")
    case.refresh_from_db()
    if case.status == Case.Status.READY:
        services.deliver_case(case=case, actor=clerk_for(case), on=day, tracking_number="SF0000000001")
        case.refresh_from_db()
    return case
