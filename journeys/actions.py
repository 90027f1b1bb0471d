"""Writes on post-it walls. Each is one transaction, one event, one push."""

import re

from django.conf import settings
from django.db.models import Max
from django.utils.translation import gettext as _

from workshops import trace
from workshops.live.regions import render_part
from workshops.live.write import AUDIENCES, ActionError, clean_text, emit, room_write

from .kinds import colour_choices, columns_of, postit_context, postit_trace, postits_trace
from .models import CLUSTER_NAME_MAX_LENGTH, Cluster, PostIt

TEMPLATE = "journeys/wall.html"


def add_postit(stage, *, participant, text, column=None, colour=None, verbatim=False, op_id=None):
    """A participant (or the facilitator, participant=None) posts on a wall."""
    with room_write(
        stage.workshop_id, op_id=op_id, participant=participant, stage_id=stage.pk, writing=True
    ) as w:
        if prior := w.prior:
            return _as_of(PostIt.objects.filter(pk=prior.payload.get("postit")).first(), prior)
        workshop, stage = w.workshop, w.stage
        text = clean_text(text, settings.RECIPROQUE["POSTIT_MAX_LENGTH"])
        columns = {c["key"]: c for c in columns_of(stage)}
        if column is None and len(columns) == 1:
            column = next(iter(columns))
        if column not in columns:
            raise ActionError(_("Choose a column."))
        allowed = [c["value"] for c in colour_choices(stage)]
        if allowed:
            if colour not in allowed:
                raise ActionError(_("Choose a colour."))
        else:
            colour = columns[column]["colour"]
        postit = PostIt.objects.create(
            workshop=workshop,
            stage=stage,
            column=column,
            colour=colour,
            text=text,
            author=participant,
            op_id=op_id or "",
            # A quote, where the stage takes them (the empathy map).
            verbatim=bool(verbatim and stage.config.get("verbatim")),
        )
        event = _emit_postit(workshop, stage, postit, "journeys.postit_added", op_id, participant)
    postit.event_frames = event.frames
    return _as_of(postit, event)


def edit_postit(postit, *, participant, text, colour=None, verbatim=None, op_id=None):
    """Authors edit their own post-its; the facilitator (participant=None) any."""
    with room_write(postit.workshop_id, op_id=op_id, participant=participant) as w:
        if prior := w.prior:
            return _as_of(PostIt.objects.filter(pk=postit.pk).first(), prior)
        workshop = w.workshop
        postit = _postit(workshop, postit.pk)
        _check_author(postit, participant)
        w.check_writing(postit.stage)
        postit.text = clean_text(text, settings.RECIPROQUE["POSTIT_MAX_LENGTH"])
        allowed = [c["value"] for c in colour_choices(postit.stage)]
        if colour and colour in allowed:
            postit.colour = colour
        if verbatim is not None and postit.stage.config.get("verbatim"):
            postit.verbatim = bool(verbatim)
        postit.save()
        trace.relabel(postit)  # what it led to says its new words
        event = _emit_postit(
            workshop, postit.stage, postit, "journeys.postit_edited", op_id, participant
        )
    return _as_of(postit, event)


def delete_postit(postit, *, participant, op_id=None):
    with room_write(postit.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return
        workshop = w.workshop
        postit = _postit(workshop, postit.pk)
        _check_author(postit, participant)
        # Taking a post-it back is writing too: the same locks as editing it.
        w.check_writing(postit.stage)
        stage = postit.stage
        postit_pk = postit.pk
        postit.delete()
        hidden_count = PostIt.objects.filter(stage=stage).count() if stage.is_hidden else 0
        frames = _frames(
            workshop, "postit_deleted", stage=stage, postit_pk=postit_pk, hidden_count=hidden_count
        )
        emit(
            workshop,
            "journeys.postit_deleted",
            {"postit": postit_pk, "stage": stage.pk},
            frames=frames,
            op_id=op_id,
            participant=participant,
        )


# Themes (clustering by tapping, no drag) -------------------------------------------


def add_cluster(stage, *, name, op_id=None):
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk) as w:
        if w.prior:
            return Cluster.objects.filter(pk=w.prior.payload.get("cluster")).first()
        workshop, stage = w.workshop, w.stage
        name = clean_text(name, CLUSTER_NAME_MAX_LENGTH, multiline=False)
        position = (stage.clusters.aggregate(m=Max("position"))["m"] or 0) + 1
        cluster = Cluster.objects.create(stage=stage, name=name, position=position)
        _emit_board(workshop, stage, "journeys.cluster_added", {"cluster": cluster.pk}, op_id)
    return cluster


def rename_cluster(cluster, *, name, op_id=None):
    with room_write(cluster.stage.workshop_id, op_id=op_id) as w:
        if w.prior:
            return cluster
        workshop = w.workshop
        cluster = _cluster(workshop, cluster.pk)
        cluster.name = clean_text(name, CLUSTER_NAME_MAX_LENGTH, multiline=False)
        cluster.save(update_fields=["name"])
        _emit_board(
            workshop, cluster.stage, "journeys.cluster_renamed", {"cluster": cluster.pk}, op_id
        )
    return cluster


def delete_cluster(cluster, *, op_id=None):
    """The theme goes; its post-its go back to their columns."""
    with room_write(cluster.stage.workshop_id, op_id=op_id) as w:
        if w.prior:
            return
        workshop = w.workshop
        cluster = _cluster(workshop, cluster.pk)
        stage, cluster_pk = cluster.stage, cluster.pk
        cluster.delete()
        _emit_board(workshop, stage, "journeys.cluster_deleted", {"cluster": cluster_pk}, op_id)


