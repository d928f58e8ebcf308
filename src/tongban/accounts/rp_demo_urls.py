from django.urls import path

from . import rp_demo

app_name = "rp-demo"
urlpatterns = [
    path("", rp_demo.home, name="home"),
    path("login", rp_demo.login, name="login"),
    path("callback", rp_demo.callback, name="callback"),
]
