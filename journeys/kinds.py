"""The post-it wall stage kinds, registered with `workshops`.

A wall is configured by data: `stage.config["columns"]` is a list of
{"key", "label", "colour"}; `stage.config["colours"]`, when present, lets the
author pick the colour of each post-it (the journey's green/orange/red).
"""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops import trace
from workshops.registry import Item, StageKind, promotion_menu, register
from workshops.text import clean_key, clean_text
from workshops.trace import document_refs, links_for, ref

from .forms import WallConfigForm
from .models import (
    COLOUR_ICONS,
    COLOUR_MEANINGS,
    COLUMN_KEY_MAX_LENGTH,
    COLUMN_LABEL_MAX_LENGTH,
    Cluster,
    Colour,
    PostIt,
)

MAX_COLUMNS = 8


def columns_of(stage):
    columns = []
    for column in stage.config.get("columns") or []:
        colour = column.get("colour") if column.get("colour") in Colour.values else "yellow"
        columns.append(
            {
                "key": column["key"],
                "label": column.get("label") or column["key"],
                "colour": colour,
                "icon": COLOUR_ICONS[colour],
            }
        )
    return columns or [default_column()]


def default_column():
    return {
        "key": "ideas",
        "label": _("Post-its"),
        "colour": "yellow",
        "icon": COLOUR_ICONS["yellow"],
    }


def colour_choices(stage):
    """The colours an author may pick on this stage, with icon and meaning."""
    choices = []
    for colour in stage.config.get("colours") or []:
        if colour in Colour.values:
            meaning = COLOUR_MEANINGS.get(colour) or Colour(colour).label
            choices.append({"value": colour, "icon": COLOUR_ICONS[colour], "label": meaning})
    return choices


def postit_context(stage, **extra):
    """What any drawing of a post-it on `stage` needs to know of the stage: the one
    place for it, used by the board, the pushes (actions), the replies (views) and the
    report. `show_author` is the rule: on an anonymous stage, no name anywhere."""
    return {
        "stage": stage,
        "hidden": stage.is_hidden,
        "column_labels": {c["key"]: c["label"] for c in columns_of(stage)},
        "show_colour_label": bool(stage.config.get("colours")),
        "show_author": not stage.anonymous,
        **extra,
    }


def postit_trace(stage, postit, *, links=True):
    """One post-it's "Comes from… / Led to…" chips and its "→ Tension" (a query each),
    as the board draws them; none on a hidden stage."""
    if stage.is_hidden:
        return {}
    bits = {"promote_targets": promotion_menu(stage.workshop_id, "postit", [postit.colour])}
    if links and postit.pk:
        bits["links"] = trace.links_about(postit)
    return bits


def postits_trace(stage, postits):
    """The same for several post-its at once (a move between themes): two queries."""
    if stage.is_hidden:
        return {}
    return {
        "links": links_for(stage.workshop_id),
        "promote_targets": promotion_menu(
            stage.workshop_id, "postit", sorted({p.colour for p in postits})
        ),
    }


def byline(postit, stage):
    """Who wrote a post-it, as plain text ("" on an anonymous stage): the PDF and the CSV."""
    if stage.anonymous:
        return ""
    if postit.author is None:
        return _("Facilitator")
    if postit.author.added_by_facilitator:
        return _("%(name)s (entered by the facilitator)") % {"name": postit.author.display_name}
    return postit.author.display_name


