from django.urls import path

from . import views

app_name = "federation"
urlpatterns = [
    path("v1/messages", views.messages, name="messages"),
    path("v1/pull", views.pull, name="pull"),
    path("v1/descriptor", views.descriptor, name="descriptor"),
    path("v1/probe", views.probe, name="probe"),
    path("v1/query", views.query, name="query"),
]
