"""A review's views. They parse the request and call `reviews.actions`; the room sees
each change through the push. The review report and the calendar file are read-only."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from workshops.access import (
    acting_participant,
    facilitator_required,
    member_required,
    participant_required,
)
from workshops.http import done, handles_action_errors, op_id_from
from workshops.models import Stage
from workshops.trace import ref

from . import actions, ics, report
from .kinds import SPECS, STATUS_ICONS, review_of
from .models import ReviewEntry
from .templatetags.review_tags import review_list


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


@require_GET
@participant_required
def mine(request, workshop, participant):
    """After the workshop, from the phone that joined: one's commitments, the sheets one owns
    or signed, what each review recorded about them, and the review dates (read-only)."""
    from commitments.sheets.models import ActionSheet, Signature
    from commitments.tree.models import Commitment

    stages = list(workshop.stages.all())
    opened = review_list(stages)
    entries = {}
    for entry in ReviewEntry.objects.filter(stage__workshop=workshop).select_related("stage"):
        entries.setdefault(entry.item_ref, []).append(entry)

    def reviewed(obj):
        found = []
        for entry in entries.get(ref(obj), []):
            _key, label, _day = review_of(entry.stage)
            spec = SPECS[entry.stage.kind]
            found.append(
                {
                    "label": label or entry.stage.title,
                    "icon": STATUS_ICONS.get(entry.status, "·"),
                    "word": spec.status_label(entry.status) or _("not reviewed"),
                }
            )
        return found

    signed = set(
        Signature.objects.filter(participant=participant).values_list("sheet_id", flat=True)
    )
    sheets = [
        {"sheet": s, "signed": s.pk in signed, "reviews": reviewed(s)}
        for s in ActionSheet.objects.filter(workshop=workshop).prefetch_related("co_owners")
        if s.pk in signed
        or s.owner_id == participant.pk
        or participant.pk in {p.pk for p in s.co_owners.all()}
    ]
    commitments = [
        {"commitment": c, "reviews": reviewed(c)}
        for c in Commitment.objects.filter(workshop=workshop, author=participant)
    ]
    return render(
        request,
        "reviews/mine.html",
        {
            "workshop": workshop,
            "participant": participant,
            "sheets": sheets,
            "commitments": commitments,
            "reviews": opened,
        },
    )
