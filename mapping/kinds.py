"""The three-circle map stage kind, registered with `workshops`.

A map is configured by data. Every label can come from `stage.config`, and
each one falls back to the method's wording:

    {"circles": {"suppliers": "...", "centre": "...", "clients": "..."},
     "questions": ["Qui dépend de nous ?", ...],
     "answers": {"they_expect": "...", "we_expect": "...", "mismatch": "..."}}
"""

from collections import OrderedDict

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.registry import Item, StageKind, promotion_menu, register
from workshops.text import clean_key, clean_text
from workshops.trace import document_refs, links_for, ref

from . import layout
from .models import KIND_ICONS, RATING_ICONS, Actor, Circle, Flow, FlowKind, Rating, Scope

TEMPLATE = "mapping/map.html"
CIRCLE_ORDER = [Circle.SUPPLIERS, Circle.CENTRE, Circle.CLIENTS]
CIRCLE_ICONS = {"suppliers": "◧", "centre": "◉", "clients": "◨"}
# (fill, border) of an actor's box; its circle also shows in where it sits and in the list.
ACTOR_COLOURS = {
    "suppliers": ("#ece4ff", "#6f43c9"),
    "centre": ("#fff3a8", "#8a7400"),
    "clients": ("#dde9ff", "#2f6fd6"),
}
SIDES = [Circle.SUPPLIERS, Circle.CLIENTS]


def default_labels():
    """The seed's wording (step 2 of the participatory diagnosis), in the active language."""
    return {
        "circles": {
            "suppliers": _("Its suppliers"),
            "centre": _("The observed service"),
            "clients": _("Its clients and users"),
        },
        "questions": [
            _("Who depends on us?"),
            _("Who do we depend on?"),
            _("What do they expect from us?"),
            _("What do we expect from them?"),
            _("What happens when there is a mismatch?"),
        ],
        "answers": {
            "they_expect": _("What do they expect from us?"),
            "we_expect": _("What do we expect from them?"),
            "mismatch": _("What happens when there is a mismatch?"),
        },
    }


def _text(value, fallback):
    return value.strip() if isinstance(value, str) and value.strip() else fallback


def labels_of(stage):
    """The stage's labels: its config where set, the defaults elsewhere."""
    config = stage.config or {}
    defaults = default_labels()
    circles = config.get("circles") if isinstance(config.get("circles"), dict) else {}
    answers = config.get("answers") if isinstance(config.get("answers"), dict) else {}
    questions = config.get("questions")
    if not isinstance(questions, list):
        questions = defaults["questions"]
    return {
        "circles": {k: _text(circles.get(k), v) for k, v in defaults["circles"].items()},
        "questions": [q for q in questions if isinstance(q, str) and q.strip()],
        "answers": {k: _text(answers.get(k), v) for k, v in defaults["answers"].items()},
    }


LABEL_MAX_LENGTH = 200
MAX_QUESTIONS = 12


def map_clean_config(config):
    """A map's labels as they may be stored: known keys, printable text of bounded length."""
    config = dict(config)

    def labels(name, keys):
        value = config.get(name)
        if value is None:
            return
        if not isinstance(value, dict) or not set(value) <= set(keys):
            raise ValidationError(_("The stage's settings are damaged."))
        config[name] = {
            k: clean_text(v, LABEL_MAX_LENGTH, required=False, multiline=False)
            for k, v in value.items()
        }

    labels("circles", ("suppliers", "centre", "clients"))
    labels("answers", ("they_expect", "we_expect", "mismatch"))
    questions = config.get("questions")
    if questions is not None:
        if not isinstance(questions, list) or len(questions) > MAX_QUESTIONS:
            raise ValidationError(_("The stage's settings are damaged."))
        config["questions"] = [
            clean_text(q, LABEL_MAX_LENGTH, required=False, multiline=False) for q in questions
        ]
    if "planned_kind" in config:
        config["planned_kind"] = clean_key(config["planned_kind"])
    return config


def map_config():
    # Empty on purpose: labels are read at render time, in the workshop's language.
    return {}


def centre_for(stage, actors):
    """The stage's centre actor; an unsaved stand-in until someone writes on the map."""
    centre = next((a for a in actors if a.is_centre), None)
    if centre is None:
        centre = Actor(workshop=stage.workshop, stage=stage, circle=Circle.CENTRE, slot=0)
    return centre


