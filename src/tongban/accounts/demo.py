"""Identity demo data: mandates between the demo people, the demo relying party (a second regional
portal signing in through OIDC) and one department system with client credentials. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import Enterprise, Mandate, SystemClient, User
from .rp_demo import CLIENT_ID as RP_CLIENT_ID

RP_REDIRECT_URIS = [
    "http://127.0.0.1:8000/rp-demo/callback",
    "http://localhost:8000/rp-demo/callback",
    "http://testserver/rp-demo/callback",
]
DEMO_SYSTEM_CLIENT_ID = "changsha-market-system"
DEMO_SYSTEM_SECRET = "tongban-demo-system-secret"  # noqa: S105 - published demo credential, development only


def ensure_rp_demo_client(redirect_uris: list[str] | None = None):
    """The trusted demo relying party: a public client (PKCE, no secret), RS256 ID tokens, no consent page."""
    from oauth2_provider.models import Application

    uris = " ".join(redirect_uris or RP_REDIRECT_URIS)
    app, created = Application.objects.get_or_create(
        client_id=RP_CLIENT_ID,
        defaults={"name": "演示：另一地区门户 / demo regional portal", "client_type": Application.CLIENT_PUBLIC,
                  "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE, "redirect_uris": uris,
                  "skip_authorization": True, "algorithm": Application.RS256_ALGORITHM})
    if not created and app.redirect_uris != uris:
        app.redirect_uris = uris
        app.save(update_fields=["redirect_uris"])
    return app


def load() -> dict:
    from tongban.regions.models import Department

    from .services import grant_mandate, register_system_client

    mandates = 0
    today = timezone.localdate()
    for enterprise in Enterprise.objects.select_related("legal_representative").filter(
            legal_representative__username__endswith="-boss"):
        slug = enterprise.legal_representative.username.removesuffix("-boss")
        agent = User.objects.filter(username=f"{slug}-agent").first()
        if agent is None or Mandate.objects.filter(principal=enterprise, agent=agent, revoked_at__isnull=True,
                                                   valid_until__gte=today).exists():
            continue
        grant_mandate(granted_by=enterprise.legal_representative, principal=enterprise, agent=agent, all_items=True,
                      valid_from=today, valid_until=today + dt.timedelta(days=365), allow_subdelegation=False)
        mandates += 1
    created_clients = 0
    market = Department.objects.filter(region_id="430100", kind=Department.Kind.MARKET_REGULATION).first()
    if market is not None and not SystemClient.objects.filter(application__client_id=DEMO_SYSTEM_CLIENT_ID).exists():
        register_system_client(department=market, name="长沙市市场监管业务系统", scopes=["cases:read", "exchange:query"],
                               client_id=DEMO_SYSTEM_CLIENT_ID, client_secret=DEMO_SYSTEM_SECRET)
        created_clients = 1
    ensure_rp_demo_client()
    return {"mandates": mandates, "system_clients": created_clients}
