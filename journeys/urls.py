from django.urls import path

from . import views
from .tensions import views as tensions

app_name = "journeys"

urlpatterns = [
    path("w/<int:pk>/stages/<int:stage_pk>/postits/", views.add_postit, name="add_postit"),
    path("w/<int:pk>/stages/<int:stage_pk>/mine/", views.mine, name="mine"),
    path("w/<int:pk>/postits/<int:postit_pk>/", views.show_postit, name="show_postit"),
    path("w/<int:pk>/postits/<int:postit_pk>/edit/", views.edit_postit, name="edit_postit"),
    path("w/<int:pk>/postits/<int:postit_pk>/delete/", views.delete_postit, name="delete_postit"),
    # The tension matrix (journeys/tensions/).
    path("w/<int:pk>/stages/<int:stage_pk>/tensions/", tensions.tension_add, name="tension_add"),
    path(
        "workshops/<int:pk>/tensions/<int:tension_pk>/delete/",
        tensions.tension_delete,
        name="tension_delete",
    ),
    path("w/<int:pk>/tensions/<int:tension_pk>/causes/", tensions.cause_add, name="cause_add"),
    path(
        "w/<int:pk>/tensions/<int:tension_pk>/opportunities/",
        tensions.opportunity_add,
        name="opportunity_add",
    ),
    path("w/<int:pk>/causes/<int:cause_pk>/me-too/", tensions.me_too, name="me_too"),
    path(
        "w/<int:pk>/opportunities/<int:opportunity_pk>/challenges/",
        tensions.challenge_add,
        name="challenge_add",
    ),
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
