"""Writes on the tension matrix. Each is one transaction, one event, one push.

Anyone in the room writes a tension, adds a cause or an opportunity to any
tension, rewords an opportunity as a challenge, and says "me too" on a cause
(once). The facilitator promotes an item of another stage and removes a
tension.
"""

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops import trace
from workshops.live.regions import render_live, render_part
from workshops.live.write import AUDIENCES, ActionError, clean_text, emit, room_write
from workshops.models import Workshop

from .kinds import TEMPLATE, row_context
from .models import (
    CHALLENGE_MAX_LENGTH,
    TENSION_MAX_LENGTH,
    Cause,
    CauseKind,
    Challenge,
    MeToo,
    Opportunity,
    Tension,
)

_MATRIX = {"kind": "tensions", "wrong_kind": gettext_lazy("This stage has no tension matrix.")}
# Far beyond a workshop's matrix; a guard against a runaway script.
MAX_TENSIONS = 200
MAX_PER_TENSION = 100


def add_tension(stage, *, participant, text, op_id=None):
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_MATRIX,
    ) as w:
        if w.prior:
            return Tension.objects.filter(pk=w.prior.payload.get("tension")).first()
        text = clean_text(text, TENSION_MAX_LENGTH, empty=_("Say what the tension is."))
        if Tension.objects.filter(stage=w.stage).count() >= MAX_TENSIONS:
            raise ActionError(_("This matrix is full."), status=409)
        tension = Tension.objects.create(
            workshop=w.workshop, stage=w.stage, text=text, author=participant
        )
        _emit_board(w.workshop, w.stage, "journeys.tension_added", tension, op_id, participant)
    return tension


def promote_item(stage, item, *, participant=None, op_id=None):
    """An item of another stage (a red post-it, a flow in friction) becomes a tension.

    The tension keeps the link to where it came from (`trace.link`), in the same
    transaction; the origin's stage, if it is on screen, is redrawn with its
    "Led to…" chip."""
    from .kinds import accepts_mark

    with room_write(
        stage.workshop_id, op_id=op_id, participant=participant, stage_id=stage.pk, **_MATRIX
    ) as w:
        if w.prior:
            return Tension.objects.filter(pk=w.prior.payload.get("tension")).first()
        origin = trace.resolve(item.ref, w.workshop.pk)
        if origin is None:
            raise ActionError(_("This item no longer exists."), status=404)
        if not accepts_mark(item.type, item.mark):
            raise ActionError(
                _("Only an orange or red post-it, or a flow in friction, becomes a tension.")
            )
        already = [
            t.derived_id
            for t in trace.descendants(origin)
            if t.derived_type == trace.type_of(Tension())
        ]
        if Tension.objects.filter(stage=w.stage, pk__in=already).exists():
            raise ActionError(_("This is already a tension of that matrix."), status=409)
        text = clean_text(item.text, TENSION_MAX_LENGTH, empty=_("Say what the tension is."))
        tension = Tension.objects.create(
            workshop=w.workshop, stage=w.stage, text=text, author_id=item.author_id
        )
        trace.link(origin, tension)
        _emit_board(
            w.workshop,
            w.stage,
            "journeys.tension_promoted",
            tension,
            op_id,
            participant,
            also=getattr(origin, "stage_id", None),
            extra={"origin": item.ref},
        )
    return tension


def delete_tension(tension, *, op_id=None):
    """The facilitator removes a tension; its links stay, with their labels."""
    with room_write(tension.workshop_id, op_id=op_id) as w:
        if w.prior:
            return
        tension = _tension(w.workshop, tension.pk)
        stage = tension.stage
        pk = tension.pk
        tension.delete()
        tension.pk = pk
        _emit_board(w.workshop, stage, "journeys.tension_deleted", tension, op_id, None)


