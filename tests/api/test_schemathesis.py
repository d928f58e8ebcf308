"""schemathesis over the whole API (the committed docs/openapi.json), in-process against the WSGI app,
as anonymous, citizen, officer, clerk and supervisor (demo users, session cookie with a CSRF token):
no request may end in a server error (5xx), and every status answered is declared in the document.

Bounded: SCHEMATHESIS_EXAMPLES examples per operation, user and generation mode (positive data that fits
the schema, negative data that breaks it); operations whose path names an object are also run against
real objects of the demo (a submitted and an accepted case, their items, files and notices), so the
generated bodies reach the services and not only the 404. The whole run takes a minute or two.
Every server error is collected with its request and the exception behind it; the test fails listing
them all. `SCHEMATHESIS_TRACE=1` prints every request and status.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
import traceback
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import got_request_exception, request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from tests.demo_fixtures import demo_full  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
TRACE = bool(os.environ.get("SCHEMATHESIS_TRACE"))
USERS = {"anonymous": None, "citizen": "changsha-boss", "officer": "changsha-market",
         "clerk": "changsha-clerk", "supervisor": "changsha-supervisor"}
OPENAPI = Path(settings.PROJECT_DIR) / "docs" / "openapi.json"
_PATH_PARAMETER = re.compile(r"{(\w+)}")


def _session(username: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and cookies of a signed-in browser session with its CSRF token."""
    csrf = secrets.token_hex(16)
    cookies = {"csrftoken": csrf}
    if username:
        from tongban.accounts.models import User

        client = Client()
        client.force_login(User.objects.get(username=username))
        cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"X-CSRFToken": csrf}, cookies


def _real_objects() -> list[dict[str, str]]:
    """Path parameters naming real objects: a submitted case and an accepted one with its items."""
    from tongban.cases import services, simulation
    from tongban.cases.models import MaterialFile, Notice

    boss, enterprise = simulation.demo_applicant("changsha")
    found = []
    for accept in (False, True):
        case = services.start_case(actor=boss, region_code=boss.region_id, bundle_code="open-restaurant",
                                   answers={"area_sqm": 800}, enterprise_uscc=enterprise.uscc)
        case = simulation.fill_form(case, boss)
        simulation.hand_in_materials(case, boss)
        services.submit_case(case=case, actor=boss)
        if accept:
            from tongban.accounts.models import User

            services.accept_case(case=case, actor=User.objects.get(username="changsha-clerk"))
        case.refresh_from_db()
        file = MaterialFile.objects.filter(material__case=case).first()
        notice = Notice.objects.filter(case=case).first()
        sub = case.subcases.order_by("id").first()
        found.append({key: str(value) for key, value in {
            "number": case.number, "code": file.material.code if file else "food-layout",
            "file_id": file.pk if file else None, "notice_id": notice.pk if notice else None,
            "subcase_id": sub.pk if sub else None, "basic_code": "000117001000", "region_code": "430100",
        }.items() if value is not None})
    return found


def _probe(operation, mode, sessions, errors, counts, path_parameters=None) -> None:
    """Generated requests for one operation, each sent as every user in `sessions`."""
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
    def probe(case):
        for role, (headers, cookies) in sessions.items():
            raised: list[str] = []

            def record(sender, request=None, **kwargs):
                raised.append(traceback.format_exc(limit=-8))  # noqa: B023 - used before the loop moves on

            got_request_exception.connect(record)
            try:
                response = case.call(headers=headers, cookies=cookies)
            finally:
                got_request_exception.disconnect(record)
            counts["examples"] += 1
            if TRACE:
                print(role, operation.method.upper(), case.formatted_path, response.status_code, response.content[:200])
            declared = operation.definition.raw.get("responses", {})
            if str(response.status_code) not in declared and "default" not in declared:
                counts.setdefault("undeclared", set()).add(f"{operation.method.upper()} {operation.path} "
                                                           f"{response.status_code}")
            if response.status_code >= 500:
                errors.append(f"{role} {operation.method.upper()} {operation.path} [{mode.value}] -> "
                              f"{response.status_code}\n  {case.as_curl_command()}\n" + "".join(raised)[-2000:])

    with contextlib.suppress(Unsatisfiable):  # an operation without parameters has no negative examples
        probe()


def test_no_server_errors_for_any_user():
    schema = schemathesis.openapi.from_path(OPENAPI)
    schema.app = get_wsgi_application()
    operations = [result.ok() for result in schema.get_all_operations()]
    objects = _real_objects()
    sessions = {role: _session(username) for role, username in USERS.items()}
    signed_in = {role: session for role, session in sessions.items() if USERS[role]}
    errors: list[str] = []
    counts = {"examples": 0}
    started = time.perf_counter()
    # As Django's test client does: the requests share the test's connection (and its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _probe(operation, mode, sessions, errors, counts)
            names = _PATH_PARAMETER.findall(operation.path)
            for known in objects if names else ():
                if all(name in known for name in names):
                    _probe(operation, GenerationMode.POSITIVE, signed_in, errors, counts,
                           {name: known[name] for name in names})
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    seconds = time.perf_counter() - started
    print(f"\nschemathesis: {len(operations)} operations x {len(USERS)} users, {counts['examples']} requests, "
          f"{len(errors)} server errors, {seconds:.0f} s")
    assert len(operations) >= 60
    assert not errors, f"{len(errors)} server errors:\n\n" + "\n\n".join(errors[:30])
    assert not counts.get("undeclared"), f"statuses the OpenAPI document does not declare: {sorted(counts['undeclared'])}"
