from django.urls import path

from . import views

app_name = "mapping"

urlpatterns = [
    path("w/<int:pk>/stages/<int:stage_pk>/actors/new/", views.actor_new, name="actor_new"),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/actors/<str:ref>/edit/",
        views.actor_edit,
        name="actor_edit",
    ),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/actors/<str:ref>/delete/",
        views.actor_delete,
        name="actor_delete",
    ),
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/actors/<str:ref>/move/",
        views.actor_move,
        name="actor_move",
    ),
    path("w/<int:pk>/stages/<int:stage_pk>/flows/new/", views.flow_new, name="flow_new"),
    path("w/<int:pk>/stages/<int:stage_pk>/map/close/", views.form_closed, name="form_closed"),
    path("w/<int:pk>/flows/<int:flow_pk>/edit/", views.flow_edit, name="flow_edit"),
    path("w/<int:pk>/flows/<int:flow_pk>/delete/", views.flow_delete, name="flow_delete"),
    path("w/<int:pk>/flows/<int:flow_pk>/rate/", views.flow_rate, name="flow_rate"),
]
