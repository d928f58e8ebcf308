from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("verify/notice/<str:token>", views.verify_notice, name="verify-notice"),
]
