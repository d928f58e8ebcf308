"""Public pages of the licence library. Included at the site root by tongban.urls:

    path("", include("tongban.licences.urls")),
"""

from django.urls import path

from . import views

app_name = "licences"
urlpatterns = [
    path("verify/licence/<str:identifier>", views.verify_licence, name="verify"),
]