def wall_context(stage, audience, participant):
    columns = columns_of(stage)
    postits = list(
        PostIt.objects.filter(stage=stage).select_related("author").order_by("created_at", "pk")
    )
    clusters = list(stage.clusters.all())
    own_ids = [p.pk for p in postits if participant and p.author_id == participant.pk]
    hidden = stage.is_hidden
    mine = []
    if hidden:
        mine = [p for p in postits if participant and p.author_id == participant.pk]
        visible = []
    else:
        visible = postits
    by_column = defaultdict(list)
    by_cluster = defaultdict(list)
    for postit in visible:
        if postit.cluster_id:
            by_cluster[postit.cluster_id].append(postit)
        else:
            by_column[postit.column].append(postit)
    for column in columns:
        column["postits"] = by_column.pop(column["key"], [])
    # A post-it whose column was removed is shown in the first column, never lost.
    for orphans in by_column.values():
        columns[0]["postits"].extend(orphans)
    for cluster in clusters:
        cluster.items = by_cluster.get(cluster.pk, [])
    colours = {p.colour for p in visible}
    return postit_context(
        stage,
        # "Comes from… / Led to…" chips, and "→ Tension" on the post-its a stage takes.
        links=links_for(stage.workshop_id) if visible else None,
        promote_targets=promotion_menu(stage.workshop_id, "postit", sorted(colours)),
        columns=columns,
        clusters=clusters,
        colour_choices=colour_choices(stage),
        hidden_count=len(postits) if hidden else 0,
        mine=mine,
        own_ids=own_ids,
    )


def wall_owners(stage):
    owners = defaultdict(list)
    # (Someone added from the console has no phone to mark their post-its on.)
    authored = PostIt.objects.filter(
        stage=stage, author__isnull=False, author__added_by_facilitator=False
    )
    for pk, author_id in authored.values_list("pk", "author_id"):
        owners[author_id].append(pk)
    return dict(owners)


def wall_report_context(stage):
    """The wall for the PDF: by column and theme; nothing private, no names if anonymous."""
    context = wall_context(stage, "report", None)
    for postit in [p for c in context["columns"] for p in c["postits"]] + [
        p for cluster in context["clusters"] for p in cluster.items
    ]:
        postit.byline = byline(postit, stage)
    return context


def wall_export(stage, people):
    """Themes and post-its; authors as the document's participant refs (none if anonymous)."""
    clusters = list(stage.clusters.all())
    themes = {cluster.pk: index for index, cluster in enumerate(clusters, 1)}
    names = document_refs()
    return {
        "clusters": [{"ref": themes[c.pk], "name": c.name} for c in clusters],
        "postits": [
            {
                "column": p.column,
                "colour": p.colour,
                "text": p.text,
                "author": None if stage.anonymous else people.get(p.author_id),
                "cluster": themes.get(p.cluster_id),
                "created_at": p.created_at.isoformat(),
                "trace_ref": names.name(p),
                **({"verbatim": True} if p.verbatim else {}),
            }
            for p in PostIt.objects.filter(stage=stage).order_by("created_at", "pk")
        ],
    }


def wall_import(stage, data, people):
    """Recreate a wall from `wall_export` data (a new workshop, nobody in its room yet)."""
    from workshops.exports.transfer import store, text_of

    data = data if isinstance(data, dict) else {}
    names = document_refs()
    themes = {}
    for position, item in enumerate(data.get("clusters") or [], 1):
        themes[item["ref"]] = store(
            Cluster(
                stage=stage, name=text_of(item, "name", Cluster, required=True), position=position
            )
        )
    for item in data.get("postits") or []:
        colour = item.get("colour") if item.get("colour") in Colour.values else Colour.YELLOW
        postit = store(
            PostIt(
                workshop=stage.workshop,
                stage=stage,
                column=item.get("column"),
                colour=colour,
                text=text_of(item, "text", PostIt, required=True),
                author=people.get(item.get("author")),
                cluster=themes.get(item.get("cluster")),
                verbatim=item.get("verbatim") is True,
            )
        )
        names.bind(item.get("trace_ref"), postit)


def wall_rows(stage):
    """One CSV row per post-it; a private, unrevealed one without its text."""
    labels = {c["key"]: c["label"] for c in columns_of(stage)}
    rows = []
    postits = PostIt.objects.filter(stage=stage).select_related("author", "cluster")
    for postit in postits.order_by("created_at", "pk"):
        rows.append(
            {
                "type": _("post-it"),
                "category": labels.get(postit.column, postit.column),
                "state": postit.get_colour_meaning()
                + (f" · {_('Verbatim')}" if postit.verbatim else ""),
                "text": _("(private, not revealed)") if stage.is_hidden else postit.text,
                "author": byline(postit, stage),
                "theme": postit.cluster.name if postit.cluster else "",
                "created_at": postit.created_at.isoformat(),
            }
        )
    return rows


