"""Writes on action sheets. Each is one transaction, one event, one push.

Anyone in the room co-writes any sheet of the stage, field by field: the last
write in server order wins (the workshop's lock orders them), and the sheet
says who wrote each field last. Signing is a participant's own act, on their
own phone; the facilitator signs only for someone without a phone whom they
added from the console, and that signature says so.
"""

import datetime

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops import trace
from workshops.live.regions import render_part
from workshops.live.write import AUDIENCES, ActionError, clean_text, emit, malformed, room_write
from workshops.models import Participant, Workshop

from . import kinds
from .models import DESCRIPTION_MAX_LENGTH, TEXT_MAX_LENGTH, TITLE_MAX_LENGTH, ActionSheet

TEMPLATE = kinds.TEMPLATE
_SHEETS = {"kind": kinds.KIND, "wrong_kind": gettext_lazy("This stage has no action sheets.")}
# Far beyond a workshop's handful of sheets: a guard against a runaway script.
MAX_SHEETS = 60
MAX_CO_OWNERS = 20


def _title(value):
    return " ".join(
        clean_text(
            value, TITLE_MAX_LENGTH, multiline=False, empty=_("Give the sheet a title.")
        ).split()
    )


def add_sheet(stage, *, participant, title, origin="", op_id=None):
    """Someone opens a new sheet, from a challenge or an idea of the room (or from nothing)."""
    with room_write(stage.workshop_id, op_id=op_id, participant=participant, **_on(stage.pk)) as w:
        if w.prior:
            return ActionSheet.objects.filter(pk=w.prior.payload.get("sheet")).first()
        workshop, stage = w.workshop, w.stage
        title = _title(title)
        origin_obj = _origin(workshop, origin)
        if ActionSheet.objects.filter(stage=stage).count() >= MAX_SHEETS:
            raise ActionError(_("This stage has as many sheets as it can hold."), status=409)
        sheet = ActionSheet(workshop=workshop, stage=stage, title=title, author=participant)
        sheet.record_edit("title", participant)
        sheet.save()
        if origin_obj is not None:
            trace.link(origin_obj, sheet)
        _emit(workshop, stage, "commitments.sheet_added", {"sheet": sheet.pk}, op_id, participant)
    return sheet


