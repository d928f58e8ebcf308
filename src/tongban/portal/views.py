"""Public pages of the applicant portal: home, smart-guide search, bundle page with a live plan
preview, and the display-mode switches. Views only parse, call selectors and render."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import logout
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.bundles import guide, planner
from tongban.bundles import selectors as bundle_selectors
from tongban.catalog import selectors as catalog_selectors
from tongban.core import demo
from tongban.core.errors import InvalidInput, Problem
from tongban.core.profile import demo_enabled
from tongban.licences import selectors as licence_selectors

from . import cases, guidance, modes

SEARCH_LIMIT = 20
SOURCE_LABELS = {
    "produced": _("由前一环节办结后产生，无需提交"),
    "licence": _("调用您的电子证照，无需提交复印件"),
    "data": _("部门共享数据，无需提交"),
    "commitment": _("可签署告知承诺书代替"),
    "applicant": _("需要提交"),
}
NO_UPLOAD_SOURCES = {"produced", "licence", "data"}
NOT_HELD_LABEL = _("需要提交（您名下暂无该电子证照）")


def _regions():
    """The regions an applicant can choose: cities and counties that have a catalogue."""
    return catalog_selectors.regions_with_counts().filter(level__in=["city", "county"], item_count__gt=0)


@modes.remember_modes
def home(request):
    bundles = bundle_selectors.published_bundles()
    return render(request, "portal/home.html", {
        "regions": _regions(),
        "personal": [b for b in bundles if b.theme == "personal"],
        "enterprise": [b for b in bundles if b.theme == "enterprise"],
        # The demo accounts and their shared password only where the demo is on (never in production).
        "show_demo": demo_enabled(),
        "demo_accounts": demo.demo_accounts() if demo_enabled() else [],
        "demo_password": demo.DEMO_PASSWORD if demo_enabled() else "",
    })


@modes.remember_modes
def search(request):
    query = (request.GET.get("q") or "").strip()[:200]
    results = []
    if query:
        index = guide.index()
        hits = index.search(query, SEARCH_LIMIT)
        why = guidance.explain(index, query, hits)
        bundles = {b.code: b for b in bundle_selectors.published_bundles().filter(
            code__in=[h.code for h in hits if h.kind == "bundle"])}
        results = [{"hit": h, "bundle": bundles.get(h.code) if h.kind == "bundle" else None,
                    "matches": why.get((h.kind, h.code), [])} for h in hits]
    return render(request, "portal/search.html", {
        "query": query,
        "bundle_results": [r for r in results if r["hit"].kind == "bundle"],
        "item_results": [r for r in results if r["hit"].kind == "item"],
        "total": len(results),
        "examples": ["开火锅店", "开宾馆", "注册公司", "卖房子", "生孩子"],
        "apply_region": _region_of(request),
    })


def _region_of(request) -> str:
    region = (request.GET.get("region") or "").strip()
    if region:
        return region
    user = request.user
    if user.is_authenticated and getattr(user, "region_id", None):
        return user.region_id
    return settings.TONGBAN_DEFAULT_REGION


def _raw_answers(request, questionnaire: list[dict]) -> dict:
    answers: dict = {}
    for q in questionnaire:
        key = q["key"]
        if q.get("type") == "multi":
            values = [v for v in request.GET.getlist(key) if v]
            if values:
                answers[key] = values
        else:
            value = (request.GET.get(key) or "").strip()
            if value:
                answers[key] = value
    return answers


def _stages(plan: dict) -> list[dict]:
    by_stage: dict[int, list[dict]] = {}
    for item in plan["items"]:
        by_stage.setdefault(item["stage"], []).append(item)
    return [{"number": n, "items": by_stage[n], "parallel": len(by_stage[n]) > 1} for n in sorted(by_stage)]


def _savings(plan: dict) -> dict:
    m = plan["metrics"]
    return {"visits": m["visits_separately"] - m["visits_bundled"],
            "materials": m["materials_separately"] - m["materials_bundled"],
            "days": m["promised_days_serial"] - m["promised_days_critical_path"]}


def _held_licence_types(request) -> set[str] | None:
    """The licence type codes the signed-in applicant holds valid e-licences of (None: not an applicant)."""
    if getattr(request.user, "kind", "") != "person":
        return None
    return {lic.licence_type.code for lic in licence_selectors.licences_of_holder(request.user)
            if licence_selectors.display_status(lic) == "valid"}


def _materials(plan: dict, held: set[str] | None = None) -> dict:
    """The checklist as promised to this visitor: an e-licence material is "no upload" only for someone
    who holds that e-licence (or, before signing in, anyone who may); otherwise the plan says to hand it in."""
    rows = []
    for m in plan["materials"]:
        row = {**m, "source_label": SOURCE_LABELS.get(m["source"], m["source"]), "no_upload": m["source"] in NO_UPLOAD_SOURCES}
        if m["source"] == "licence" and held is not None and m.get("licence_type") not in held:
            row.update(source_label=NOT_HELD_LABEL, no_upload=False)
        rows.append(row)
    return {"to_hand_in": [m for m in rows if not m["no_upload"]], "not_needed": [m for m in rows if m["no_upload"]]}


@modes.remember_modes
def bundle(request, code: str):
    found = bundle_selectors.published_bundles().filter(code=code).first()
    if found is None:
        raise Http404(code)
    region = _region_of(request)
    problems: list[Problem] = []
    questions: list[dict] = []
    raw: dict = {}
    plan = None
    conditional = False
    if not re.fullmatch(r"\d{6}", region):
        problems = [Problem("region", "region.format", "区划代码应为 6 位数字", "the region code must be 6 digits")]
    else:
        try:
            version = bundle_selectors.bundle_version_in_force(code, region)
            questionnaire = version.definition.get("questionnaire", [])
            conditional = any(q.get("show_if") for q in questionnaire)
            raw = _raw_answers(request, questionnaire)
            questions = planner.visible_questions(questionnaire, raw)
            plan = bundle_selectors.plan_bundle(code, region, raw, strict=False)
        except InvalidInput as exc:
            problems = exc.problems
    field_problems = {p.field.removeprefix("answers."): p for p in problems if p.field.startswith("answers.")}
    context = {
        "bundle": found, "region": region, "regions": _regions(), "questions": questions, "answers": raw,
        "plan": plan, "stages": _stages(plan) if plan else [], "materials": _materials(plan, _held_licence_types(request)) if plan else None,
        "savings": _savings(plan) if plan else None,
        "field_problems": field_problems,
        "problems": [p for p in problems if not p.field.startswith("answers.")],
        "swap_target": "#planner" if conditional else "#plan",
        "parties": cases.applicant_parties(request),
    }
    status = 422 if problems else 200
    if request.htmx:
        return render(request, "portal/_planner.html" if conditional else "portal/_plan.html", context, status=status)
    return render(request, "portal/bundle.html", context, status=status)


def _next_url(request, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@require_POST
def set_care(request):
    response = HttpResponseRedirect(_next_url(request))
    modes.set_mode_cookie(response, modes.CARE_COOKIE, request.POST.get("care") == "1")
    return response


def kiosk(request):
    """Start kiosk mode on this terminal (自助通办) and show the home page."""
    response = HttpResponseRedirect(reverse("portal:home"))
    modes.set_mode_cookie(response, modes.KIOSK_COOKIE, True)
    return response


def kiosk_exit(request):
    """Ending kiosk mode is a staff action (issue 14, finding 10): a signed-in staff member confirms it
    (POST); anyone else is told to ask the staff, and the terminal stays a kiosk."""
    if not modes.may_end_kiosk(request):
        return render(request, "portal/kiosk_exit.html", {"staff": False}, status=403)
    if request.method != "POST":
        return render(request, "portal/kiosk_exit.html", {"staff": True})
    response = HttpResponseRedirect(reverse("portal:home"))
    modes.set_mode_cookie(response, modes.KIOSK_COOKIE, False)
    return response


@require_POST
def sign_out(request):
    """The portal's own sign-out, used by the kiosk timer until the accounts app provides one
    (see modes.logout_url). Ends the session only."""
    logout(request)
    return HttpResponseRedirect(_next_url(request))