def wall_clean_config(config):
    """A wall's config as it may be stored: slug keys, known colours, labels as text.

    Called by Stage.clean(), so by the stage editor and the import alike; a
    key holding markup or an unknown colour is refused, not rewritten.
    """
    config = dict(config)
    columns = config.get("columns") or []
    if not isinstance(columns, list) or len(columns) > MAX_COLUMNS:
        raise ValidationError(_("Eight columns at most."))
    cleaned, keys = [], set()
    for column in columns:
        if not isinstance(column, dict):
            raise ValidationError(_("The stage's settings are damaged."))
        key = clean_key(column.get("key"), COLUMN_KEY_MAX_LENGTH)
        if key in keys:
            raise ValidationError(_("Two columns have the key %(key)s.") % {"key": key})
        keys.add(key)
        if "colour" in column and column["colour"] not in Colour.values:
            raise ValidationError(
                _("Unknown colour: %(colour)s.") % {"colour": str(column["colour"])[:20]}
            )
        column = {k: v for k, v in column.items() if k in ("key", "label", "colour")}
        if "label" in column:
            column["label"] = clean_text(
                column["label"], COLUMN_LABEL_MAX_LENGTH, required=False, multiline=False
            )
        cleaned.append(column)
    if "columns" in config:
        config["columns"] = cleaned
    colours = config.get("colours")
    if colours is not None and (
        not isinstance(colours, list) or any(c not in Colour.values for c in colours)
    ):
        raise ValidationError(_("Unknown colour: %(colour)s.") % {"colour": str(colours)[:20]})
    if "planned_kind" in config:
        config["planned_kind"] = clean_key(config["planned_kind"])
    return config


def framing_config():
    return {
        "columns": [
            {
                "key": "expectations",
                "label": _("My expectations for this workshop"),
                "colour": "yellow",
            }
        ]
    }


def framing_blank_stage():
    """A blank workshop opens on framing (in the active language)."""
    return {
        "title": _("Framing and intention"),
        "instructions": _(
            "Think of the service through its interactions, not its functions: "
            "every service is a client of some and a supplier to others. "
            "Post what you expect from this workshop."
        ),
        "duration_minutes": 20,
        "config": framing_config(),
    }


def wall_config():
    return {"columns": [{"key": "ideas", "label": _("Post-its"), "colour": "yellow"}]}


def wall_items(stage):
    """The wall's post-its, for votes and promotion (hidden ones are not offered)."""
    if stage.is_hidden:
        return []
    return [
        Item(ref(p), "postit", p.text, stage.pk, p.author_id, p, mark=p.colour)
        for p in PostIt.objects.filter(stage=stage).select_related("stage")
    ]


def register_all():
    from .journey.kind import register as register_journey

    register_journey()
    register(
        StageKind(
            key="framing",
            label=gettext_lazy("Framing and intention"),
            template="journeys/wall.html",
            context=wall_context,
            default_config=framing_config,
            blank_stage=framing_blank_stage,
            owners=wall_owners,
            report_template="journeys/wall.html",
            report_context=wall_report_context,
            report_css="journeys/report.css",
            export=wall_export,
            import_=wall_import,
            rows=wall_rows,
            clean_config=wall_clean_config,
            config_form=WallConfigForm,
            items=wall_items,
        )
    )
    register(
        StageKind(
            key="wall",
            label=gettext_lazy("Post-it wall"),
            template="journeys/wall.html",
            context=wall_context,
            default_config=wall_config,
            owners=wall_owners,
            report_template="journeys/wall.html",
            report_context=wall_report_context,
            report_css="journeys/report.css",
            export=wall_export,
            import_=wall_import,
            rows=wall_rows,
            clean_config=wall_clean_config,
            config_form=WallConfigForm,
            items=wall_items,
        )
    )
