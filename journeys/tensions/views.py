"""The tension matrix's write views: parse, call the action, reply (workshops/http.py)."""

from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from workshops.access import (
    acting_participant,
    facilitator_required,
    member_required,
    participant_required,
)
from workshops.http import done, handles_action_errors, op_id_from
from workshops.models import Stage

from . import actions
from .models import Cause, Opportunity, Tension


@require_POST
@member_required
@handles_action_errors
def tension_add(request, workshop, participant, stage_pk):
    stage = get_object_or_404(Stage, pk=stage_pk, workshop=workshop)
    actions.add_tension(
        stage,
        participant=acting_participant(request, workshop, participant),
        text=request.POST.get("text", ""),
        op_id=op_id_from(request),
    )
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def tension_delete(request, workshop, tension_pk):
    tension = get_object_or_404(Tension, pk=tension_pk, workshop=workshop)
    actions.delete_tension(tension, op_id=op_id_from(request))
    return done(request)


@require_POST
@member_required
@handles_action_errors
def cause_add(request, workshop, participant, tension_pk):
    tension = get_object_or_404(Tension, pk=tension_pk, workshop=workshop)
    actions.add_cause(
        tension,
        participant=participant,
        kind=request.POST.get("kind", ""),
        text=request.POST.get("text", ""),
        op_id=op_id_from(request),
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def opportunity_add(request, workshop, participant, tension_pk):
    tension = get_object_or_404(Tension, pk=tension_pk, workshop=workshop)
    actions.add_opportunity(
        tension,
        participant=participant,
        text=request.POST.get("text", ""),
        op_id=op_id_from(request),
    )
    return done(request)


@require_POST
@participant_required  # "me too" is a person's; the facilitator has none to give
@handles_action_errors
def me_too(request, workshop, participant, cause_pk):
    cause = get_object_or_404(
        Cause.objects.select_related("tension"), pk=cause_pk, tension__workshop=workshop
    )
    actions.me_too(cause, participant=participant, op_id=op_id_from(request))
    return done(request)


@require_POST
@member_required
@handles_action_errors
def challenge_add(request, workshop, participant, opportunity_pk):
    opportunity = get_object_or_404(
        Opportunity.objects.select_related("tension"),
        pk=opportunity_pk,
        tension__workshop=workshop,
    )
    actions.add_challenge(
        opportunity,
        participant=participant,
        text=request.POST.get("text", ""),
        op_id=op_id_from(request),
    )
    return done(request)
