"""Pages for a signed-in applicant: my licences (亮证 by QR, authorise a use, see every use) and who
looked at my data. Every object goes through the owning app's access-checked selectors; the only
writes are the licence app's own services."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from tongban.core.codes import mask
from tongban.core.errors import Conflict, InvalidInput, NotFound, Problem
from tongban.core.inputs import bounded_int
from tongban.exchange import selectors as exchange_selectors
from tongban.licences import selectors as licence_selectors
from tongban.licences import sharing

from . import modes

STATUS_LABELS = {
    "valid": _("有效"), "suspended": _("已暂停"), "revoked": _("已撤销"), "superseded": _("已被新版本替代"),
    "expired": _("已过期"), "not_yet_valid": _("尚未生效"),
}
FIELD_LABELS = {
    "holder_name": _("持证主体名称"), "holder_code": _("持证主体代码（脱敏）"), "valid_from": _("有效期起"),
    "valid_until": _("有效期止"), "identifier": _("证照标识"),
}
LOG_PAGE_SIZE = 50
MAX_LOG_PAGE = 10_000  # 500,000 entries back; a page number beyond is refused (400) rather than scanned


def signed_in(view):
    """Anonymous visitors go to the sign-in page when it exists, else see how to sign in (403)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if modes.login_url():
            return redirect_to_login(request.get_full_path())
        return render(request, "portal/sign_in_needed.html", status=403)

    return wrapper


def _licence_row(licence) -> dict:
    status = licence_selectors.display_status(licence)
    return {"licence": licence, "status": status, "status_label": STATUS_LABELS.get(status, status),
            "holder_code": mask(licence.holder_code)}


@signed_in
@modes.remember_modes
def licences(request):
    from tongban.cases.selectors import remote_licences_of_holder

    rows = [_licence_row(lic) for lic in licence_selectors.licences_of_holder(request.user).order_by("-issued_at")]
    return render(request, "portal/my_licences.html", {"rows": rows, "remote": remote_licences_of_holder(request.user)})


@signed_in
@modes.remember_modes
@require_http_methods(["GET", "POST"])
def licence(request, licence_id: int):
    try:
        found = licence_selectors.access_licence_by_holder(request.user, licence_id)
    except NotFound:
        raise Http404("licence") from None
    shown = code = None
    problems: list[Problem] = []
    action = request.POST.get("action")
    try:
        if action == "show":
            shown = sharing.create_show_token(holder=request.user, licence_id=found.pk,
                                              fields=request.POST.getlist("fields"))
        elif action == "authorise":
            authorisation, code = sharing.authorise_use(
                holder=request.user, licence_id=found.pk, item_basic_code=request.POST.get("item_basic_code", "").strip(),
                case_ref=request.POST.get("case_ref", ""))
            code = {"code": code, "authorisation": authorisation}
    except InvalidInput as exc:
        problems = exc.problems
    except Conflict as exc:
        problems = [exc.problem]
    fields = [{"name": name, "label": FIELD_LABELS.get(name) or name.removeprefix("data."),
               "checked": name in request.POST.getlist("fields")} for name in sharing.disclosable_fields(found)]
    qr = None
    if shown is not None:
        qr = shown.qr_svg(request.build_absolute_uri("/api/v1/licences/show/"))
    uses = list(licence_selectors.uses_of_licence(found, request.user))
    status = 422 if problems else 200
    return render(request, "portal/my_licence.html", {
        **_licence_row(found), "fields": fields, "shown": shown, "qr": qr, "code": code, "uses": uses,
        "problems": problems, "field_problems": {p.field: p for p in problems}, "post": request.POST,
    }, status=status)


@signed_in
@modes.remember_modes
def data_log(request):
    """Newest first, LOG_PAGE_SIZE a page; no COUNT: one more row than shown tells if there is a next page."""
    try:
        number = bounded_int(request.GET, "page", default=1, minimum=1, maximum=MAX_LOG_PAGE)
    except InvalidInput as exc:
        return render(request, "portal/my_data_log.html", {"rows": [], "page": 1, "has_next": False,
                                                           "has_previous": False, "problems": exc.problems}, status=400)
    start = (number - 1) * LOG_PAGE_SIZE
    logs = list(exchange_selectors.queries_about_user(request.user)[start:start + LOG_PAGE_SIZE + 1])
    rows = [{"log": log, "fields": exchange_selectors.field_labels(log), "subject": mask(log.subject_code)}
            for log in logs[:LOG_PAGE_SIZE]]
    return render(request, "portal/my_data_log.html", {
        "rows": rows, "page": number, "has_next": len(logs) > LOG_PAGE_SIZE, "has_previous": number > 1})
