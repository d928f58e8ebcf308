from django.urls import path

from tongban.core.profile import demo_only

from . import rp_demo

app_name = "rp-demo"
urlpatterns = [
    path("", demo_only(rp_demo.home), name="home"),
    path("login", demo_only(rp_demo.login), name="login"),
    path("callback", demo_only(rp_demo.callback), name="callback"),
]