def assign_cluster(stage, postit_ids, cluster, *, op_id=None):
    """Put the chosen post-its into a theme (cluster=None: back to their columns)."""
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk) as w:
        if w.prior:
            return
        workshop, stage = w.workshop, w.stage
        if cluster is not None:
            cluster = _cluster(workshop, cluster.pk)
            if cluster.stage_id != stage.pk:
                raise ActionError(_("This theme belongs to another stage."), status=404)
        postits = list(PostIt.objects.filter(stage=stage, pk__in=postit_ids))
        if not postits:
            raise ActionError(_("Tap the post-its to move first."))
        PostIt.objects.filter(pk__in=[p.pk for p in postits]).update(cluster=cluster)
        for postit in postits:
            postit.cluster = cluster
        # Before the reveal, only its author may read a private post-it.
        if stage.is_hidden:
            frames = dict.fromkeys(AUDIENCES, "")
        else:
            frames = _frames(workshop, "postits_moved", stage=stage, postits=postits)
        emit(
            workshop,
            "journeys.postits_clustered",
            {"postits": [p.pk for p in postits], "cluster": cluster.pk if cluster else None},
            frames=frames,
            op_id=op_id,
        )


# Helpers ---------------------------------------------------------------------------


def _postit(workshop, postit_pk):
    try:
        return PostIt.objects.select_related("stage", "author").get(pk=postit_pk, workshop=workshop)
    except PostIt.DoesNotExist:
        raise ActionError(_("This post-it no longer exists."), status=404) from None


def _cluster(workshop, cluster_pk):
    try:
        return Cluster.objects.select_related("stage").get(pk=cluster_pk, stage__workshop=workshop)
    except Cluster.DoesNotExist:
        raise ActionError(_("This theme no longer exists."), status=404) from None


def _check_author(postit, participant):
    if participant is not None and postit.author_id != participant.pk:
        raise ActionError(_("You can only change your own post-its."), status=403)


# Whitespace-only text between two tags: the template's indentation. A browser
# collapses any run of it to one space, so one newline draws the same.
_INDENT_RE = re.compile(r">\s{2,}<")


def _compact(html):
    """A pushed fragment without the template's indentation (a fifth of a post-it's
    frame, sent to every page and kept in the log); it draws the same."""
    return _INDENT_RE.sub(">\n<", html).strip()


def _frames(workshop, partial, *, stage, edited=False, **context):
    """A post-it's fragments are the same for every audience: rendered once. A new
    post-it has no links yet; an edited one may (its chips are drawn again)."""
    postit = context.get("postit")
    if postit is not None:
        bits = postit_trace(stage, postit, links=edited)
    elif context.get("postits"):  # moved: drawn again with their chips and "→ …"
        bits = postits_trace(stage, context["postits"])
    else:
        bits = {}
    html = _compact(
        render_part(
            workshop, f"{TEMPLATE}#{partial}", None, **postit_context(stage, **bits, **context)
        )
    )
    return dict.fromkeys(AUDIENCES, html)


def _emit_postit(workshop, stage, postit, type, op_id, participant):
    hidden = stage.is_hidden
    hidden_count = PostIt.objects.filter(stage=stage).count() if hidden else 0
    partial = "postit_added" if type.endswith("added") else "postit_changed"
    frames = _frames(
        workshop,
        partial,
        stage=stage,
        postit=postit,
        hidden_count=hidden_count,
        edited=partial == "postit_changed",
    )
    author_frame = None
    # Someone added from the console has no phone: no frame or ownership of their own.
    by_phone = participant is not None and not participant.added_by_facilitator
    if hidden and by_phone:
        # Only the author sees a private post-it's text before the reveal.
        author_frame = _compact(
            render_part(
                workshop,
                f"{TEMPLATE}#{partial}",
                "participant",
                **postit_context(stage, postit=postit, hidden_count=hidden_count),
                author_view=True,
            )
        )
    owners = {participant.pk: [postit.pk]} if by_phone else {}
    payload = {
        "postit": postit.pk,
        "stage": stage.pk,
        "column": postit.column,
        "colour": postit.colour,
        "text": postit.text,
        "author": participant.pk if participant else None,
    }
    return emit(
        workshop,
        type,
        payload,
        frames=frames,
        author_frame=author_frame,
        owners=owners,
        op_id=op_id,
        participant=participant,
    )


def _as_of(postit, event):
    """Tag what the writer is shown with the event it reflects (the reply's X-Seq).

    The reply can reach the page after that event's push and later ones (a
    slow upload, a retry): live.js then leaves it out rather than put an older
    state back. A retried write is tagged with its first event; what it shows
    is at least that recent.
    """
    if postit is not None:
        postit.event_seq = event.seq
    return postit


def _emit_board(workshop, stage, type, payload, op_id):
    """Redraw a whole wall (theme changes are rare and move many post-its)."""
    from workshops.live.regions import render_live
    from workshops.models import Workshop

    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    if workshop.current_stage_id == stage.pk:
        frames = {a: render_live(workshop, a, oob=True)[0] for a in AUDIENCES}
        from .kinds import wall_owners

        owners = wall_owners(stage)
    else:
        frames, owners = dict.fromkeys(AUDIENCES, ""), {}
    emit(workshop, type, payload, frames=frames, owners=owners, op_id=op_id)
