"""Every route that reaches an object answers 404 to another applicant, another department and another
region (issue 7). The table below names, for each such route, how to reach one object of the owner's;
`test_every_route_with_a_parameter_has_a_rule` fails for a new route that is neither in the table nor
declared public, so a route cannot be added without deciding who may reach it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from tests.demo_fixtures import demo_full  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

ACCEPT_ON = date(2026, 9, 28)

# Routes whose parameter is not a private object: codes of public things, or bearer tokens/identifiers
# that are themselves the secret (verification pages). Each with the reason it is public.
PUBLIC = {
    "api/v1/catalog/items/<basic_code>/diff": "catalogue differences between regions are public",
    "api/v1/licences/status/<issuer_uscc>": "published status lists (W3C Bitstring Status List)",
    "api/v1/licences/trust/<region_code>": "published trust lists",
    "api/v1/licences/show/<token>": "亮证 token: the holder hands it over; short-lived, discloses chosen fields",
    "api/v1/notices/verify/<token>": "the QR code printed on a notice; answers genuine or not",
    "verify/notice/<str:token>": "the QR code printed on a notice",
    "verify/licence/<str:identifier>": "the QR code printed on a licence; masked holder only",
    "bundles/<slug:code>/": "bundle pages are public",
    "bundles/<slug:code>/apply/": "names a public bundle; the draft is created for the signed-in user",
    "items/<slug:code>/apply/": "names a public item; the draft is created for the signed-in user",
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {placeholders} filled from the objects fixture
    data: dict | None = None


def _routes() -> dict[str, list[Route]]:
    """Route pattern -> the requests that reach the owner's object through it."""
    case = "{case}"
    return {
        "api/v1/licences/<licence_id>/pdf": [Route("GET", "/api/v1/licences/{licence}/pdf")],
        "api/v1/exchange/grants/<grant_id>/approve": [Route("POST", "/api/v1/exchange/grants/{grant}/approve", {})],
        "api/v1/exchange/grants/<grant_id>/deny": [Route("POST", "/api/v1/exchange/grants/{grant}/deny",
                                                         {"reason": "x"})],
        "api/v1/exchange/grants/<grant_id>/revoke": [Route("POST", "/api/v1/exchange/grants/{grant}/revoke",
                                                           {"reason": "x"})],
        "api/v1/cases/<number>": [Route("GET", f"/api/v1/cases/{case}"),
                                  Route("PATCH", f"/api/v1/cases/{case}", {"form": {}})],
        **{f"api/v1/cases/<number>/{tail}": [Route("GET", f"/api/v1/cases/{case}/{tail}")]
           for tail in ("completeness", "progress", "timeline", "notices", "trail")},
        **{f"api/v1/cases/<number>/{tail}": [Route("POST", f"/api/v1/cases/{case}/{tail}", data)]
           for tail, data in (("submit", {}), ("accept", {}), ("one-time-notice", {"defects": {}}),
                              ("refuse", {"reason": "x"}), ("correction-supplied", {}), ("withdraw", {"reason": "x"}),
                              ("delivery", {"method": "electronic"}), ("deliver", {}))},
        **{f"api/v1/cases/<number>/materials/<code>/{tail}": [
            Route("POST", f"/api/v1/cases/{case}/materials/company-application/{tail}", data)]
           for tail, data in (("files", {}), ("licence", {"licence_id": 1}), ("fetch", {}),
                              ("commitment", {"text": "x"}), ("promise", {"promised_by": "2030-01-01"}),
                              ("supplied", {}))},
        "api/v1/cases/<number>/files/<file_id>": [Route("DELETE", f"/api/v1/cases/{case}/files/{{file}}")],
        "api/v1/files/<file_id>": [Route("GET", "/api/v1/files/{file}")],
        "api/v1/notices/<notice_id>/pdf": [Route("GET", "/api/v1/notices/{notice}/pdf")],
        **{f"api/v1/subcases/<subcase_id>/{tail}": [Route(method, f"/api/v1/subcases/{{subcase}}/{tail}", data)]
           for tail, method, data in (("claim", "POST", {}), ("end-special", "POST", {"reason": "x"}),
                                      ("withdraw", "POST", {"reason": "x"}), ("ledger", "GET", None),
                                      ("actions", "POST", {"action": "approve", "step": "accept"}))},
        "api/v1/extensions/<request_id>/decision": [Route("POST", "/api/v1/extensions/{extension}/decision",
                                                          {"approve": True})],
        "api/v1/supervision-notices/<notice_id>/acknowledge": [
            Route("POST", "/api/v1/supervision-notices/{supervision}/acknowledge", {"response": "x"})],
        "api/v1/me/mandates/<mandate_id>/revoke": [Route("POST", "/api/v1/me/mandates/{mandate}/revoke",
                                                         {"reason": "x"})],
        "accounts/mandates/<int:mandate_id>/revoke": [Route("POST", "/accounts/mandates/{mandate}/revoke",
                                                            {"reason": "x"})],
        "console/cases/<str:number>/": [Route("GET", f"/console/cases/{case}/")],
        "console/cases/<str:number>/<slug:action>/": [Route("POST", f"/console/cases/{case}/accept/", {})],
        "console/tasks/<int:subcase_id>/": [Route("GET", "/console/tasks/{subcase}/")],
        "console/tasks/<int:subcase_id>/<slug:action>/": [Route("POST", "/console/tasks/{subcase}/claim/", {})],
        "console/supervision/<int:notice_id>/acknowledge/": [
            Route("POST", "/console/supervision/{supervision}/acknowledge/", {"response": "x"})],
        "console/board/extensions/<int:request_id>/": [Route("POST", "/console/board/extensions/{extension}/",
                                                             {"approve": "1"})],
        "my/licences/<int:licence_id>/": [Route("GET", "/my/licences/{licence}/")],
        "my/cases/<str:number>/": [Route("GET", f"/my/cases/{case}/")],
        "my/cases/<str:number>/checklist/": [Route("GET", f"/my/cases/{case}/checklist/")],
        "my/cases/<str:number>/<slug:action>/": [Route("POST", f"/my/cases/{case}/withdraw/", {"reason": "x"})],
    }


