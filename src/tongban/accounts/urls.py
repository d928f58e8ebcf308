from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("otp/", views.otp_verify, name="otp-verify"),
    path("otp/setup/", views.otp_setup, name="otp-setup"),
    path("acting-as", views.acting_as, name="acting-as"),
    path("me/", views.me, name="me"),
    path("mandates/<int:mandate_id>/revoke", views.revoke, name="mandate-revoke"),
]
