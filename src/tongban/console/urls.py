from django.urls import path

from . import views

app_name = "console"
urlpatterns = [
    path("", views.index, name="index"),
    path("tickets/take/", views.take_ticket, name="take-ticket"),
    path("window/", views.window, name="window"),
    path("window/call/", views.call_next, name="call-next"),
    path("intake/", views.intake, name="intake"),
    path("cases/<str:number>/", views.case, name="case"),
    path("cases/<str:number>/<slug:action>/", views.case_action, name="case-action"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<int:subcase_id>/", views.task, name="task"),
    path("tasks/<int:subcase_id>/<slug:action>/", views.task_action, name="task-action"),
    path("supervision/<int:notice_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("board/", views.board, name="board"),
    path("board/extensions/<int:request_id>/", views.decide_extension, name="decide-extension"),
    path("board/supervise/", views.supervise, name="supervise"),
]
