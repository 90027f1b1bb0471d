"""The vote's writes and the phone's own ballot. Views parse, the actions keep the rules."""

from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from workshops.access import facilitator_required, participant_required
from workshops.http import done, handles_action_errors, op_id_from
from workshops.live.write import ActionError, malformed
from workshops.models import Stage

from . import actions, tally
from .models import Dot, Vote

TEMPLATE = "commitments/votes/vote.html"


def _flag(request, name):
    return request.POST.get(name) in ("1", "on", "true")


@require_POST
@facilitator_required
@handles_action_errors
def open_vote(request, workshop, stage_pk):
    op_id = op_id_from(request)
    double = _flag(request, "double")
    actions.open_vote(
        Stage(pk=stage_pk, workshop_id=workshop.pk),
        budget=request.POST.get("budget", ""),
        cap=request.POST.get("cap", ""),
        double=double,
        first_label=request.POST.get("first_label", ""),
        second_label=request.POST.get("second_label", ""),
        allow_own=_flag(request, "allow_own"),
        anonymous=not _flag(request, "named"),
        hidden=not _flag(request, "live"),
        item_type=request.POST.get("item_type", ""),
        op_id=op_id,
    )
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def close_vote(request, workshop, vote_pk):
    op_id = op_id_from(request)
    actions.close_vote(Vote(pk=vote_pk, workshop_id=workshop.pk), op_id=op_id)
    return done(request)


def _tap(request, workshop, participant, vote_pk, adding):
    op_id = op_id_from(request)
    item, budget = request.POST.get("item"), request.POST.get("budget") or Dot.Budget.FIRST
    if not item:
        raise ActionError(malformed())
    tap = actions.add_dot if adding else actions.remove_dot
    try:
        vote = tap(
            Vote(pk=vote_pk, workshop_id=workshop.pk),
            participant=participant,
            item=item,
            budget=budget,
            op_id=op_id,
        )
    except ActionError as error:
        # The form swaps its reply into the ballot, refusals too (htmx-config): the
        # message as a toast, and the ballot as the server has it.
        vote = Vote.objects.select_related("stage").filter(pk=vote_pk, workshop=workshop).first()
        if vote is None or not request.htmx:
            raise
        toast = render_to_string("workshops/toast.html", {"message": error.message}, request)
        reply = _ballot(request, workshop, participant, vote)
        reply.content = toast.encode() + reply.content
        reply.status_code = error.status
        return reply
    return _ballot(request, workshop, participant, vote)


@require_POST
@participant_required
@handles_action_errors
def add_dot(request, workshop, participant, vote_pk):
    return _tap(request, workshop, participant, vote_pk, adding=True)


@require_POST
@participant_required
@handles_action_errors
def remove_dot(request, workshop, participant, vote_pk):
    return _tap(request, workshop, participant, vote_pk, adding=False)


@require_GET
@participant_required
def ballot(request, workshop, participant, vote_pk):
    """A phone's own ballot (a shared redraw cannot carry it): its dots, what it has left."""
    vote = get_object_or_404(Vote.objects.select_related("stage"), pk=vote_pk, workshop=workshop)
    return _ballot(request, workshop, participant, vote)


def _ballot(request, workshop, participant, vote):
    if vote is None or not request.htmx:
        return done(request)
    stage = vote.stage
    with translation.override(workshop.language):
        context = tally.vote_context(stage, "participant", participant, vote=vote)
        return render(
            request,
            f"{TEMPLATE}#ballot",
            {
                "workshop": workshop,
                "stage": stage,
                "participant": participant,
                "audience": "participant",
                **context,
            },
        )
