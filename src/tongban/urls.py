from django.contrib import admin
from django.urls import include, path

from tongban.api.main import api
from tongban.core.views import healthz

# The admin app is SimpleAdminConfig (settings): register every app's admin.py here, with the URLs.
admin.autodiscover()

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("federation/", include("tongban.federation.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("tongban.accounts.urls")),
    path("rp-demo/", include("tongban.accounts.rp_demo_urls")),
    path("", include("tongban.accounts.oauth_urls")),
    path("console/", include("tongban.console.urls")),
    path("", include("tongban.cases.urls")),
    path("", include("tongban.licences.urls")),
    path("", include("tongban.portal.urls")),
]
