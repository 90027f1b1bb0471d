from django.urls import path

from . import views

app_name = "journeys"

urlpatterns = [
    path("w/<int:pk>/stages/<int:stage_pk>/postits/", views.add_postit, name="add_postit"),
    path("w/<int:pk>/stages/<int:stage_pk>/mine/", views.mine, name="mine"),
    path("w/<int:pk>/postits/<int:postit_pk>/", views.show_postit, name="show_postit"),
    path("w/<int:pk>/postits/<int:postit_pk>/edit/", views.edit_postit, name="edit_postit"),
    path("w/<int:pk>/postits/<int:postit_pk>/delete/", views.delete_postit, name="delete_postit"),
    path("workshops/<int:pk>/stages/<int:stage_pk>/themes/", views.cluster_add, name="cluster_add"),
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/themes/assign/",
        views.cluster_assign,
        name="cluster_assign",
    ),
    path(
        "workshops/<int:pk>/themes/<int:cluster_pk>/rename/",
        views.cluster_rename,
        name="cluster_rename",
    ),
    path(
        "workshops/<int:pk>/themes/<int:cluster_pk>/delete/",
        views.cluster_delete,
        name="cluster_delete",
    ),
]

# The journey stage kind's routes (journeys/journey/urls.py).
from .journey.urls import urlpatterns as journey_urlpatterns  # noqa: E402

urlpatterns += journey_urlpatterns