def build_map(stage):
    """Everything the board, the SVG and the report draw, read in three queries."""
    actors = list(
        Actor.objects.filter(stage=stage).select_related("workshop").order_by("circle", "slot")
    )
    flows = list(Flow.objects.filter(stage=stage).select_related("rated_by", "author"))
    centre = centre_for(stage, actors)
    others = [a for a in actors if not a.is_centre]
    everyone = [centre, *others]
    placements = {}
    for actor in everyone:
        placement = layout.place(actor)
        actor.placement = placement
        actor.lines, actor.name_size = layout.name_lines(actor.display_name, actor.is_centre)
        actor.box = {
            "x": -placement.width / 2,
            "y": -placement.height / 2,
            "width": placement.width,
            "height": placement.height,
        }
        actor.fill, actor.stroke = ACTOR_COLOURS[actor.circle]
        placements[actor.pk] = placement
    by_pk = {a.pk: a for a in everyone}
    shapes = layout.flow_shapes(flows, placements, centre_pk=centre.pk)
    for flow in flows:
        flow.source_actor = by_pk.get(flow.source_id)
        flow.target_actor = by_pk.get(flow.target_id)
        flow.shape = shapes.get(flow.pk)
        flow.style = layout.LINE_STYLES[flow.kind]
        flow.colour = layout.RATING_COLOURS.get(flow.rating, layout.RATING_COLOURS[""])
    labels = labels_of(stage)
    circles = OrderedDict()
    for circle in CIRCLE_ORDER:
        members = [centre] if circle == Circle.CENTRE else [a for a in others if a.circle == circle]
        circles[circle] = {
            "key": circle,
            "label": labels["circles"][circle],
            "icon": CIRCLE_ICONS[circle],
            "actors": sorted(members, key=lambda a: (a.created_at is None, a.created_at, a.pk)),
        }
    # A flow is listed once: under its end that is not the centre (its source when neither is).
    for actor in everyone:
        actor.listed_flows = []
    for flow in flows:
        source, target = flow.source_actor, flow.target_actor
        home = target if source is None or source.is_centre else source
        if home is not None:
            home.listed_flows.append(flow)
    supplier_left, supplier_right = layout.side_zone("suppliers")
    client_left, client_right = layout.side_zone("clients")
    bottom = layout.zones_bottom(everyone)
    centre_x, centre_y = layout.centre_point()
    return {
        "actors": everyone,
        "centre": centre,
        "flows": flows,
        "circles": list(circles.values()),
        "labels": labels,
        "svg": {
            "width": layout.WIDTH,
            "height": layout.height(everyone),
            "zones": [
                {
                    "key": "suppliers",
                    "x": supplier_left,
                    "width": supplier_right - supplier_left,
                    "title_x": (supplier_left + supplier_right) / 2,
                    "label": labels["circles"]["suppliers"],
                },
                {
                    "key": "clients",
                    "x": client_left,
                    "width": client_right - client_left,
                    "title_x": (client_left + client_right) / 2,
                    "label": labels["circles"]["clients"],
                },
            ],
            "zone_top": layout.MARGIN,
            "zone_height": bottom - 2 * layout.MARGIN,
            "centre_x": centre_x,
            "centre_y": centre_y,
            "centre_r": layout.CENTRE_RADIUS,
            "centre_label": labels["circles"]["centre"],
            "centre_title_y": centre_y - layout.CENTRE_RADIUS - 12,
            "title_y": layout.MARGIN + 30,
            "legend_y": bottom + 20,
            "zone_title_size": layout.ZONE_TITLE_SIZE,
            "centre_title_size": layout.CENTRE_TITLE_SIZE,
            "flow_label_size": layout.FLOW_LABEL_SIZE,
            "legend_size": layout.LEGEND_SIZE,
        },
        "legend": legend(),
        "rating_choices": rating_choices(),
        "flow_count": len(flows),
        # "Comes from… / Led to…" chips, and "→ Tension" on a flow in friction.
        "links": links_for(stage.workshop_id) if flows else None,
        "promote": promotion_menu(stage.workshop_id, "flow", sorted({f.rating for f in flows})),
    }


def legend():
    """The SVG's key: line style per flow kind, icon and colour per rating, border per scope."""
    step, first = 215, 165
    kinds = [
        {
            "key": kind,
            "label": FlowKind(kind).label,
            "icon": KIND_ICONS[kind],
            "x": first + index * step,
            **style,
        }
        for index, (kind, style) in enumerate(layout.LINE_STYLES.items())
    ]
    ratings = [
        {
            "key": rating or "none",
            "label": Rating(rating).label if rating else _("Not rated"),
            "icon": RATING_ICONS[rating],
            "colour": layout.RATING_COLOURS[rating],
            "x": first + index * step,
        }
        for index, rating in enumerate([*Rating.values, ""])
    ]
    scopes = [
        {"key": "internal", "label": Scope.INTERNAL.label, "dash": "", "x": first + 3 * step},
        {"key": "external", "label": Scope.EXTERNAL.label, "dash": "7 4", "x": first + 4 * step},
    ]
    return {"kinds": kinds, "ratings": ratings, "scopes": scopes}


def map_context(stage, audience, participant):
    return {"map": build_map(stage), "can_move": audience == "facilitator"}


def rating_choices():
    return [
        {"value": value, "label": label, "icon": RATING_ICONS[value]}
        for value, label in Rating.choices
    ]


def map_report_context(stage):
    return {"map": build_map(stage), "can_move": False, "in_report": True}


# Export, import and the CSV -------------------------------------------------------------


