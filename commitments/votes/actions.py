"""Writes on a vote. Each is one transaction, one event, one push; the server keeps every rule.

Only the facilitator opens and closes a vote. A participant adds or takes
back one dot at a time: the budget, the cap per item and the own-item rule
are checked here, under the workshop's lock, so two phones tapping at once
cannot go over (writes to one workshop are serialised by `room_write`).
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.live.regions import render_live, render_part
from workshops.live.write import AUDIENCES, ActionError, clean_text, emit, room_write
from workshops.models import Workshop

from . import tally
from .models import BUDGET_MAX, BUDGET_MIN, LABEL_MAX_LENGTH, Dot, Vote

TEMPLATE = "commitments/votes/vote.html"


def _int(value, low, high, message):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ActionError(message) from None
    if not low <= number <= high:
        raise ActionError(message)
    return number


def open_vote(
    stage,
    *,
    budget=5,
    cap=3,
    double=False,
    first_label="",
    second_label="",
    allow_own=True,
    anonymous=True,
    hidden=True,
    item_type="",
    op_id=None,
):
    """The facilitator opens a vote on the stage's items, with its settings."""
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk) as w:
        if w.prior:
            return Vote.objects.filter(pk=w.prior.payload.get("vote")).first()
        stage = w.stage
        budget = _int(
            budget,
            BUDGET_MIN,
            BUDGET_MAX,
            _("Give each participant between %(low)d and %(high)d dots.")
            % {"low": BUDGET_MIN, "high": BUDGET_MAX},
        )
        cap = _int(
            cap,
            1,
            budget,
            _("The cap per item is between 1 and the budget (%(budget)d).") % {"budget": budget},
        )
        labels = [
            clean_text(label, LABEL_MAX_LENGTH, required=False, multiline=False)
            for label in (first_label, second_label)
        ]
        if Vote.objects.filter(stage=stage, state=Vote.State.OPEN).exists():
            raise ActionError(_("A vote is already open on this stage."), status=409)
        if item_type and item_type not in {i.type for i in tally.vote_items(Vote(), stage)}:
            raise ActionError(_("This stage has nothing of that kind to vote on."))
        vote = Vote(
            workshop=w.workshop,
            stage=stage,
            item_type=item_type or "",
            budget=budget,
            cap=cap,
            double=bool(double),
            first_label=labels[0] if double else "",
            second_label=labels[1] if double else "",
            allow_own=bool(allow_own),
            anonymous=bool(anonymous),
            hidden=bool(hidden),
        )
        vote.full_clean()
        vote.save()
        emit_stage(w.workshop, stage, "commitments.vote_opened", {"vote": vote.pk}, op_id)
    return vote


def close_vote(vote, *, op_id=None):
    """The facilitator closes the vote: the ranking and the chart show everywhere."""
    with room_write(vote.workshop_id, op_id=op_id) as w:
        if w.prior:
            return Vote.objects.filter(pk=vote.pk).first()
        vote = _vote(w.workshop, vote.pk)
        stage = w.load_stage(vote.stage_id)
        if not vote.is_open:
            raise ActionError(_("This vote is already closed."), status=409)
        vote.close()
        vote.save(update_fields=["state", "closed_at"])
        emit_stage(w.workshop, stage, "commitments.vote_closed", {"vote": vote.pk}, op_id)
    return vote


def add_dot(vote, *, participant, item, budget=Dot.Budget.FIRST, op_id=None):
    """A participant puts one dot on an item (its ref), from one of their budgets."""
    return _tap(vote, participant, item, budget, op_id, adding=True)


def remove_dot(vote, *, participant, item, budget=Dot.Budget.FIRST, op_id=None):
    """A participant takes one of their dots back from an item."""
    return _tap(vote, participant, item, budget, op_id, adding=False)


