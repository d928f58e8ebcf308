from django.urls import path

from . import cases, my, views

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
    path("bundles/<slug:code>/apply/", cases.apply_bundle, name="apply-bundle"),
    path("items/<slug:code>/apply/", cases.apply_item, name="apply-item"),
    path("my/cases/", cases.case_list, name="my-cases"),
    path("my/cases/<str:number>/", cases.case_page, name="my-case"),
    path("my/cases/<str:number>/checklist/", cases.checklist_part, name="my-case-checklist"),
    path("my/cases/<str:number>/<slug:action>/", cases.case_action, name="my-case-action"),
]