# Who must get nothing: another applicant, an officer of a department not involved, and staff of
# another region (same department kind, window, supervisor).
OUTSIDERS = ["zhuzhou-boss", "changsha-citizen", "changsha-police", "zhuzhou-market", "zhuzhou-clerk",
             "zhuzhou-supervisor"]


def _walk(resolver, prefix=""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern)


def test_every_route_with_a_parameter_has_a_rule():
    table = _routes()
    routes = {r for r in _walk(get_resolver()) if "<" in r and not r.startswith("admin/")}
    missing = sorted(r for r in routes if r not in table and r not in PUBLIC)
    assert not missing, f"routes without an access rule in tests/access/test_routes.py: {missing}"
    stale = sorted(r for r in table if r not in routes)
    assert not stale or all(r.startswith(("console/", "my/cases")) for r in stale), stale


@pytest.fixture(scope="module")
def objects(demo_full, django_db_blocker, tmp_path_factory):  # noqa: F811
    """One of each object, owned by 长沙's entrepreneur (case, sub-case, file, notice, licence, mandate)
    or held by 长沙's market regulator (grant, extension request, supervision notice)."""
    from django.test import override_settings

    from tongban.accounts.models import User
    from tongban.accounts.services import grant_mandate
    from tongban.cases import services
    from tongban.cases.models import ExtensionRequest, MaterialFile
    from tongban.cases.simulation import clerk_for, demo_applicant, fill_form, hand_in_materials
    from tongban.exchange.models import Grant

    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        boss, enterprise = demo_applicant("changsha")
        case = services.start_case(actor=boss, region_code="430100", bundle_code="open-restaurant",
                                   answers={"area_sqm": 800}, enterprise_uscc=enterprise.uscc, on=ACCEPT_ON)
        case = fill_form(case, boss)
        hand_in_materials(case, boss)
        services.submit_case(case=case, actor=boss, on=ACCEPT_ON)
        services.accept_case(case=case, actor=clerk_for(case), on=ACCEPT_ON)
        market = User.objects.get(username="changsha-market")
        sub = case.subcases.get(key="company-registration")
        services.act(subcase=sub, actor=market, action="approve", step="accept", on=ACCEPT_ON)
        sub.refresh_from_db()
        services.act(subcase=sub, actor=market, action="extend", step="review", days=2, reason="需要核实",
                     on=ACCEPT_ON)
        supervision = services.send_supervision_notice(actor=User.objects.get(username="changsha-supervisor"),
                                                       department_id=market.department_id, text="请加快办理",
                                                       subcase=sub, on=ACCEPT_ON)
        services.act(subcase=sub, actor=market, action="approve", step="review", on=ACCEPT_ON)
        services.act(subcase=sub, actor=market, action="approve", step="decide", on=ACCEPT_ON)
        sub.refresh_from_db()
        agent = User.objects.get(username="changsha-agent")
        mandate = grant_mandate(granted_by=boss, principal=enterprise, agent=User.objects.get(username="changsha-citizen")
                                if agent is None else agent, all_items=True, valid_from=date.today(),
                                valid_until=date.today() + timedelta(days=30))
        grant = Grant.objects.filter(resource__owner=market.department).first() or Grant.objects.filter(
            consumer=market.department).first()
        return {"case": case.number, "subcase": sub.pk, "file": MaterialFile.objects.filter(material__case=case).first().pk,
                "notice": case.notices.first().pk, "licence": sub.result_licence_id, "mandate": mandate.pk,
                "grant": grant.pk, "extension": ExtensionRequest.objects.get(subcase=sub).pk,
                "supervision": supervision.pk, "media": media}


