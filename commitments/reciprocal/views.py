"""The reciprocal table's writes, and its follow-up page. Views parse the request and call
`commitments.reciprocal.actions`; the room sees the change through the push."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from workshops.access import acting_participant, facilitator_required, member_required
from workshops.http import done, handles_action_errors, op_id_from
from workshops.live.write import ActionError, malformed
from workshops.models import Stage

from . import actions
from .kinds import build_table


def _stage(workshop, stage_pk):
    # The action loads the stage itself, under the workshop's lock (404 when not this workshop's).
    return Stage(pk=stage_pk, workshop_id=workshop.pk)


@require_POST
@facilitator_required
@handles_action_errors
def add_row(request, workshop, stage_pk):
    actions.add_row(
        _stage(workshop, stage_pk), label=request.POST.get("label", ""), op_id=op_id_from(request)
    )
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def prefill_rows(request, workshop, stage_pk):
    actions.prefill_rows(
        _stage(workshop, stage_pk),
        circle=request.POST.get("circle", ""),
        op_id=op_id_from(request),
    )
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def remove_row(request, workshop, stage_pk):
    actions.remove_row(
        _stage(workshop, stage_pk), row=request.POST.get("row"), op_id=op_id_from(request)
    )
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def follow_up(request, workshop, stage_pk):
    if request.POST.get("open") not in ("0", "1"):
        raise ActionError(malformed())
    actions.set_follow_up(
        _stage(workshop, stage_pk),
        open=request.POST.get("open") == "1",
        op_id=op_id_from(request),
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def take_row(request, workshop, participant, stage_pk):
    op_id = op_id_from(request)
    actions.take_row(
        _stage(workshop, stage_pk),
        participant=participant,
        row=request.POST.get("row"),
        op_id=op_id,
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def leave_row(request, workshop, participant, stage_pk):
    actions.leave_row(
        _stage(workshop, stage_pk), participant=participant, op_id=op_id_from(request)
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def write_cell(request, workshop, participant, stage_pk):
    op_id = op_id_from(request)
    actions.write_cell(
        _stage(workshop, stage_pk),
        participant=acting_participant(request, workshop, participant),
        row=request.POST.get("row"),
        field=request.POST.get("field", ""),
        text=request.POST.get("text", ""),
        op_id=op_id,
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def record_meeting(request, workshop, participant, stage_pk):
    op_id = op_id_from(request)
    actions.record_meeting(
        _stage(workshop, stage_pk),
        participant=participant,
        row=request.POST.get("row"),
        met=request.POST.get("met", ""),
        met_on=request.POST.get("met_on", ""),
        feedback=request.POST.get("feedback", ""),
        op_id=op_id,
    )
    return done(request)


@require_GET
@member_required
def follow_up_page(request, workshop, participant, stage_pk):
    """After the workshop, from a phone: the pair's rows and their meeting record."""
    stage = get_object_or_404(Stage, pk=stage_pk, workshop=workshop, kind="reciprocal")
    return render(
        request,
        "commitments/reciprocal/follow_up.html",
        {
            "workshop": workshop,
            "stage": stage,
            "participant": participant,
            **build_table(stage, "participant", participant),
        },
    )
