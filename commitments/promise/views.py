"""The promise's writes and its A3 poster. Views parse the request and call
`commitments.promise.actions`; the room sees the change through the push."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from workshops.access import acting_participant, facilitator_required, member_required
from workshops.http import done, handles_action_errors, op_id_from
from workshops.models import Stage

from . import actions, poster
from .models import Promise


def _stage(workshop, stage_pk):
    # The action loads the stage itself, under the workshop's lock (404 when not this workshop's).
    return Stage(pk=stage_pk, workshop_id=workshop.pk)


@require_POST
@facilitator_required
@handles_action_errors
def add_promise(request, workshop, stage_pk):
    actions.add_promise(
        _stage(workshop, stage_pk), client=request.POST.get("client", ""), op_id=op_id_from(request)
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def write_paragraph(request, workshop, participant, stage_pk):
    op_id = op_id_from(request)
    actions.write_paragraph(
        _stage(workshop, stage_pk),
        participant=acting_participant(request, workshop, participant),
        promise=request.POST.get("promise"),
        position=request.POST.get("position"),
        text=request.POST.get("text", ""),
        op_id=op_id,
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def add_commitment(request, workshop, participant, stage_pk):
    op_id = op_id_from(request)
    actions.add_commitment(
        _stage(workshop, stage_pk),
        participant=acting_participant(request, workshop, participant),
        promise=request.POST.get("promise"),
        text=request.POST.get("text", ""),
        op_id=op_id,
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def remove_commitment(request, workshop, participant, stage_pk):
    op_id = op_id_from(request)
    actions.remove_commitment(
        _stage(workshop, stage_pk),
        participant=participant,
        commitment=request.POST.get("commitment"),
        op_id=op_id,
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def sign(request, workshop, participant, stage_pk):
    op_id = op_id_from(request)
    actions.sign(
        _stage(workshop, stage_pk),
        participant=participant,
        promise=request.POST.get("promise"),
        signed=request.POST.get("signed", "1") != "0",
        op_id=op_id,
    )
    return done(request)


@require_GET
@facilitator_required
def poster_pdf(request, workshop, stage_pk, promise_pk):
    """The promise's A3 portrait poster, to print and hang on the service's wall."""
    stage = get_object_or_404(Stage, pk=stage_pk, workshop=workshop, kind="promise")
    promise = get_object_or_404(Promise, pk=promise_pk, stage=stage)
    pdf = poster.render_pdf(stage, promise)
    name = slugify(f"promesse {workshop.observed_service or workshop.title} {promise.client}")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name[:80] or "promesse"}.pdf"'
    return response
