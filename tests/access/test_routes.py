"""Every route that reaches an object answers 404 to another applicant, another department and another
region (issue 7), and to a revoked or out-of-scope agent (issue 12), for reads and writes alike, and
such a request writes nothing. The table below names, for each such route, how to reach one object of
the owner's, with every state-changing method and every form action;
`test_every_route_with_a_parameter_has_a_rule` fails for a new route that is neither in the table nor
declared public, `test_every_state_changing_route_has_a_rule` for a new write (an API method, a form
action) that is not, so a route cannot be added without deciding who may reach it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from tests.demo_fixtures import demo_full  # noqa: F401
from tongban.cases.simulation import minimal_pdf

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


# State-changing routes that name no existing object: they create something for the signed-in user
# (or act on the user's own hall / department), and the service checks who may.
WRITES_WITHOUT_OBJECT = {
    ("POST", "api/v1/cases"): "start_case: the applicant (identity, mandate scope) or a window clerk",
    ("POST", "api/v1/supervision-notices"): "access_department_for(..., SUPERVISE) and access_subcase_for(..., SUPERVISE)",
    ("POST", "api/v1/exchange/grants"): "grant_request: officers / administrators of the consumer department",
    ("POST", "api/v1/exchange/query"): "exchange query: staff of a granted department, purpose-bound",
    ("PUT", "api/v1/me/acting-as"): "party_for_key: the user's own parties only (session)",
    ("POST", "api/v1/exchange/prefill"): "exchange prefill: staff of a granted department, purpose-bound",
    ("POST", "api/v1/plans"): "computes a plan from public catalogue data; writes nothing",
    ("POST", "api/v1/me/mandates"): "grant_mandate: legal representative, or an agent allowed to sub-delegate",
    ("POST", "api/v1/licences/verify"): "public verification of a presented document",
}

# Every page route (outside the API and the admin) that is not in the object table: what it is.
PAGES = {
    "healthz": "read: liveness", "i18n/setlang/": "the user's language (session only)",
    "accounts/login/": "sign-in", "accounts/logout/": "sign-out", "accounts/otp/": "the user's own second factor",
    "accounts/otp/setup/": "the user's own second factor", "accounts/acting-as": "party_for_key: own parties",
    "accounts/me/": "grant_mandate: legal representative or sub-delegating agent",
    "rp-demo/": "demo relying party", "rp-demo/login": "demo relying party", "rp-demo/callback": "demo relying party",
    ".well-known/openid-configuration": "public", ".well-known/jwks.json": "public",
    "o/authorize/": "OIDC: the user's own consent", "o/token/": "OAuth2 client authentication",
    "o/revoke_token/": "OAuth2 client authentication", "o/introspect/": "OAuth2 resource-server authentication",
    "o/userinfo/": "the token's own user",
    "console/": "read", "console/tickets/take/": "public kiosk: a queue number", "console/window/": "read",
    "console/window/call/": "call_next: a clerk of the window's hall", "console/intake/": "start_case: a window clerk",
    "console/tasks/": "read", "console/board/": "read",
    "console/board/supervise/": "access_department_for / access_subcase_for (SUPERVISE)",
    "": "read", "search": "read", "care/": "the user's display mode (session only)", "kiosk/": "kiosk mode (session)",
    "kiosk/exit/": "kiosk mode (session)", "kiosk/sign-out/": "sign-out", "my/licences/": "read",
    "my/data-log/": "read", "my/cases/": "read",
    "federation/v1/messages": "node-to-node: each message a signed envelope from a registered peer (inbox.check)",
    "federation/v1/pull": "node-to-node: a signed pull request from a registered peer (pull.serve)",
    "federation/v1/probe": "node-to-node: a signed probe, verified like a message, nothing stored",
    "federation/v1/query": "node-to-node: a signed data query of a registered peer, under a PeerGrant (dataquery)",
    "federation/v1/descriptor": "public: this node's signed descriptor",
}

# The forms behind one route with an action slug: each is a state change with its own rule.
WINDOW_FORMS = {"form": {}, "upload": {"material": "company-application"}, "commit": {"material": "x", "text": "x"},
                "promise": {"material": "x", "promised_by": "2030-01-01"}, "remove-file": {"file": "{file}"},
                "submit": {}, "accept": {}, "one-time-notice": {}, "refuse": {"reason": "x"},
                "correction-supplied": {}, "delivery": {"method": "electronic"}, "deliver": {}, "discard": {}}
TASK_FORMS = {"claim": {}, "approve": {"step": "decide"}, "deny": {"step": "decide", "reason": "x"},
              "return": {"step": "decide", "reason": "x"}, "special": {"step": "decide", "reason": "x"},
              "extend": {"step": "decide", "reason": "x", "days": "1"}, "end-special": {"reason": "x"},
              "fetch": {"material": "company-application"}}
PORTAL_FORMS = {"save": {}, "upload": {"material": "company-application"}, "remove-file": {"file": "{file}"},
                "licence": {"material": "x", "licence": "1"}, "commit": {"material": "x", "text": "x"},
                "promise": {"material": "x", "promised_by": "2030-01-01"}, "submit": {}, "withdraw": {"reason": "x"},
                "delivery": {"method": "electronic"}, "correction-done": {}, "minor-supplied": {"material": "x"}}


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
        "api/v1/notices/<notice_id>/signed": [Route("GET", "/api/v1/notices/{notice}/signed")],
        **{f"api/v1/subcases/<subcase_id>/{tail}": [Route(method, f"/api/v1/subcases/{{subcase}}/{tail}", data)]
           for tail, method, data in (("claim", "POST", {}), ("end-special", "POST", {"reason": "x"}),
                                      ("withdraw", "POST", {"reason": "x"}), ("ledger", "GET", None),
                                      ("decision-fields", "GET", None),
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
        "console/cases/<str:number>/<slug:action>/": [Route("POST", f"/console/cases/{case}/{action}/", data)
                                                      for action, data in WINDOW_FORMS.items()],
        "console/tasks/<int:subcase_id>/": [Route("GET", "/console/tasks/{subcase}/")],
        "console/tasks/<int:subcase_id>/<slug:action>/": [Route("POST", f"/console/tasks/{{subcase}}/{action}/", data)
                                                          for action, data in TASK_FORMS.items()],
        "console/supervision/<int:notice_id>/acknowledge/": [
            Route("POST", "/console/supervision/{supervision}/acknowledge/", {"response": "x"})],
        "console/board/extensions/<int:request_id>/": [Route("POST", "/console/board/extensions/{extension}/",
                                                             {"approve": "1"})],
        "my/licences/<int:licence_id>/": [Route("GET", "/my/licences/{licence}/"),
                                          Route("POST", "/my/licences/{licence}/", {"action": "authorise",
                                                                                   "item_basic_code": "x"})],
        "my/cases/<str:number>/": [Route("GET", f"/my/cases/{case}/")],
        "my/cases/<str:number>/checklist/": [Route("GET", f"/my/cases/{case}/checklist/")],
        "my/cases/<str:number>/<slug:action>/": [Route("POST", f"/my/cases/{case}/{action}/", data)
                                                 for action, data in PORTAL_FORMS.items()],
    }


# Who must get nothing: another applicant, an officer of a department not involved, and staff of
# another region (same department kind, window, supervisor).
# An agent whose mandate was revoked, and one whose mandate covers only one of the case's items, are
# outsiders too (created by the `objects` fixture).
OUTSIDERS = ["zhuzhou-boss", "changsha-citizen", "changsha-police", "zhuzhou-market", "zhuzhou-clerk",
             "zhuzhou-supervisor", "revoked-agent", "scoped-agent"]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


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
    from tongban.accounts.services import grant_mandate, revoke_mandate
    from tongban.cases import services
    from tongban.cases.models import ExtensionRequest, MaterialFile
    from tongban.cases.simulation import (
        clerk_for,
        demo_applicant,
        fill_form,
        hand_in_materials,
        sample_decision,
    )
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
        sub.refresh_from_db()
        services.act(subcase=sub, actor=market, action="approve", step="decide", on=ACCEPT_ON,
                     decision=sample_decision(sub))
        sub.refresh_from_db()
        agent = User.objects.get(username="changsha-agent")
        mandate = grant_mandate(granted_by=boss, principal=enterprise, agent=User.objects.get(username="changsha-citizen")
                                if agent is None else agent, all_items=True, valid_from=date.today(),
                                valid_until=date.today() + timedelta(days=30))
        grant = Grant.objects.filter(resource__owner=market.department).first() or Grant.objects.filter(
            consumer=market.department).first()
        # Two agents of the enterprise who must see nothing: one whose mandate was revoked after they had
        # uploaded a file to the case, one whose valid mandate covers only one of the case's items.
        today = date.today()
        revoked = User.objects.create(username="revoked-agent", kind=User.Kind.PERSON, real_name="撤销代办人")
        old = grant_mandate(granted_by=boss, principal=enterprise, agent=revoked, all_items=True, valid_from=today,
                            valid_until=today + timedelta(days=30))
        draft = services.start_case(actor=revoked, region_code="430100", bundle_code="open-restaurant",
                                    answers={"area_sqm": 800}, enterprise_uscc=enterprise.uscc)
        services.attach_file(case=draft, material_code="company-application", name="a.pdf",
                             content=minimal_pdf("revoked"), actor=revoked)
        revoke_mandate(mandate=old, revoked_by=boss, reason="不再委托")
        scoped = User.objects.create(username="scoped-agent", kind=User.Kind.PERSON, real_name="单项代办人")
        grant_mandate(granted_by=boss, principal=enterprise, agent=scoped, item_codes=[case.plan["items"][0]["basic_code"]],
                      valid_from=today, valid_until=today + timedelta(days=30))
        return {"case": case.number, "subcase": sub.pk, "file": MaterialFile.objects.filter(material__case=case).first().pk,
                "notice": case.notices.first().pk, "licence": sub.result_licence_id, "mandate": mandate.pk,
                "grant": grant.pk, "extension": ExtensionRequest.objects.get(subcase=sub).pk,
                "supervision": supervision.pk, "media": media, "draft": draft.number,
                "draft_file": MaterialFile.objects.get(material__case=draft).pk}


def _request(client: Client, route: Route, objects: dict):
    path = route.path.format(**objects)
    if route.data:
        route = Route(route.method, route.path, {k: v.format(**objects) if isinstance(v, str) else v
                                                 for k, v in route.data.items()})
    if route.method == "GET":
        return client.get(path)
    if route.method == "DELETE":
        return client.delete(path)
    if route.path.endswith("/files"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(path, {"file": SimpleUploadedFile("a.pdf", minimal_pdf("x"), "application/pdf")})
    if route.path.startswith("/api/"):
        return getattr(client, route.method.lower())(path, route.data or {}, content_type="application/json")
    return client.post(path, route.data or {})


def _written(objects: dict) -> tuple:
    """A fingerprint of everything the routes could change: the trail (every write appends to it), and
    the rows themselves in case a write forgot its trail entry."""
    from tongban.accounts.models import Mandate
    from tongban.audit.models import AuditEntry
    from tongban.cases.models import Case, ExtensionRequest, MaterialFile, Notice, SubCase, SupervisionNotice
    from tongban.exchange.models import Grant
    from tongban.licences.models import UseAuthorisation

    return (AuditEntry.objects.count(), MaterialFile.objects.filter(removed_at__isnull=True).count(),
            Notice.objects.count(), UseAuthorisation.objects.count(),
            sorted(Case.objects.values_list("number", "status", "updated_at", "delivery_method")),
            sorted(SubCase.objects.values_list("pk", "revision", "status", "assignee_id")),
            sorted(ExtensionRequest.objects.values_list("pk", "status")),
            sorted(SupervisionNotice.objects.values_list("pk", "acknowledged_at")),
            sorted(Mandate.objects.values_list("pk", "revoked_at")), sorted(Grant.objects.values_list("pk", "status")))


@pytest.mark.parametrize("username", OUTSIDERS)
def test_outsiders_get_404_on_every_object_route(objects, username, settings):
    from tongban.accounts.models import User

    settings.MEDIA_ROOT = objects["media"]
    client = Client()
    client.force_login(User.objects.get(username=username))
    routes = {r for r in _walk(get_resolver())}
    before = _written(objects)
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
    assert _written(objects) == before, f"{username}'s refused requests wrote something"


@pytest.mark.parametrize("username", ["revoked-agent", "scoped-agent"])
def test_agents_out_of_their_mandate_get_404_also_on_their_own_uploads(objects, username, settings):
    from tongban.accounts.models import User

    settings.MEDIA_ROOT = objects["media"]
    client = Client()
    client.force_login(User.objects.get(username=username))
    for path in ("/api/v1/cases/{draft}", "/api/v1/files/{draft_file}", "/my/cases/{draft}/",
                 "/api/v1/cases/{case}", "/api/v1/files/{file}", "/my/cases/{case}/"):
        assert client.get(path.format(**objects)).status_code == 404, (username, path)
    listed = client.get("/api/v1/cases").json()["items"]
    assert not {c["number"] for c in listed} & {objects["case"], objects["draft"]}


def _api_operations() -> dict[tuple[str, str], None]:
    """(method, Django route pattern) of every operation of the API."""
    from ninja.utils import normalize_path, replace_path_param_notation

    from tongban.api.main import api

    found = {}
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            route = normalize_path("/".join(i for i in (replace_path_param_notation(bound.prefix),
                                                        replace_path_param_notation(path)) if i)).lstrip("/")
            for operation in view.operations:
                for method in operation.methods:
                    found[(method.upper(), f"api/v1/{route}".rstrip("/"))] = None
    return found


def test_every_state_changing_route_has_a_rule():
    """API: every POST / PUT / PATCH / DELETE is in the object table with that method, or declared as a
    write that names no object. Pages: every route is in the object table or described in PAGES; and
    every form action a page handles is in the table (checked against the views' own action lists)."""
    from tongban.console.views import WINDOW_ACTIONS
    from tongban.portal.cases import ACTIONS as PORTAL_ACTIONS

    table = _routes()
    tabled = {(r.method, pattern) for pattern, requests in table.items() for r in requests}
    writes = {key for key in _api_operations() if key[0] in WRITE_METHODS}
    assert writes, "no API operations found"
    missing = sorted(key for key in writes if key not in tabled and key not in WRITES_WITHOUT_OBJECT)
    assert not missing, f"state-changing API routes without an access rule: {missing}"
    stale = sorted(key for key in WRITES_WITHOUT_OBJECT if key not in writes)
    assert not stale, stale
    pages = {r for r in _walk(get_resolver()) if not r.startswith(("admin/", "api/"))}
    unclassified = sorted(r for r in pages if r not in table and r not in PAGES and r not in PUBLIC)
    assert not unclassified, f"page routes neither in the access table nor described: {unclassified}"
    assert set(WINDOW_FORMS) == set(WINDOW_ACTIONS)
    assert set(PORTAL_FORMS) == set(PORTAL_ACTIONS)
    assert set(TASK_FORMS) == {"claim", "approve", "deny", "return", "special", "extend", "end-special", "fetch"}


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


# Insiders who see the object but may not do the action: 403 with a bilingual problem, nothing written.
SEE_BUT_MAY_NOT = [
    ("changsha-boss", Route("POST", "/api/v1/cases/{case}/accept", {}), "access.case.window"),
    ("changsha-boss", Route("POST", "/api/v1/cases/{case}/deliver", {}), "access.case.window"),
    ("changsha-market", Route("POST", "/api/v1/cases/{case}/withdraw", {"reason": "x"}), "access.case.applicant"),
    ("changsha-clerk", Route("POST", "/api/v1/cases/{case}/withdraw", {"reason": "x"}), "access.case.applicant"),
    ("changsha-clerk", Route("POST", "/api/v1/cases/{case}/materials/company-application/fetch", {}),
     "access.case.fetch"),
    ("changsha-supervisor", Route("PATCH", "/api/v1/cases/{case}", {"form": {}}), "access.case.filer"),
    ("changsha-auditor", Route("POST", "/api/v1/subcases/{subcase}/claim", {}), "step.role"),
    ("changsha-boss", Route("GET", "/api/v1/cases/{case}/trail"), "access.case.trail"),
    ("changsha-market", Route("POST", "/api/v1/extensions/{extension}/decision", {"approve": True}),
     "access.extension.decide"),
    ("changsha-supervisor", Route("POST", "/api/v1/supervision-notices/{supervision}/acknowledge",
                                  {"response": "x"}), "access.supervision.acknowledge"),
]


@pytest.mark.parametrize(("username", "route", "rule"), SEE_BUT_MAY_NOT, ids=lambda v: getattr(v, "path", v))
def test_who_sees_but_may_not_act_gets_403_and_nothing_is_written(objects, username, route, rule, settings):
    from tongban.accounts.models import User

    settings.MEDIA_ROOT = objects["media"]
    client = Client()
    client.force_login(User.objects.get(username=username))
    before = _written(objects)
    response = _request(client, route, objects)
    assert response.status_code == 403, (username, route.path, response.status_code, response.content[:300])
    problem = response.json()["detail"][0]
    assert problem["rule"] == rule and problem["zh"] and problem["en"]
    assert _written(objects) == before
