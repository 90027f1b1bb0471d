from django.urls import path

from .ideas import views as ideas
from .tree import views as tree
from .votes import views as votes

app_name = "commitments"

urlpatterns = [
    path("w/<int:pk>/stages/<int:stage_pk>/ideas/new/", ideas.add_idea, name="add_idea"),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/challenges/new/",
        ideas.add_challenge,
        name="add_challenge",
    ),
    path("workshops/<int:pk>/stages/<int:stage_pk>/ideas/promote/", ideas.promote, name="promote"),
    path("workshops/<int:pk>/stages/<int:stage_pk>/ideas/merge/", ideas.merge, name="merge"),
    path("workshops/<int:pk>/stages/<int:stage_pk>/votes/open/", votes.open_vote, name="open_vote"),
    path("workshops/<int:pk>/votes/<int:vote_pk>/close/", votes.close_vote, name="close_vote"),
    path("w/<int:pk>/votes/<int:vote_pk>/dot/", votes.add_dot, name="add_dot"),
    path("w/<int:pk>/votes/<int:vote_pk>/undot/", votes.remove_dot, name="remove_dot"),
    path("w/<int:pk>/votes/<int:vote_pk>/ballot/", votes.ballot, name="ballot"),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/commitments/new/",
        tree.add_commitment,
        name="add_commitment",
    ),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/commitments/<int:commitment_pk>/edit/",
        tree.edit_commitment,
        name="edit_commitment",
    ),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/commitments/<int:commitment_pk>/delete/",
        tree.delete_commitment,
        name="delete_commitment",
    ),
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/tree/view/",
        tree.show_view,
        name="tree_view",
    ),
]