def add_cause(tension, *, participant, kind, text, op_id=None):
    with room_write(tension.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return Cause.objects.filter(pk=w.prior.payload.get("cause")).first()
        tension = _open_tension(w, tension.pk)
        if kind not in CauseKind.values:
            raise ActionError(_("Choose the kind of cause."))
        text = clean_text(
            text, Cause._meta.get_field("text").max_length, empty=_("Say what the cause is.")
        )
        if tension.causes.count() >= MAX_PER_TENSION:
            raise ActionError(_("This tension has enough causes."), status=409)
        cause = Cause.objects.create(tension=tension, kind=kind, text=text, author=participant)
        _emit_row(
            w.workshop, tension, "journeys.cause_added", {"cause": cause.pk}, op_id, participant
        )
    return cause


def add_opportunity(tension, *, participant, text, op_id=None):
    with room_write(tension.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return Opportunity.objects.filter(pk=w.prior.payload.get("opportunity")).first()
        tension = _open_tension(w, tension.pk)
        text = clean_text(
            text,
            Opportunity._meta.get_field("text").max_length,
            empty=_("Say what the opportunity is."),
        )
        if tension.opportunities.count() >= MAX_PER_TENSION:
            raise ActionError(_("This tension has enough opportunities."), status=409)
        opportunity = Opportunity.objects.create(tension=tension, text=text, author=participant)
        _emit_row(
            w.workshop,
            tension,
            "journeys.opportunity_added",
            {"opportunity": opportunity.pk},
            op_id,
            participant,
        )
    return opportunity


def me_too(cause, *, participant, op_id=None):
    """A participant says "me too" on a cause: once; the second time is refused."""
    if participant is None:
        raise ActionError(_("Only participants say “me too”."), status=403)
    with room_write(cause.tension.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return
        try:
            cause = Cause.objects.select_related("tension").get(
                pk=cause.pk, tension__workshop=w.workshop
            )
        except Cause.DoesNotExist:
            raise ActionError(_("This cause no longer exists."), status=404) from None
        tension = _open_tension(w, cause.tension_id)
        if MeToo.objects.filter(cause=cause, participant=participant).exists():
            raise ActionError(_("You already said “me too” on this cause."), status=409)
        try:
            with transaction.atomic():  # the constraint is the last word
                MeToo.objects.create(cause=cause, participant=participant)
        except IntegrityError:
            raise ActionError(_("You already said “me too” on this cause."), status=409) from None
        _emit_row(w.workshop, tension, "journeys.me_too", {"cause": cause.pk}, op_id, participant)


def add_challenge(opportunity, *, participant, text, op_id=None):
    """An opportunity reworded as "Comment pourrions-nous… ?" (linked to it)."""
    with room_write(opportunity.tension.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return Challenge.objects.filter(pk=w.prior.payload.get("challenge")).first()
        try:
            opportunity = Opportunity.objects.select_related("tension").get(
                pk=opportunity.pk, tension__workshop=w.workshop
            )
        except Opportunity.DoesNotExist:
            raise ActionError(_("This opportunity no longer exists."), status=404) from None
        tension = _open_tension(w, opportunity.tension_id)
        with translation.override(w.workshop.language):  # the room's words, not the writer's
            text = how_might_we(
                clean_text(text, CHALLENGE_MAX_LENGTH - 30, empty=_("Word the challenge."))
            )
        if opportunity.challenges.count() >= MAX_PER_TENSION:
            raise ActionError(_("This opportunity has enough challenges."), status=409)
        challenge = Challenge.objects.create(opportunity=opportunity, text=text, author=participant)
        trace.link(opportunity, challenge, trace.Trace.How.REWORDED)
        _emit_row(
            w.workshop,
            tension,
            "journeys.challenge_added",
            {"challenge": challenge.pk},
            op_id,
            participant,
        )
    return challenge


def how_might_we(text):
    """The challenge as one sentence: "Comment pourrions-nous …?" in the room's language."""
    prefix = _("How might we")
    text = text.strip()
    if not text.lower().startswith(prefix.lower()):
        # "Simplifier le circuit" reads "Comment pourrions-nous simplifier le circuit ?"
        lowered = text[:1].isupper() and text[1:2].islower()
        text = f"{prefix} {text[:1].lower() + text[1:] if lowered else text}"
    if not text.endswith("?"):
        text = _("%(question)s?") % {"question": text.rstrip(" .")}
    return text


# Helpers ---------------------------------------------------------------------------------


def _tension(workshop, pk):
    try:
        return Tension.objects.select_related("stage").get(pk=pk, workshop=workshop)
    except Tension.DoesNotExist:
        raise ActionError(_("This tension no longer exists."), status=404) from None


def _open_tension(w, pk):
    """The workshop's tension, on a matrix where this person may write now (409 if not)."""
    tension = _tension(w.workshop, pk)
    w.load_stage(tension.stage_id, writing=True, **_MATRIX)
    tension.stage = w.stage
    return tension


def _current(workshop):
    return Workshop.objects.filter(pk=workshop.pk).values_list("current_stage", flat=True)[0]


def _emit_board(workshop, stage, type, tension, op_id, participant, also=None, extra=None):
    """Redraw the whole live region where it shows this matrix (or the origin's stage)."""
    payload = {"tension": tension.pk, "stage": stage.pk, **(extra or {})}
    if _current(workshop) in (stage.pk, also):
        fresh = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
        frames = {a: render_live(fresh, a, oob=True)[0] for a in AUDIENCES}
    else:
        frames = dict.fromkeys(AUDIENCES, "")
    emit(workshop, type, payload, frames=frames, op_id=op_id, participant=participant)


def _emit_row(workshop, tension, type, payload, op_id, participant):
    """Redraw one row and the chart: the same HTML for every audience (role CSS hides tools)."""
    stage = tension.stage
    payload = {**payload, "tension": tension.pk, "stage": stage.pk}
    if _current(workshop) == stage.pk:
        html = render_part(
            workshop, f"{TEMPLATE}#row_push", None, stage=stage, **row_context(stage, tension)
        )
        frames = dict.fromkeys(AUDIENCES, html)
    else:
        frames = dict.fromkeys(AUDIENCES, "")
    emit(workshop, type, payload, frames=frames, op_id=op_id, participant=participant)
