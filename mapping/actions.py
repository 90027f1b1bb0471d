"""Writes on the three-circle map. Each is one transaction, one event, one push.

Views and management commands call these; nothing else saves actors or flows.
Anyone in the room may add, edit or remove an actor or a flow (the map is
drawn together, as on a paper board); only the facilitator moves actors.
"""

import math

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.live.regions import render_part
from workshops.live.write import AUDIENCES, ActionError, clean_text, emit, room_write
from workshops.models import Workshop

from . import layout
from .kinds import SIDES, build_map
from .models import (
    ANSWER_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    LABEL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    Actor,
    Circle,
    Flow,
    FlowKind,
    Rating,
    Scope,
)

TEMPLATE = "mapping/map.html"
# A write on a map checks that its stage is one.
_MAP = {"kind": "map", "wrong_kind": gettext_lazy("This stage has no map.")}
# Far beyond a workshop's map (40 actors); a guard against a runaway script.
MAX_ACTORS = 150
MAX_FLOWS = 400


def clean_name(text):
    return " ".join(clean_text(text, NAME_MAX_LENGTH, empty=_("Give the actor a name.")).split())


# Actors ----------------------------------------------------------------------------------


def add_actor(
    stage, *, participant, name, circle, scope=Scope.INTERNAL, description="", op_id=None
):
    """Someone puts an actor on the map, in the suppliers' or the clients' circle."""
    with room_write(stage.workshop_id, op_id=op_id, participant=participant, **_map(stage.pk)) as w:
        if w.prior:
            return Actor.objects.filter(pk=w.prior.payload.get("actor")).first()
        workshop, stage = w.workshop, w.stage
        if circle not in SIDES:
            raise ActionError(_("Choose a circle: suppliers or clients."))
        if scope not in Scope.values:
            raise ActionError(_("Choose internal or external."))
        name = clean_name(name)
        description = clean_text(description, DESCRIPTION_MAX_LENGTH, required=False)
        if Actor.objects.filter(stage=stage).count() >= MAX_ACTORS:
            raise ActionError(_("This map is full."), status=409)
        taken = Actor.objects.filter(stage=stage, circle=circle).values_list("slot", flat=True)
        actor = Actor.objects.create(
            workshop=workshop,
            stage=stage,
            circle=circle,
            name=name,
            scope=scope,
            description=description,
            slot=layout.next_slot(taken),
            author=participant,
        )
        _emit_map(
            workshop,
            stage,
            "mapping.actor_added",
            {"actor": actor.pk, "stage": stage.pk, "circle": circle},
            op_id,
            participant,
        )
    return actor


def edit_actor(stage, ref, *, participant, name, scope, description="", circle=None, op_id=None):
    """Rename, re-describe or move an actor to the other side circle."""
    with room_write(stage.workshop_id, op_id=op_id, participant=participant, **_map(stage.pk)) as w:
        if w.prior:
            return _find_actor(stage, ref)
        workshop, stage = w.workshop, w.stage
        actor = _actor(workshop, stage, ref)
        if scope not in Scope.values:
            raise ActionError(_("Choose internal or external."))
        if actor.is_centre:
            # Blank: the centre follows the workshop's observed service.
            actor.name = " ".join(clean_text(name, NAME_MAX_LENGTH, required=False).split())
        else:
            actor.name = clean_name(name)
            if circle is not None and circle != actor.circle:
                if circle not in SIDES:
                    raise ActionError(_("Choose a circle: suppliers or clients."))
                taken = Actor.objects.filter(stage=stage, circle=circle).values_list(
                    "slot", flat=True
                )
                actor.circle = circle
                actor.slot = layout.next_slot(taken)
                actor.x = actor.y = None  # it lands in its new circle
        actor.scope = scope
        actor.description = clean_text(description, DESCRIPTION_MAX_LENGTH, required=False)
        actor.save()
        _emit_map(workshop, stage, "mapping.actor_edited", {"actor": actor.pk}, op_id, participant)
    return actor