def map_export(stage, people):
    actors = list(Actor.objects.filter(stage=stage).order_by("pk"))
    refs = {actor.pk: index for index, actor in enumerate(actors, 1)}
    names = document_refs()
    return {
        "actors": [
            {
                "ref": refs[a.pk],
                "circle": a.circle,
                "name": a.name,
                "scope": a.scope,
                "description": a.description,
                "slot": a.slot,
                "x": a.x,
                "y": a.y,
                "author": people.get(a.author_id),
                "created_at": a.created_at.isoformat(),
                "trace_ref": names.name(a),
            }
            for a in actors
        ],
        "flows": [
            {
                "source": refs[f.source_id],
                "target": refs[f.target_id],
                "kind": f.kind,
                "label": f.label,
                "they_expect": f.they_expect,
                "we_expect": f.we_expect,
                "mismatch": f.mismatch,
                "rating": f.rating,
                "rated_by": people.get(f.rated_by_id),
                "author": people.get(f.author_id),
                "created_at": f.created_at.isoformat(),
                "trace_ref": names.name(f),
            }
            for f in Flow.objects.filter(stage=stage).order_by("pk")
        ],
    }


def map_import(stage, data, people):
    """Recreate a map from `map_export` data (a new workshop, nobody in its room yet)."""
    from workshops.exports.transfer import store, text_of

    data = data if isinstance(data, dict) else {}
    names = document_refs()
    actors = {}
    for item in data.get("actors") or []:
        circle = item.get("circle")
        if circle not in Circle.values:
            raise ValueError(f"unknown circle {circle!r}")
        x, y = item.get("x"), item.get("y")
        if x is None or y is None:
            x = y = None
        else:
            x, y = layout.clamp_position(x, y)
        actor = actors[item["ref"]] = store(
            Actor(
                workshop=stage.workshop,
                stage=stage,
                circle=circle,
                name=" ".join(text_of(item, "name", Actor).split()),
                scope=item.get("scope") if item.get("scope") in Scope.values else Scope.INTERNAL,
                description=text_of(item, "description", Actor),
                slot=int(item.get("slot") or 0),
                x=x,
                y=y,
                author=people.get(item.get("author")),
            )
        )
        names.bind(item.get("trace_ref"), actor)
    for item in data.get("flows") or []:
        if item.get("kind") not in FlowKind.values:
            raise ValueError(f"unknown flow kind {item.get('kind')!r}")
        flow = store(
            Flow(
                workshop=stage.workshop,
                stage=stage,
                source=actors[item["source"]],
                target=actors[item["target"]],
                kind=item["kind"],
                label=" ".join(text_of(item, "label", Flow, required=True).split()),
                they_expect=text_of(item, "they_expect", Flow),
                we_expect=text_of(item, "we_expect", Flow),
                mismatch=text_of(item, "mismatch", Flow),
                rating=item.get("rating") if item.get("rating") in Rating.values else "",
                rated_by=people.get(item.get("rated_by")),
                author=people.get(item.get("author")),
            )
        )
        names.bind(item.get("trace_ref"), flow)


def map_rows(stage):
    """One CSV row per flow (actors appear as its two ends)."""
    built = build_map(stage)
    return [
        {
            "type": _("flow"),
            "category": flow.get_kind_display(),
            "state": flow.rating_label(),
            "text": flow.label,
            "author": flow.author.display_name if flow.author_id and flow.author else "",
            "source": flow.source_actor.display_name if flow.source_actor else "",
            "target": flow.target_actor.display_name if flow.target_actor else "",
            "they_expect": flow.they_expect,
            "we_expect": flow.we_expect,
            "mismatch": flow.mismatch,
            "created_at": flow.created_at.isoformat(),
        }
        for flow in built["flows"]
    ]


def map_owners(stage):
    # The map is drawn together: nothing on it belongs to one person.
    return {}


def map_items(stage):
    """The map's flows, for votes and promotion (a flow in friction becomes a tension), and its
    actors (marked with their circle), for the tables that list the services in interaction."""
    items = [
        Item(ref(f), "flow", f.label, stage.pk, f.author_id, f, mark=f.rating)
        for f in Flow.objects.filter(stage=stage).select_related("source", "target")
    ]
    # The services around the centre (the centre is "us": the tree's SELF branch).
    items += [
        Item(ref(a), "actor", a.name, stage.pk, a.author_id, a, mark=a.circle)
        for a in Actor.objects.filter(stage=stage).order_by("slot", "pk")
        if a.circle != "centre" and a.name
    ]
    return items


def register_all():
    register(
        StageKind(
            key="map",
            label=gettext_lazy("Three-circle map"),
            template=TEMPLATE,
            context=map_context,
            report_template=TEMPLATE,
            report_context=map_report_context,
            report_css="mapping/report.css",
            default_config=map_config,
            writable=True,
            export=map_export,
            import_=map_import,
            rows=map_rows,
            owners=map_owners,
            clean_config=map_clean_config,
            items=map_items,
        )
    )