def edit_sheet(sheet, *, participant, field, value, op_id=None):
    """One field of the sheet, last writer wins; `value` is text, a date, ids or a ref."""
    with room_write(sheet.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return ActionSheet.objects.filter(pk=sheet.pk).first()
        workshop = w.workshop
        sheet = _sheet(workshop, sheet.pk)
        stage = w.load_stage(sheet.stage_id, **_SHEETS, writing=True)
        if field not in ActionSheet.EDITABLE:
            raise ActionError(malformed())
        _apply(workshop, sheet, field, value)
        sheet.record_edit(field, participant)
        sheet.save()
        trace.relabel(sheet)
        _emit(
            workshop,
            stage,
            "commitments.sheet_edited",
            {"sheet": sheet.pk, "field": field},
            op_id,
            participant,
        )
    return sheet


def sign_sheet(sheet, *, participant, content_hash, by_facilitator=False, op_id=None):
    """`participant` signs the sheet as they read it (`content_hash`), after confirming.

    Views pass the phone's own participant, or, from the console, someone the
    facilitator added (`by_facilitator`): nobody else can be named here.
    """
    with room_write(sheet.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return ActionSheet.objects.filter(pk=sheet.pk).first()
        workshop = w.workshop
        if participant is None:
            raise ActionError(_("The facilitator does not sign action sheets."), status=403)
        if by_facilitator != participant.added_by_facilitator:
            raise ActionError(_("Nobody can sign for someone else."), status=403)
        sheet = _sheet(workshop, sheet.pk)
        stage = w.load_stage(sheet.stage_id, **_SHEETS, writing=True)
        [sheet] = kinds.sheets_of(stage_with(stage, workshop), pk=sheet.pk)
        if content_hash != sheet.hash:
            raise ActionError(
                _("The sheet changed while you were reading it: read it again, then sign."),
                status=409,
            )
        if refusal := kinds.refusal_to_sign(sheet, participant, kinds.rule_of(stage), sheet.hash):
            raise ActionError(refusal, status=409)
        sheet.sign(participant, sheet.hash, by_facilitator=by_facilitator)
        _emit(
            workshop,
            stage,
            "commitments.sheet_signed",
            {"sheet": sheet.pk, "hash": sheet.hash},
            op_id,
            participant,
        )
    return sheet


# Helpers ---------------------------------------------------------------------------------


def stage_with(stage, workshop):
    stage.workshop = workshop
    return stage


def _on(stage_pk):
    return {"stage_id": stage_pk, **_SHEETS, "writing": True}


def _sheet(workshop, pk):
    try:
        return ActionSheet.objects.get(pk=pk, workshop=workshop)
    except ActionSheet.DoesNotExist:
        raise ActionError(_("This action sheet no longer exists."), status=404) from None


def _origin(workshop, value):
    """A challenge or an idea of this workshop, by its ref; "" for none."""
    if not value:
        return None
    for item in kinds.origin_choices(workshop):
        if item.ref == value:
            return item.obj
    raise ActionError(_("Choose a challenge or an idea of this workshop."))


def _participant(workshop, value):
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise ActionError(malformed()) from None
    if not 0 < pk < 2**63:
        raise ActionError(malformed())
    found = Participant.objects.filter(pk=pk, workshop=workshop, removed_at__isnull=True).first()
    if found is None:
        raise ActionError(_("This person is no longer in the workshop."), status=404)
    return found


def _apply(workshop, sheet, field, value):
    if field == "title":
        sheet.title = _title(value)
    elif field == "description":
        sheet.description = clean_text(value, DESCRIPTION_MAX_LENGTH, required=False)
    elif field in ActionSheet.TEXT_FIELDS:
        setattr(sheet, field, clean_text(value, TEXT_MAX_LENGTH, required=False))
    elif field in ActionSheet.DATE_FIELDS:
        setattr(sheet, field, _day(value))
        if sheet.start_date and sheet.due_date and sheet.due_date < sheet.start_date:
            raise ActionError(_("The due date comes after the start date."))
    elif field == "owner":
        sheet.owner = _participant(workshop, value) if value else None
    elif field == "co_owners":
        values = value if isinstance(value, list | tuple) else [value]
        values = [v for v in values if v]
        if len(values) > MAX_CO_OWNERS:
            raise ActionError(malformed())
        sheet.co_owners.set({p.pk: p for p in (_participant(workshop, v) for v in values)}.values())
    elif field == "origin":
        origin = _origin(workshop, value)
        from workshops.models import Trace

        Trace.objects.filter(derived_type=trace.type_of(sheet), derived_id=sheet.pk).delete()
        if origin is not None:
            trace.link(origin, sheet)


def _day(value):
    if not value:
        return None
    if not isinstance(value, str):
        raise ActionError(_("Enter a date as YYYY-MM-DD."))
    try:
        day = datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise ActionError(_("Enter a date as YYYY-MM-DD.")) from None
    if not 2000 <= day.year <= 2100:
        raise ActionError(_("Enter a date as YYYY-MM-DD."))
    return day


def _emit(workshop, stage, type, payload, op_id, participant):
    """Redraw the stage's sheets on every screen that shows it."""
    current = Workshop.objects.filter(pk=workshop.pk).values_list("current_stage", flat=True)[0]
    if current == stage.pk:
        stage = stage_with(stage, workshop)
        with translation.override(workshop.language):
            board = kinds.build(stage)
        # The console offers to enter the signature of the people without a phone.
        proxies = list(workshop.proxies())
        frames = {
            audience: render_part(
                workshop,
                f"{TEMPLATE}#sheets_push",
                audience,
                stage=stage,
                sheets_board=board,
                proxies=proxies if audience == "facilitator" else [],
            )
            for audience in AUDIENCES
        }
    else:
        frames = dict.fromkeys(AUDIENCES, "")
    emit(workshop, type, payload, frames=frames, op_id=op_id, participant=participant)