def delete_actor(stage, ref, *, participant, op_id=None):
    """The actor goes, and its flows with it."""
    with room_write(stage.workshop_id, op_id=op_id, participant=participant, **_map(stage.pk)) as w:
        if w.prior:
            return
        workshop, stage = w.workshop, w.stage
        actor = _actor(workshop, stage, ref)
        if actor.is_centre:
            raise ActionError(_("The observed service stays in the centre of the map."))
        actor_pk = actor.pk
        actor.delete()
        _emit_map(workshop, stage, "mapping.actor_deleted", {"actor": actor_pk}, op_id, participant)


def move_actor(stage, ref, *, x, y, op_id=None):
    """The facilitator nudges an actor (its final position); x=y=None puts it back."""
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk, **_MAP) as w:
        if w.prior:
            return _find_actor(stage, ref)
        workshop, stage = w.workshop, w.stage
        actor = _actor(workshop, stage, ref)
        if x is None and y is None:
            actor.move_to(None, None)
        else:
            try:
                x, y = float(x), float(y)
            except (TypeError, ValueError):
                raise ActionError(_("This position is not on the map.")) from None
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ActionError(_("This position is not on the map."))
            actor.move_to(*layout.clamp_position(x, y, Actor.objects.filter(stage=stage)))
        actor.save(update_fields=["x", "y", "updated_at"])
        _emit_map(
            workshop,
            stage,
            "mapping.actor_moved",
            {"actor": actor.pk, "x": actor.x, "y": actor.y},
            op_id,
            None,
        )
    return actor


# Flows ----------------------------------------------------------------------------------


def add_flow(
    stage,
    *,
    participant,
    source,
    target,
    kind,
    label,
    they_expect="",
    we_expect="",
    mismatch="",
    op_id=None,
):
    """A flow of information, requests or deliverables from one actor to another.

    `source` and `target` are actor refs: an actor's id, or "centre".
    """
    with room_write(stage.workshop_id, op_id=op_id, participant=participant, **_map(stage.pk)) as w:
        if w.prior:
            return Flow.objects.filter(pk=w.prior.payload.get("flow")).first()
        workshop, stage = w.workshop, w.stage
        fields = _flow_fields(workshop, stage, source, target, kind, label)
        answers = _answers(they_expect, we_expect, mismatch)
        if Flow.objects.filter(stage=stage).count() >= MAX_FLOWS:
            raise ActionError(_("This map is full."), status=409)
        flow = Flow.objects.create(
            workshop=workshop, stage=stage, author=participant, **fields, **answers
        )
        _emit_map(
            workshop,
            stage,
            "mapping.flow_added",
            {"flow": flow.pk, "source": flow.source_id, "target": flow.target_id},
            op_id,
            participant,
        )
    return flow


