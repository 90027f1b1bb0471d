from django.urls import path

from . import views

app_name = "sheets"

urlpatterns = [
    path("w/<int:pk>/stages/<int:stage_pk>/sheets/new/", views.sheet_new, name="new"),
    path("w/<int:pk>/stages/<int:stage_pk>/sheets/close/", views.form_closed, name="close"),
    path("w/<int:pk>/sheets/<int:sheet_pk>/edit/", views.sheet_edit, name="edit"),
    path("w/<int:pk>/sheets/<int:sheet_pk>/sign/", views.sheet_sign, name="sign"),
    path("w/<int:pk>/sheets/<int:sheet_pk>/calendar.ics", views.sheet_calendar, name="calendar"),
    path(
        "workshops/<int:pk>/sheets/<int:sheet_pk>/sign-for/",
        views.sheet_sign_for,
        name="sign_for",
    ),
    path("workshops/<int:pk>/sheets/calendar.ics", views.workshop_calendar, name="calendar_all"),
]
