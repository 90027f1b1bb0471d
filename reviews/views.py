"""A review's views. They parse the request and call `reviews.actions`; the room sees
each change through the push. The review report and the calendar file are read-only."""

from django.http import Http404, HttpResponse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from workshops.access import acting_participant, facilitator_required, member_required
from workshops.http import done, handles_action_errors, op_id_from
from workshops.models import Stage

from . import actions, ics, report
from .kinds import SPECS, review_of
from .models import ReviewEntry


def _stage(workshop, stage_pk):
    # The action loads the stage itself, under the workshop's lock.
    return Stage(pk=stage_pk, workshop_id=workshop.pk)


@require_POST
@facilitator_required
@handles_action_errors
def open_review(request, workshop):
    actions.open_review(
        workshop,
        label=request.POST.get("label", ""),
        day=request.POST.get("date", ""),
        op_id=op_id_from(request),
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def record(request, workshop, participant, stage_pk):
    actions.record(
        _stage(workshop, stage_pk),
        participant=acting_participant(request, workshop, participant),
        item=request.POST.get("item", ""),
        status=request.POST.get("status"),
        texts={k: request.POST[k] for k in ReviewEntry.TEXT_FIELDS if k in request.POST},
        op_id=op_id_from(request),
    )
    return done(request)


@require_POST
@member_required
@handles_action_errors
def confirm(request, workshop, participant, stage_pk):
    actions.confirm(
        _stage(workshop, stage_pk),
        participant=participant,
        item=request.POST.get("item", ""),
        op_id=op_id_from(request),
    )
    return done(request)


def _review(workshop, key):
    stages = [s for s in workshop.stages.all() if s.kind in SPECS and review_of(s)[0] == key]
    if not stages:
        raise Http404
    return stages


@require_GET
@facilitator_required
def report_pdf(request, workshop, key):
    stages = _review(workshop, key)
    pdf = report.render_pdf(workshop, stages)
    name = slugify(f"{review_of(stages[0])[1] or 'bilan'} {workshop.title}")[:80] or "bilan"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


@require_GET
@member_required
def calendar(request, workshop, participant, key):
    stages = _review(workshop, key)
    _key, label, day = review_of(stages[0])
    if day is None:
        raise Http404
    body = ics.review_calendar(workshop, key, label, day)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(label)[:60] or key}.ics"'
    return response
