from django.urls import path

from . import views

# Joined to journeys/urls.py (namespace "journeys"): names start with "journey_".
urlpatterns = [
    path("w/<int:pk>/stages/<int:stage_pk>/journey/", views.panel, name="journey_panel"),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/journey/close/",
        views.form_closed,
        name="journey_form_closed",
    ),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/journey/postits/",
        views.add_postit,
        name="journey_add_postit",
    ),
    path(
        "w/<int:pk>/journey-postits/<int:postit_pk>/edit/",
        views.edit_postit,
        name="journey_edit_postit",
    ),
    path(
        "w/<int:pk>/journey-postits/<int:postit_pk>/delete/",
        views.delete_postit,
        name="journey_delete_postit",
    ),
    path("w/<int:pk>/stages/<int:stage_pk>/journey/rate/", views.rate, name="journey_rate"),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/journey/situations/",
        views.situation_add,
        name="journey_situation_add",
    ),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/journey/steps/",
        views.step_add,
        name="journey_step_add",
    ),
    path(
        "workshops/<int:pk>/journey-situations/<int:situation_pk>/edit/",
        views.situation_edit,
        name="journey_situation_edit",
    ),
    path(
        "workshops/<int:pk>/journey-situations/<int:situation_pk>/delete/",
        views.situation_delete,
        name="journey_situation_delete",
    ),
    path(
        "workshops/<int:pk>/journey-steps/<int:step_pk>/edit/",
        views.step_edit,
        name="journey_step_edit",
    ),
    path(
        "workshops/<int:pk>/journey-steps/<int:step_pk>/move/",
        views.step_move,
        name="journey_step_move",
    ),
    path(
        "workshops/<int:pk>/journey-steps/<int:step_pk>/delete/",
        views.step_delete,
        name="journey_step_delete",
    ),
    path("workshops/<int:pk>/stages/<int:stage_pk>/journey/view/", views.view, name="journey_view"),
]
