"""The platform as OpenID Connect provider ("一次登录，全网漫游") and OAuth2 server for department systems.

- Claims: `sub`, `name`, `region` and `acting_as` {kind, code (ID numbers masked), name}, given with the
  `profile` scope. The acting-as party is the one in the user's session when they authorised; it is
  recorded with the authorisation code (SignOnParty) and re-checked each time claims are issued, so a
  revoked mandate stops being asserted at once (the person is asserted instead).
- Scopes per application: department systems (SystemClient) get only the scopes listed for them;
  other applications (regional portals) get the sign-in scopes.
"""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes

from .models import SignOnParty, SystemClient
from .selectors import party_for_key, person_party

SIGN_IN_SCOPES = ("openid", "profile")


class ClientScopes(SettingsScopes):
    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        every = super().get_available_scopes(application, request, *args, **kwargs)
        if application is None:
            return every
        try:
            allowed = set(application.system_client.scopes)
        except SystemClient.DoesNotExist:
            allowed = set(SIGN_IN_SCOPES)
        return [s for s in every if s in allowed]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        if application is not None:
            try:
                return list(application.system_client.scopes)
            except SystemClient.DoesNotExist:
                pass
        return ["openid"]


class TongbanValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "region": "profile", "acting_as": "profile"}

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        key = getattr(request, "acting_as_key", None) or "person"
        SignOnParty.objects.create(grant_code=code["code"], user=request.user, party_key=key)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        ok = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if ok:
            request.sign_on_party = SignOnParty.objects.filter(grant_code=code).first()
        return ok

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        sign_on = getattr(request, "sign_on_party", None)
        if sign_on is not None:
            SignOnParty.objects.filter(pk=sign_on.pk).update(access_token=access_token)
        return access_token

    def _party_key(self, request) -> str:
        sign_on = getattr(request, "sign_on_party", None)
        if sign_on is not None:
            return sign_on.party_key
        access_token = getattr(request, "access_token", None)
        if access_token is not None and getattr(access_token, "pk", None):
            key = SignOnParty.objects.filter(access_token=access_token).values_list("party_key", flat=True).first()
            if key:
                return key
        return "person"

    def get_additional_claims(self, request):
        user = request.user
        party = party_for_key(user, self._party_key(request)) or person_party(user)
        return {
            "name": user.real_name or user.get_username(),
            "region": user.region_id or "",
            "acting_as": party.claim(),
        }
