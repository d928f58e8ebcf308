"""Test URLconf: the site, plus the identity router and a scope probe on an API sharing the real handlers.

The lead mounts `tongban.accounts.api.router` at /api/v1/me; these tests reach the same router at
/api/ident-test/me so they do not depend on that, with the main API's exception handlers (bilingual
problems) shared by reference.
"""

from django.urls import path
from ninja import NinjaAPI, Router

from tongban.accounts.api import router as me_router
from tongban.api.auth import require_scope
from tongban.api.main import api as main_api
from tongban.urls import urlpatterns as site

probe = Router()


@probe.get("/cases", auth=require_scope("cases:read"))
def probe_cases(request):
    return {"user": request.user.username, "department": request.user.department.uscc,
            "scopes": sorted(getattr(request, "oauth_scopes", set()))}


test_api = NinjaAPI(urls_namespace="ident-test", title="ident-test", version="test")
test_api._exception_handlers = main_api._exception_handlers
test_api.add_router("/me", me_router)
test_api.add_router("/probe", probe)

urlpatterns = [path("api/ident-test/", test_api.urls), *site]
