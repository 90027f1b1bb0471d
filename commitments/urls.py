from django.urls import path

from .ideas import views as ideas
from .promise import views as promise
from .reciprocal import views as reciprocal
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
    # The table of reciprocal commitments.
    path("workshops/<int:pk>/stages/<int:stage_pk>/rows/new/", reciprocal.add_row, name="add_row"),
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/rows/prefill/",
        reciprocal.prefill_rows,
        name="prefill_rows",
    ),
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/rows/remove/",
        reciprocal.remove_row,
        name="remove_row",
    ),
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/rows/follow-up/",
        reciprocal.follow_up,
        name="follow_up",
    ),
    path("w/<int:pk>/stages/<int:stage_pk>/rows/take/", reciprocal.take_row, name="take_row"),
    path("w/<int:pk>/stages/<int:stage_pk>/rows/leave/", reciprocal.leave_row, name="leave_row"),
    path("w/<int:pk>/stages/<int:stage_pk>/rows/cell/", reciprocal.write_cell, name="write_cell"),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/rows/meeting/",
        reciprocal.record_meeting,
        name="record_meeting",
    ),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/suivi/",
        reciprocal.follow_up_page,
        name="follow_up_page",
    ),
    # The service promise and its poster.
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/promises/new/",
        promise.add_promise,
        name="add_promise",
    ),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/promise/paragraph/",
        promise.write_paragraph,
        name="write_paragraph",
    ),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/promise/commitment/",
        promise.add_commitment,
        name="promise_add_commitment",
    ),
    path(
        "w/<int:pk>/stages/<int:stage_pk>/promise/commitment/remove/",
        promise.remove_commitment,
        name="promise_remove_commitment",
    ),
    path("w/<int:pk>/stages/<int:stage_pk>/promise/sign/", promise.sign, name="sign"),
    path(
        "workshops/<int:pk>/stages/<int:stage_pk>/promises/<int:promise_pk>/poster.pdf",
        promise.poster_pdf,
        name="poster",
    ),
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
