"""The sheets' short forms (fetched by whoever opens them, with their own operation id),
the signing steps, and the calendar files. Writes go through `actions`."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from workshops.access import (
    acting_participant,
    facilitator_required,
    member_required,
    participant_required,
)
from workshops.http import done, error_response, op_id_from
from workshops.live.write import ActionError, malformed
from workshops.models import Stage

from . import actions, ics, kinds
from .models import ActionSheet

TEMPLATE = kinds.TEMPLATE


def _stage(workshop, stage_pk):
    return get_object_or_404(Stage, pk=stage_pk, workshop=workshop, kind=kinds.KIND)


def _sheet(workshop, sheet_pk):
    sheet = get_object_or_404(
        ActionSheet.objects.select_related("stage"), pk=sheet_pk, workshop=workshop
    )
    stage = sheet.stage
    stage.workshop = workshop
    [annotated] = kinds.sheets_of(stage, pk=sheet.pk)
    return annotated


def _context(workshop, stage, participant, **extra):
    return {
        "workshop": workshop,
        "stage": stage,
        "participant": participant,
        "is_facilitator": participant is None,
        "people": list(workshop.participants.active()),
        "origins": kinds.origin_choices(workshop),
        **extra,
    }


def _show(request, workshop, partial, context, status=200):
    with translation.override(workshop.language):
        template = f"{TEMPLATE}#{partial}" if request.htmx else "commitments/sheets/form_page.html"
        return render(
            request, template, {**context, "form_partial": f"{TEMPLATE}#{partial}"}, status=status
        )


def _refused(request, workshop, partial, context, error):
    context = {**context, "error": error.message, "values": request.POST}
    return _show(request, workshop, partial, context, error.status)


@require_http_methods(["GET", "POST"])
@member_required
def sheet_new(request, workshop, participant, stage_pk):
    stage = _stage(workshop, stage_pk)
    context = _context(workshop, stage, participant)
    if request.method == "POST":
        try:
            actions.add_sheet(
                stage,
                participant=acting_participant(request, workshop, participant),
                title=request.POST.get("title", ""),
                origin=request.POST.get("origin", ""),
                op_id=op_id_from(request),
            )
        except ActionError as error:
            return _refused(request, workshop, "new_form", context, error)
        return done(request)
    return _show(request, workshop, "new_form", {**context, "values": {}})


@require_http_methods(["GET", "POST"])
@member_required
def sheet_edit(request, workshop, participant, sheet_pk):
    sheet = _sheet(workshop, sheet_pk)
    field = request.POST.get("field") if request.method == "POST" else request.GET.get("field")
    if field not in ActionSheet.EDITABLE:
        return error_response(request, malformed(), 400)
    context = _context(workshop, sheet.stage, participant, sheet=sheet, field=field)
    context["row"] = next(row for row in kinds.field_rows(sheet) if row["name"] == field)
    if request.method == "POST":
        value = (
            request.POST.getlist("value") if field == "co_owners" else request.POST.get("value", "")
        )
        try:
            actions.edit_sheet(
                sheet,
                participant=acting_participant(request, workshop, participant),
                field=field,
                value=value,
                op_id=op_id_from(request),
            )
        except ActionError as error:
            return _refused(request, workshop, "field_form", context, error)
        return done(request)
    return _show(request, workshop, "field_form", context)


def _sign(request, workshop, sheet, signer, by_facilitator, context):
    if request.POST.get("confirm") != "1":
        raise ActionError(_("Confirm your signature first."))
    actions.sign_sheet(
        sheet,
        participant=signer,
        content_hash=request.POST.get("hash", ""),
        by_facilitator=by_facilitator,
        op_id=op_id_from(request),
    )


@require_http_methods(["GET", "POST"])
@participant_required
def sheet_sign(request, workshop, participant, sheet_pk):
    """ "Je signe", then the confirmation: only on one's own phone, as oneself."""
    sheet = _sheet(workshop, sheet_pk)
    context = _context(workshop, sheet.stage, participant, sheet=sheet)
    if request.method == "POST":
        try:
            acting_participant(request, workshop, participant)  # refuses "for someone else"
            _sign(request, workshop, sheet, participant, False, context)
        except ActionError as error:
            return _refused(request, workshop, "sign_form", context, error)
        return done(request)
    return _show(request, workshop, "sign_form", context)


@require_http_methods(["GET", "POST"])
@facilitator_required
def sheet_sign_for(request, workshop, sheet_pk):
    """The console enters the signature of someone without a phone it added."""
    sheet = _sheet(workshop, sheet_pk)
    context = _context(workshop, sheet.stage, None, sheet=sheet, proxies=list(workshop.proxies()))
    if request.method == "POST":
        try:
            signer = acting_participant(request, workshop, None)
            if signer is None:
                raise ActionError(_("Choose who signs: someone you added without a phone."))
            _sign(request, workshop, sheet, signer, True, context)
        except ActionError as error:
            return _refused(request, workshop, "sign_form", context, error)
        return done(request)
    return _show(request, workshop, "sign_form", context)


@require_GET
@member_required
def form_closed(request, workshop, participant, stage_pk):
    _stage(workshop, stage_pk)
    return done(request)


def _ics_response(workshop, sheets, name):
    with translation.override(workshop.language):
        body = ics.calendar(workshop, sheets)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.ics"'
    return response


@require_GET
@member_required
def sheet_calendar(request, workshop, participant, sheet_pk):
    sheet = get_object_or_404(ActionSheet, pk=sheet_pk, workshop=workshop)
    return _ics_response(workshop, [sheet], f"fiche-{sheet.pk}-{slugify(sheet.title)[:40]}")


@require_GET
@facilitator_required
def workshop_calendar(request, workshop):
    sheets = ActionSheet.objects.filter(workshop=workshop).order_by("stage__position", "pk")
    return _ics_response(workshop, list(sheets), f"fiches-actions-{workshop.pk}")