def edit_flow(
    flow,
    *,
    participant,
    source,
    target,
    kind,
    label,
    they_expect="",
    we_expect="",
    mismatch="",
    op_id=None,
):
    with room_write(flow.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return Flow.objects.filter(pk=flow.pk).first()
        workshop = w.workshop
        flow = _flow(workshop, flow.pk)
        stage = w.load_stage(flow.stage_id, **_MAP, writing=True)
        fields = _flow_fields(workshop, stage, source, target, kind, label)
        for name, value in {**fields, **_answers(they_expect, we_expect, mismatch)}.items():
            setattr(flow, name, value)
        flow.save()
        _emit_map(workshop, stage, "mapping.flow_edited", {"flow": flow.pk}, op_id, participant)
    return flow


def delete_flow(flow, *, participant, op_id=None):
    with room_write(flow.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return
        workshop = w.workshop
        flow = _flow(workshop, flow.pk)
        stage = w.load_stage(flow.stage_id, **_MAP, writing=True)
        flow_pk = flow.pk
        flow.delete()
        _emit_map(workshop, stage, "mapping.flow_deleted", {"flow": flow_pk}, op_id, participant)


def rate_flow(flow, *, participant, rating, op_id=None):
    """Mark a flow smooth, unclear or in friction ("" takes the mark off)."""
    with room_write(flow.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return Flow.objects.filter(pk=flow.pk).first()
        workshop = w.workshop
        flow = _flow(workshop, flow.pk)
        stage = w.load_stage(flow.stage_id, **_MAP, writing=True)
        rating = rating or ""
        if rating and rating not in Rating.values:
            raise ActionError(_("Choose smooth, unclear or friction."))
        flow.rate(rating, participant)
        flow.save(update_fields=["rating", "rated_by", "updated_at"])
        _emit_map(
            workshop,
            stage,
            "mapping.flow_rated",
            {"flow": flow.pk, "rating": rating},
            op_id,
            participant,
        )
    return flow


# Helpers ---------------------------------------------------------------------------------


def _map(stage_pk):
    """room_write's stage checks for a participant's write on a map."""
    return {"stage_id": stage_pk, **_MAP, "writing": True}


def _centre(workshop, stage):
    # Created on the first write that needs it, under the workshop's lock.
    actor, _created = Actor.objects.get_or_create(
        stage=stage, circle=Circle.CENTRE, defaults={"workshop": workshop, "slot": 0}
    )
    return actor


def _find_actor(stage, ref):
    if ref == "centre":
        return Actor.objects.filter(stage=stage, circle=Circle.CENTRE).first()
    return Actor.objects.filter(stage=stage, pk=_pk(ref)).first()


def _actor(workshop, stage, ref):
    if str(ref) == "centre":
        return _centre(workshop, stage)
    try:
        return Actor.objects.select_related("workshop").get(
            stage=stage, workshop=workshop, pk=_pk(ref)
        )
    except Actor.DoesNotExist:
        raise ActionError(_("This actor is no longer on the map."), status=404) from None


def _pk(ref):
    try:
        return int(ref)
    except (TypeError, ValueError):
        raise ActionError(_("This actor is no longer on the map."), status=404) from None


def _flow(workshop, flow_pk):
    try:
        return Flow.objects.get(pk=flow_pk, workshop=workshop)
    except Flow.DoesNotExist:
        raise ActionError(_("This flow is no longer on the map."), status=404) from None


def _flow_fields(workshop, stage, source, target, kind, label):
    if not source or not target:
        raise ActionError(_("Choose where the flow comes from and where it goes."))
    if str(source) == str(target):
        raise ActionError(_("A flow goes between two different actors."))
    if kind not in FlowKind.values:
        raise ActionError(_("Choose a kind of flow: information, request or deliverable."))
    return {
        "source": _actor(workshop, stage, source),
        "target": _actor(workshop, stage, target),
        "kind": kind,
        "label": " ".join(
            clean_text(label, LABEL_MAX_LENGTH, empty=_("Say in a few words what flows.")).split()
        ),
    }


def _answers(they_expect, we_expect, mismatch):
    return {
        "they_expect": clean_text(they_expect, ANSWER_MAX_LENGTH, required=False),
        "we_expect": clean_text(we_expect, ANSWER_MAX_LENGTH, required=False),
        "mismatch": clean_text(mismatch, ANSWER_MAX_LENGTH, required=False),
    }


def _emit_map(workshop, stage, type, payload, op_id, participant):
    """Redraw the map (SVG and list) on every screen that shows this stage."""
    current = Workshop.objects.filter(pk=workshop.pk).values_list("current_stage", flat=True)[0]
    if current == stage.pk:
        # The map's labels are read as it is built: in the workshop's language, not the
        # writer's (an English phone in a French room pushed English labels to everyone).
        with translation.override(workshop.language):
            built = build_map(stage)
        frames = {
            audience: render_part(
                workshop,
                f"{TEMPLATE}#map_push",
                audience,
                stage=stage,
                map=built,
                can_move=audience == "facilitator",
            )
            for audience in AUDIENCES
        }
    else:
        frames = dict.fromkeys(AUDIENCES, "")
    emit(workshop, type, payload, frames=frames, op_id=op_id, participant=participant)
