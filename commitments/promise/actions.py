"""Writes on a service-promise stage. Each is one transaction, one event, one push.

The facilitator opens a promise per client service (or one for the whole
service); anyone in the room rewrites a paragraph (the last writer wins, on
that paragraph only, and is named) and adds a way of working that keeps it;
each participant chooses, on their own phone, to sign it or not.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.live.write import ActionError, clean_text, room_write

from ..votes.actions import emit_stage
from .models import (
    CLIENT_MAX_LENGTH,
    COMMITMENT_MAX_LENGTH,
    MAX_COMMITMENTS,
    MAX_PARAGRAPHS,
    MAX_PROMISES,
    PARAGRAPH_MAX_LENGTH,
    Paragraph,
    Promise,
    PromiseCommitment,
    PromiseSignature,
)

_PROMISE = {"kind": "promise", "wrong_kind": gettext_lazy("This stage holds no promise.")}


def _promise(stage, pk):
    try:
        return Promise.objects.get(stage=stage, pk=int(pk))
    except (TypeError, ValueError, OverflowError, Promise.DoesNotExist):
        raise ActionError(_("This promise is no longer on the board."), status=404) from None


def _position(value):
    try:
        position = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ActionError(_("Choose a paragraph of the promise.")) from None
    if not 0 <= position < MAX_PARAGRAPHS:
        raise ActionError(
            _("A promise has at most %(count)d paragraphs.") % {"count": MAX_PARAGRAPHS}
        )
    return position


def add_promise(stage, *, client="", op_id=None):
    """The facilitator opens a promise to one client service (blank: the whole service's)."""
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk, **_PROMISE) as w:
        if w.prior:
            return Promise.objects.filter(pk=w.prior.payload.get("promise")).first()
        client = " ".join(clean_text(client, CLIENT_MAX_LENGTH, required=False).split())
        if Promise.objects.filter(stage=w.stage, client__iexact=client).exists():
            raise ActionError(_("This promise is already on the board."), status=409)
        if Promise.objects.filter(stage=w.stage).count() >= MAX_PROMISES:
            raise ActionError(_("This stage is full."), status=409)
        promise = Promise.objects.create(workshop=w.workshop, stage=w.stage, client=client)
        emit_stage(w.workshop, w.stage, "commitments.promise_added", {"promise": promise.pk}, op_id)
    return promise


def write_paragraph(stage, *, participant, promise, position, text, op_id=None):
    """Rewrite one paragraph (or add the next one): the last writer wins, on it alone."""
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_PROMISE,
    ) as w:
        if w.prior:
            return Paragraph.objects.filter(pk=w.prior.payload.get("paragraph")).first()
        promise = _promise(w.stage, promise)
        position = _position(position)
        text = clean_text(text, PARAGRAPH_MAX_LENGTH, required=False)
        count = promise.paragraphs.count()
        if position > count:
            position = count
        if position == count and not text:
            raise ActionError(_("Write the paragraph."))
        paragraph, _created = Paragraph.objects.get_or_create(promise=promise, position=position)
        paragraph.rewrite(text, participant)
        paragraph.full_clean()
        paragraph.save()
        emit_stage(
            w.workshop,
            w.stage,
            "commitments.paragraph_written",
            {"paragraph": paragraph.pk, "promise": promise.pk, "position": position},
            op_id,
            participant,
        )
    return paragraph


def add_commitment(stage, *, participant, promise, text, op_id=None):
    """A way of working that keeps the promise (five at most)."""
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_PROMISE,
    ) as w:
        if w.prior:
            return PromiseCommitment.objects.filter(pk=w.prior.payload.get("commitment")).first()
        promise = _promise(w.stage, promise)
        text = " ".join(
            clean_text(text, COMMITMENT_MAX_LENGTH, empty=_("Write the way of working.")).split()
        )
        if promise.commitments.count() >= MAX_COMMITMENTS:
            raise ActionError(
                _("A promise keeps to %(count)d ways of working at most: remove one first.")
                % {"count": MAX_COMMITMENTS},
                status=409,
            )
        commitment = PromiseCommitment.objects.create(
            promise=promise, text=text, author=participant
        )
        emit_stage(
            w.workshop,
            w.stage,
            "commitments.way_of_working_added",
            {"commitment": commitment.pk},
            op_id,
            participant,
            owners={participant.pk: [commitment.pk]} if participant is not None else None,
        )
    return commitment


def remove_commitment(stage, *, participant, commitment, op_id=None):
    """Its author or the facilitator takes a way of working back."""
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_PROMISE,
    ) as w:
        if w.prior:
            return None
        try:
            found = PromiseCommitment.objects.get(promise__stage=w.stage, pk=int(commitment))
        except (TypeError, ValueError, OverflowError, PromiseCommitment.DoesNotExist):
            raise ActionError(_("This way of working is no longer there."), status=404) from None
        if participant is not None and found.author_id != participant.pk:
            raise ActionError(_("Only its author or the facilitator can remove it."), status=403)
        found.delete()
        emit_stage(
            w.workshop, w.stage, "commitments.way_of_working_removed", {}, op_id, participant
        )
    return None


def sign(stage, *, participant, promise, signed=True, op_id=None):
    """A participant signs the promise (or takes their signature back), on their own phone."""
    if participant is None or participant.added_by_facilitator:
        raise ActionError(_("Each person signs on their own phone."), status=403)
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_PROMISE,
    ) as w:
        if w.prior:
            return None
        promise = _promise(w.stage, promise)
        owners = None
        if signed:
            signature, _created = PromiseSignature.objects.get_or_create(
                promise=promise, participant=participant
            )
            # Minus the signature's id: the signatories' list marks one's own line.
            owners = {participant.pk: [-signature.pk]}
        else:
            PromiseSignature.objects.filter(promise=promise, participant=participant).delete()
        emit_stage(
            w.workshop,
            w.stage,
            "commitments.promise_signed" if signed else "commitments.promise_unsigned",
            {"promise": promise.pk},
            op_id,
            participant,
            owners=owners,
        )
    return None
