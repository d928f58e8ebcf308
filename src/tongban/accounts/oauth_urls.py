"""OpenID Connect provider and OAuth2 endpoints, mounted at the site root.

Discovery and JWKS live under /.well-known/ (so the issuer is the site itself); the protocol
endpoints under /o/. Only what the platform uses is exposed: no application self-registration. The token
endpoint is throttled against secret guessing; introspection answers a client about its own tokens only
(tongban.accounts.oauth_views).
"""

from django.urls import path
from oauth2_provider import views as oauth

from .oauth_views import OwnTokenIntrospectView, ThrottledTokenView
from .views import TongbanAuthorizationView

app_name = "oauth2_provider"
urlpatterns = [
    path(".well-known/openid-configuration", oauth.ConnectDiscoveryInfoView.as_view(),
         name="oidc-connect-discovery-info"),
    path(".well-known/jwks.json", oauth.JwksInfoView.as_view(), name="jwks-info"),
    path("o/authorize/", TongbanAuthorizationView.as_view(), name="authorize"),
    path("o/token/", ThrottledTokenView.as_view(), name="token"),
    path("o/revoke_token/", oauth.RevokeTokenView.as_view(), name="revoke-token"),
    path("o/introspect/", OwnTokenIntrospectView.as_view(), name="introspect"),
    path("o/userinfo/", oauth.UserInfoView.as_view(), name="user-info"),
]
