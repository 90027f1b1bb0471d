"""Writes on an ideas stage. Each is one transaction, one event, one push.

Anyone in the room writes a challenge or an idea; the facilitator promotes a
post-it into an idea and merges two ideas.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.live.write import ActionError, clean_text, room_write
from workshops.models import Trace
from workshops.trace import label_of, link, ref, type_of

from ..votes.actions import emit_stage
from ..votes.models import Dot
from .kinds import ACCEPTS, NO_CHALLENGE, other_items
from .models import CHALLENGE_MAX_LENGTH, IDEA_MAX_LENGTH, Challenge, Idea

_IDEAS = {"kind": "ideas", "wrong_kind": gettext_lazy("This stage holds no ideas.")}
# Far beyond a workshop's board; a guard against a runaway script.
MAX_IDEAS = 400
MAX_CHALLENGES = 60


def add_challenge(stage, *, participant, text, op_id=None):
    """A "how might we…?" written on the stage itself."""
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_IDEAS,
    ) as w:
        if w.prior:
            return Challenge.objects.filter(pk=w.prior.payload.get("challenge")).first()
        text = " ".join(
            clean_text(text, CHALLENGE_MAX_LENGTH, empty=_("Write the challenge.")).split()
        )
        if Challenge.objects.filter(stage=w.stage).count() >= MAX_CHALLENGES:
            raise ActionError(_("This stage is full."), status=409)
        challenge = Challenge.objects.create(
            workshop=w.workshop, stage=w.stage, text=text, author=participant
        )
        emit_stage(
            w.workshop,
            w.stage,
            "commitments.challenge_added",
            {"challenge": challenge.pk},
            op_id,
            participant,
        )
    return challenge


def add_idea(stage, *, participant, text, challenge="", op_id=None):
    """An idea under the challenge picked ("c<pk>" for this stage's, a ref for another's)."""
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_IDEAS,
    ) as w:
        if w.prior:
            return Idea.objects.filter(pk=w.prior.payload.get("idea")).first()
        text = clean_text(text, IDEA_MAX_LENGTH, empty=_("Write your idea."))
        own, origin = _challenge(w.stage, challenge)
        if Idea.objects.filter(stage=w.stage).count() >= MAX_IDEAS:
            raise ActionError(_("This stage is full."), status=409)
        idea = Idea.objects.create(
            workshop=w.workshop,
            stage=w.stage,
            challenge=own,
            challenge_ref=ref(origin) if origin is not None and own is None else "",
            text=text,
            author=participant,
        )
        if origin is not None:
            link(origin, idea, Trace.How.ANSWERS)
        emit_stage(
            w.workshop, w.stage, "commitments.idea_added", {"idea": idea.pk}, op_id, participant
        )
    return idea


def promote_item(stage, item, *, participant=None, challenge="", op_id=None):
    """A post-it (a `registry.Item` of an accepted type) becomes an idea; it keeps its origin."""
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_IDEAS,
    ) as w:
        if w.prior:
            return Idea.objects.filter(pk=w.prior.payload.get("idea")).first()
        if item is None or item.type not in ACCEPTS or item.obj is None:
            raise ActionError(_("Only a post-it can become an idea here."))
        own, origin = _challenge(w.stage, challenge)
        text = clean_text(item.text, IDEA_MAX_LENGTH)
        idea = Idea.objects.create(
            workshop=w.workshop,
            stage=w.stage,
            challenge=own,
            challenge_ref=ref(origin) if origin is not None and own is None else "",
            text=text,
            author_id=item.author_id,
        )
        link(item.obj, idea, Trace.How.PROMOTED)
        if origin is not None:
            link(origin, idea, Trace.How.ANSWERS)
        emit_stage(
            w.workshop,
            w.stage,
            "commitments.idea_promoted",
            {"idea": idea.pk, "from": item.ref},
            op_id,
            participant,
        )
    return idea


def find_promotable(stage, value):
    """The accepted item (a post-it of another stage) that `value` names, or None."""
    return next((i for t in ACCEPTS for i in other_items(stage).get(t, []) if i.ref == value), None)


def merge_ideas(stage, *, source, target, op_id=None):
    """The facilitator merges `source` into `target`: both texts, both origins, all the votes."""
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk, **_IDEAS) as w:
        if w.prior:
            return Idea.objects.filter(pk=w.prior.payload.get("idea")).first()
        source, target = _idea(w.stage, source), _idea(w.stage, target)
        if source.pk == target.pk:
            raise ActionError(_("Choose two different ideas to merge."))
        if source.merged_into_id or target.merged_into_id:
            raise ActionError(_("This idea was already merged into another."), status=409)
        source_ref, target_ref = ref(source), ref(target)
        # Its own merged ideas, its origins and its dots follow it into the target.
        Idea.objects.filter(merged_into=source).update(merged_into=target)
        source.merge_into(target)
        source.save(update_fields=["merged_into"])
        Dot.objects.filter(vote__stage=w.stage, item_ref=source_ref).update(item_ref=target_ref)
        for origin in Trace.objects.filter(derived_type=type_of(source), derived_id=source.pk):
            if origin.how == Trace.How.MERGED:
                continue
            Trace.objects.get_or_create(
                origin_type=origin.origin_type,
                origin_id=origin.origin_id,
                derived_type=type_of(target),
                derived_id=target.pk,
                defaults={
                    "workshop_id": w.workshop.pk,
                    "origin_label": origin.origin_label,
                    "derived_label": label_of(target),
                    "how": origin.how,
                },
            )
        link(source, target, Trace.How.MERGED)
        emit_stage(
            w.workshop,
            w.stage,
            "commitments.ideas_merged",
            {"idea": target.pk, "merged": source.pk},
            op_id,
        )
    return target


def _idea(stage, pk):
    try:
        return Idea.objects.get(stage=stage, pk=int(pk))
    except (TypeError, ValueError, OverflowError, Idea.DoesNotExist):
        raise ActionError(_("This idea is no longer on the board."), status=404) from None


def _challenge(stage, value):
    """(this stage's Challenge or None, the origin object or None) for a form's value."""
    if not value or value == NO_CHALLENGE:
        return None, None
    if not isinstance(value, str) or len(value) > 80:
        raise ActionError(_("Choose a challenge from the list."))
    if value.startswith("c") and value[1:].isdigit():
        own = Challenge.objects.filter(stage=stage, pk=int(value[1:])).first()
        if own is None:
            raise ActionError(_("This challenge is no longer on the board."), status=404)
        return own, own
    item = next((i for i in other_items(stage).get("challenge", []) if i.ref == value), None)
    if item is None or item.obj is None:
        raise ActionError(_("This challenge is no longer on the board."), status=404)
    return None, item.obj


def gone_postit():
    return _("This post-it is no longer there.")


def choose_two():
    return _("Choose two different ideas to merge.")
