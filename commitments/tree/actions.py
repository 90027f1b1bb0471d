"""Writes on a commitment tree. Each is one transaction, one event, one push.

A participant writes their commitment (one, unless the stage allows more),
changes it or takes it back; the facilitator may change or remove any.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.live.write import ActionError, clean_text, room_write

from ..votes.actions import emit_stage
from .kinds import OTHER, SELF, actor_items, per_person, tree_owners
from .models import COMMITMENT_MAX_LENGTH, TARGET_NAME_MAX_LENGTH, Commitment

_TREE = {"kind": "tree", "wrong_kind": gettext_lazy("This stage holds no commitment tree.")}
# Far beyond a room; a guard against a runaway script.
MAX_COMMITMENTS = 400


def _target(stage, sentence, target, target_name):
    """(sentence, target_ref, target_name) for what the form sent."""
    if sentence == SELF or sentence == Commitment.Sentence.COMMIT:
        return Commitment.Sentence.COMMIT, "", ""
    if sentence != Commitment.Sentence.RELATION:
        raise ActionError(_("Choose one of the two sentences."))
    if not isinstance(target, str) or len(target) > 80:
        raise ActionError(_("Choose whom it is about."))
    if target and target != OTHER:
        actor = actor_items(stage).get(target)
        if actor is None or not actor.text:
            raise ActionError(_("This actor is no longer on the map."), status=404)
        return Commitment.Sentence.RELATION, target, actor.text[:TARGET_NAME_MAX_LENGTH]
    name = clean_text(target_name, TARGET_NAME_MAX_LENGTH, required=False, multiline=False)
    name = " ".join(name.split())
    if not name:
        raise ActionError(_("Write the name of the service or person."))
    return Commitment.Sentence.RELATION, "", name


def add_commitment(stage, *, participant, sentence, text, target="", target_name="", op_id=None):
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_TREE,
    ) as w:
        if w.prior:
            return Commitment.objects.filter(pk=w.prior.payload.get("commitment")).first()
        text = clean_text(text, COMMITMENT_MAX_LENGTH, empty=_("Complete the sentence."))
        sentence, target_ref, name = _target(w.stage, sentence, target, target_name)
        if participant is not None:
            # Under the workshop's lock: two taps at once cannot both pass.
            mine = Commitment.objects.filter(stage=w.stage, author=participant).count()
            allowed = per_person(w.stage)
            if mine >= allowed:
                raise ActionError(
                    _("You have already written your commitment: change it instead.")
                    if allowed == 1
                    else _(
                        "You have written %(count)d commitments, the most this stage allows."
                    )
                    % {"count": allowed},
                    status=409,
                )
        if Commitment.objects.filter(stage=w.stage).count() >= MAX_COMMITMENTS:
            raise ActionError(_("This stage is full."), status=409)
        commitment = Commitment.objects.create(
            workshop=w.workshop,
            stage=w.stage,
            sentence=sentence,
            text=text,
            target_ref=target_ref,
            target_name=name,
            author=participant,
        )
        emit_stage(
            w.workshop,
            w.stage,
            "commitments.commitment_added",
            {"commitment": commitment.pk},
            op_id,
            participant,
            owners=tree_owners(w.stage),
        )
    return commitment


def _commitment(stage, pk, participant):
    try:
        commitment = Commitment.objects.get(stage=stage, pk=int(pk))
    except (TypeError, ValueError, OverflowError, Commitment.DoesNotExist):
        raise ActionError(_("This commitment is no longer on the tree."), status=404) from None
    if participant is not None and commitment.author_id != participant.pk:
        raise ActionError(_("You can only change your own commitment."), status=403)
    return commitment


def edit_commitment(
    stage, *, participant, commitment, sentence, text, target="", target_name="", op_id=None
):
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_TREE,
    ) as w:
        if w.prior:
            return Commitment.objects.filter(pk=w.prior.payload.get("commitment")).first()
        found = _commitment(w.stage, commitment, participant)
        text = clean_text(text, COMMITMENT_MAX_LENGTH, empty=_("Complete the sentence."))
        sentence, target_ref, name = _target(w.stage, sentence, target, target_name)
        found.retarget(sentence, text, target_ref, name)
        found.save()
        emit_stage(
            w.workshop,
            w.stage,
            "commitments.commitment_edited",
            {"commitment": found.pk},
            op_id,
            participant,
            owners=tree_owners(w.stage),
        )
    return found


def delete_commitment(stage, *, participant, commitment, op_id=None):
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_TREE,
    ) as w:
        if w.prior:
            return
        found = _commitment(w.stage, commitment, participant)
        pk = found.pk
        found.delete()
        emit_stage(
            w.workshop,
            w.stage,
            "commitments.commitment_deleted",
            {"commitment": pk},
            op_id,
            participant,
            owners=tree_owners(w.stage),
        )


def show_view(stage, *, view, op_id=None):
    """The facilitator switches the console and projector between the tree and the alliances."""
    from .kinds import VIEWS

    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk, **_TREE) as w:
        if w.prior:
            return
        if view not in VIEWS:
            raise ActionError(_("Show the tree or the alliance map."))
        w.stage.config = {**(w.stage.config or {}), "view": view}
        w.stage.save(update_fields=["config"])
        emit_stage(w.workshop, w.stage, "commitments.tree_view", {"view": view}, op_id)
