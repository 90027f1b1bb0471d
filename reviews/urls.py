from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("workshops/<int:pk>/reviews/open/", views.open_review, name="open"),
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/review/record/",
        views.record,
        name="record",
    ),
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/review/confirm/",
        views.confirm,
        name="confirm",
    ),
    path("workshops/<int:pk>/reviews/<slug:key>/report.pdf", views.report_pdf, name="report"),
    path("workshops/<int:pk>/reviews/<slug:key>/calendar.ics", views.calendar, name="calendar"),
    path("w/<int:pk>/mes-engagements/", views.mine, name="mine"),
]