def _tap(vote, participant, item_ref, budget, op_id, *, adding):
    if participant is None:
        raise ActionError(_("Only participants vote."), status=403)
    with room_write(vote.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return Vote.objects.filter(pk=vote.pk).first()
        workshop = w.workshop
        vote = _vote(workshop, vote.pk)
        stage = w.load_stage(vote.stage_id, writing=True)
        if not vote.is_open:
            raise ActionError(_("This vote is closed."), status=409)
        if budget not in dict(vote.budgets()):
            raise ActionError(_("This vote has no such budget."))
        items = tally.vote_items(vote, stage)
        item = next((i for i in items if i.ref == item_ref), None)
        if item is None:
            raise ActionError(_("This item is no longer in the vote."), status=404)
        mine = Dot.objects.filter(vote=vote, participant=participant, budget=budget)
        if adding:
            if not vote.allow_own and item.author_id == participant.pk:
                raise ActionError(_("In this vote you cannot vote for your own items."), 403)
            if mine.count() >= vote.budget:
                raise ActionError(
                    _("You have no dots left (%(budget)d per person).") % {"budget": vote.budget},
                    status=409,
                )
            if mine.filter(item_ref=item.ref).count() >= vote.cap:
                raise ActionError(
                    _("At most %(cap)d dots on one item.") % {"cap": vote.cap}, status=409
                )
            Dot.objects.create(vote=vote, participant=participant, item_ref=item.ref, budget=budget)
            kind = "commitments.dot_added"
        else:
            dot = mine.filter(item_ref=item.ref).order_by("-pk").first()
            if dot is None:
                raise ActionError(_("You have no dot on this item to take back."), status=409)
            dot.delete()
            kind = "commitments.dot_removed"
        _emit_tally(workshop, stage, vote, items, kind, op_id, participant)
    return vote


def _vote(workshop, vote_pk):
    try:
        return Vote.objects.get(pk=vote_pk, workshop=workshop)
    except Vote.DoesNotExist:
        raise ActionError(_("This vote no longer exists."), status=404) from None


def _emit_tally(workshop, stage, vote, items, kind, op_id, participant):
    """The counts for the console and the projector; the voter's own ballot for them alone.

    While the results are hidden, no participant frame carries anything of the
    tally: the other phones learn nothing of who voted for what.
    """
    payload = {"vote": vote.pk, "stage": stage.pk}
    current = Workshop.objects.filter(pk=workshop.pk).values_list("current_stage", flat=True)[0]
    if current != stage.pk:
        emit(
            workshop,
            kind,
            payload,
            frames=dict.fromkeys(AUDIENCES, ""),
            op_id=op_id,
            participant=participant,
        )
        return
    frames = {}
    for audience in AUDIENCES:
        context = tally.vote_context(stage, audience, None, items=items, vote=vote)
        html = ""
        if audience != "participant":
            html += render_part(
                workshop, f"{TEMPLATE}#status_push", audience, stage=stage, **context
            )
        if vote.shows_results:
            html += render_part(
                workshop, f"{TEMPLATE}#results_push", audience, stage=stage, **context
            )
        frames[audience] = html
    context = tally.vote_context(stage, "participant", participant, items=items, vote=vote)
    author = frames["participant"] + render_part(
        workshop,
        f"{TEMPLATE}#ballot_push",
        "participant",
        stage=stage,
        participant=participant,
        **context,
    )
    emit(
        workshop,
        kind,
        payload,
        frames=frames,
        author_frame=author,
        op_id=op_id,
        participant=participant,
    )


def emit_stage(workshop, stage, type, payload, op_id, participant=None, owners=None):
    """Redraw the live region everywhere when `stage` is the current one (else nothing to draw)."""
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    if workshop.current_stage_id == stage.pk:
        stages = list(workshop.stages.all())
        frames = {
            audience: render_live(workshop, audience, oob=True, stages=stages)[0]
            for audience in AUDIENCES
        }
    else:
        frames = dict.fromkeys(AUDIENCES, "")
    return emit(
        workshop, type, payload, frames=frames, op_id=op_id, participant=participant, owners=owners
    )


wrong_kind = gettext_lazy("This stage has no vote.")
