from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("workshops/import/", views.import_json, name="import"),
    path("workshops/<int:pk>/report/", views.report_start, name="report_start"),
    path("workshops/<int:pk>/report/status/", views.report_status, name="report_status"),
    path("workshops/<int:pk>/report/download/", views.report_download, name="report_download"),
    path("workshops/<int:pk>/export.json", views.export_json, name="json"),
    path("workshops/<int:pk>/export.csv", views.export_csv, name="csv"),
]
