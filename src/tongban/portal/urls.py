from django.urls import path

from . import my, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("search", views.search, name="search"),
    path("bundles/<slug:code>/", views.bundle, name="bundle"),
    path("care/", views.set_care, name="care"),
    path("kiosk/", views.kiosk, name="kiosk"),
    path("kiosk/exit/", views.kiosk_exit, name="kiosk-exit"),
    path("kiosk/sign-out/", views.sign_out, name="sign-out"),
    path("my/licences/", my.licences, name="my-licences"),
    path("my/licences/<int:licence_id>/", my.licence, name="my-licence"),
    path("my/data-log/", my.data_log, name="my-data-log"),
]
