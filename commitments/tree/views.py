"""The commitment tree's writes. Views parse the request and call `commitments.tree.actions`;
the room sees the change through the push (the live region is redrawn)."""

from django.views.decorators.http import require_POST

from workshops.access import acting_participant, facilitator_required, member_required
from workshops.http import done, handles_action_errors, op_id_from
from workshops.models import Stage

from . import actions


def _stage(workshop, stage_pk):
    # The action loads the stage itself, under the workshop's lock (404 when not this workshop's).
    return Stage(pk=stage_pk, workshop_id=workshop.pk)


def _fields(request):
    return {
        "sentence": request.POST.get("sentence", ""),
        "text": request.POST.get("text", ""),
        "target": request.POST.get("target", ""),
        "target_name": request.POST.get("target_name", ""),
    }


@require_POST
@member_required
@handles_action_errors
def add_commitment(request, workshop, participant, stage_pk):
    actions.add_commitment(
        _stage(workshop, stage_pk),
        participant=acting_participant(request, workshop, participant),
        op_id=op_id_from(request),
        **_fields(request),
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def edit_commitment(request, workshop, participant, stage_pk, commitment_pk):
    actions.edit_commitment(
        _stage(workshop, stage_pk),
        participant=participant,
        commitment=commitment_pk,
        op_id=op_id_from(request),
        **_fields(request),
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def delete_commitment(request, workshop, participant, stage_pk, commitment_pk):
    actions.delete_commitment(
        _stage(workshop, stage_pk),
        participant=participant,
        commitment=commitment_pk,
        op_id=op_id_from(request),
    )
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def show_view(request, workshop, stage_pk):
    actions.show_view(
        _stage(workshop, stage_pk), view=request.POST.get("view", ""), op_id=op_id_from(request)
    )
    return done(request)