def _request(client: Client, route: Route, objects: dict):
    path = route.path.format(**objects)
    if route.method == "GET":
        return client.get(path)
    if route.method == "DELETE":
        return client.delete(path)
    if route.path.endswith("/files"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(path, {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 x", "application/pdf")})
    if route.path.startswith("/api/"):
        return getattr(client, route.method.lower())(path, route.data or {}, content_type="application/json")
    return client.post(path, route.data or {})


@pytest.mark.parametrize("username", OUTSIDERS)
def test_outsiders_get_404_on_every_object_route(objects, username):
    from tongban.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    routes = {r for r in _walk(get_resolver())}
    answers = {}
    for pattern, requests in _routes().items():
        if pattern not in routes:
            continue
        if username == "changsha-citizen" and pattern.endswith("mandates/<mandate_id>/revoke"):
            continue  # (the citizen is not the agent here; see below)
        for route in requests:
            response = _request(client, route, objects)
            answers[f"{route.method} {route.path}"] = response.status_code
    wrong = {k: v for k, v in answers.items() if v != 404}
    assert not wrong, f"{username} reached: {wrong}"


def test_the_owner_reaches_the_objects(objects, settings):
    """The same routes are not simply broken: the owner and the handling officer get through."""
    from tongban.accounts.models import User

    settings.MEDIA_ROOT = objects["media"]
    boss, officer = Client(), Client()
    boss.force_login(User.objects.get(username="changsha-boss"))
    officer.force_login(User.objects.get(username="changsha-market"))
    for client, path in ((boss, "/api/v1/cases/{case}"), (boss, "/api/v1/cases/{case}/progress"),
                         (boss, "/api/v1/notices/{notice}/pdf"), (boss, "/api/v1/licences/{licence}/pdf"),
                         (officer, "/api/v1/cases/{case}"), (officer, "/api/v1/files/{file}"),
                         (officer, "/api/v1/subcases/{subcase}/ledger"), (officer, "/api/v1/cases/{case}/trail")):
        response = client.get(path.format(**objects))
        assert response.status_code == 200, (path, response.status_code, response.content[:300])


def test_pattern_names_are_unique_per_route():
    # The table keys are exact route patterns; a typo would silently skip a route.
    assert all(re.fullmatch(r"[\w/<>:.\-]+", key) for key in _routes())
