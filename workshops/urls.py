from django.urls import path

from . import views

app_name = "workshops"

urlpatterns = [
    path("workshops/", views.dashboard, name="dashboard"),
    path("workshops/new/", views.workshop_new, name="new"),
    path("workshops/<int:pk>/", views.console, name="console"),
    path("workshops/<int:pk>/edit/", views.workshop_edit, name="edit"),
    path("workshops/<int:pk>/delete/", views.workshop_delete, name="delete"),
    path("workshops/<int:pk>/projector/", views.projector, name="projector"),
    path("workshops/<int:pk>/projector/state/", views.projector_state, name="projector_state"),
    path("workshops/<int:pk>/presence/", views.presence_panel, name="presence"),
    path("workshops/<int:pk>/qr.svg", views.qr_svg, name="qr"),
    path("workshops/<int:pk>/timer/", views.timer, name="timer"),
    path("workshops/<int:pk>/lock/", views.lock, name="lock"),
    path("workshops/<int:pk>/join-link/renew/", views.renew_link, name="renew_link"),
    path("workshops/<int:pk>/reclaims/", views.reclaim_asks, name="reclaim_asks"),
    path(
        "workshops/<int:pk>/reclaims/<int:reclaim_pk>/decide/",
        views.reclaim_decide,
        name="reclaim_decide",
    ),
    path(
        "workshops/<int:pk>/participants/<int:participant_pk>/remove/",
        views.remove_participant,
        name="remove_participant",
    ),
    path("workshops/<int:pk>/participants/add/", views.add_participant, name="add_participant"),
    path("workshops/<int:pk>/stages/back/", views.stage_back, name="stage_back"),
    path("workshops/<int:pk>/stages/add/", views.stage_add, name="stage_add"),
    path("workshops/<int:pk>/stages/<int:stage_pk>/edit/", views.stage_edit, name="stage_edit"),
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/delete/", views.stage_delete, name="stage_delete"
    ),
    path("workshops/<int:pk>/stages/<int:stage_pk>/move/", views.stage_move, name="stage_move"),
    path("workshops/<int:pk>/stages/<int:stage_pk>/go/", views.stage_go, name="stage_go"),
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/reveal/", views.stage_reveal, name="stage_reveal"
    ),
    path("workshops/<int:pk>/promote/", views.promote_item, name="promote_item"),
    path("w/<int:pk>/", views.live, name="live"),
    path("w/<int:pk>/done/", views.done_toggle, name="done"),
]
