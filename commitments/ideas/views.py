"""The ideas stage's writes. Views parse the request and call `commitments.ideas.actions`;
the room sees the change through the push (the live region is redrawn)."""

from django.views.decorators.http import require_POST

from workshops.access import acting_participant, facilitator_required, member_required
from workshops.http import done, handles_action_errors, op_id_from
from workshops.live.write import ActionError, malformed
from workshops.models import Stage

from . import actions


def _stage(workshop, stage_pk):
    # The action loads the stage itself, under the workshop's lock (404 when not this workshop's).
    return Stage(pk=stage_pk, workshop_id=workshop.pk)


@require_POST
@member_required
@handles_action_errors
def add_idea(request, workshop, participant, stage_pk):
    op_id = op_id_from(request)
    actions.add_idea(
        _stage(workshop, stage_pk),
        participant=acting_participant(request, workshop, participant),
        text=request.POST.get("text", ""),
        challenge=request.POST.get("challenge", ""),
        op_id=op_id,
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def add_challenge(request, workshop, participant, stage_pk):
    op_id = op_id_from(request)
    actions.add_challenge(
        _stage(workshop, stage_pk),
        participant=acting_participant(request, workshop, participant),
        text=request.POST.get("text", ""),
        op_id=op_id,
    )
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def promote(request, workshop, stage_pk):
    op_id = op_id_from(request)
    stage = Stage.objects.filter(pk=stage_pk, workshop=workshop, kind="ideas").first()
    if stage is None:
        raise ActionError(actions._IDEAS["wrong_kind"], status=404)
    value = request.POST.get("item", "")
    if not value:
        raise ActionError(malformed())
    item = actions.find_promotable(stage, value)
    if item is None:
        raise ActionError(actions.gone_postit(), status=404)
    actions.promote_item(stage, item, challenge=request.POST.get("challenge", ""), op_id=op_id)
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def merge(request, workshop, stage_pk):
    op_id = op_id_from(request)
    source, target = request.POST.get("source"), request.POST.get("target")
    if not source or not target:
        raise ActionError(actions.choose_two())
    actions.merge_ideas(_stage(workshop, stage_pk), source=source, target=target, op_id=op_id)
    return done(request)
