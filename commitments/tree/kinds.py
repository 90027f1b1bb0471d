"""The `tree` stage kind: seed 000's closing, « Notre service relationnel ».

Each person completes « Je m'engage à… » (a leaf on the "myself" branch) or
« Je vais améliorer ma relation avec… » someone: a map actor (read through
`registry.workshop_items(workshop, "actor")`, never by importing the map), another
service, or free text. The projector draws the tree (layout.py) and the alliance
map (who, by profile or organisation, commits towards whom); the report draws
the same SVG.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.models import Profile
from workshops.registry import Item, StageKind, register, workshop_items
from workshops.text import clean_key
from workshops.trace import document_refs, ref

from . import layout
from .models import Commitment

TEMPLATE = "commitments/tree/tree.html"
SELF = "self"
OTHER = "other"
PER_PERSON_MAX = 10
VIEWS = ("tree", "alliances")


def per_person(stage):
    value = (stage.config or {}).get("per_person", 1)
    return value if isinstance(value, int) and 1 <= value <= PER_PERSON_MAX else 1


def actor_items(stage):
    """The map actors of the stage's workshop, by ref."""
    return {i.ref: i for i in workshop_items(stage.workshop, "actor")}


def branch_key(commitment):
    if commitment.sentence == Commitment.Sentence.COMMIT:
        return SELF
    if commitment.target_ref:
        return commitment.target_ref
    return "name:" + " ".join(commitment.target_name.split()).casefold()


def _author_group(participant):
    """Where a commitment comes from on the alliance map: the organisation, else the profile."""
    if participant is None:
        return _("Facilitator")
    if participant.organisation:
        return participant.organisation
    return str(Profile(participant.profile).label) if participant.profile in Profile.values else ""


def build_tree(stage, audience="report", participant=None):
    commitments = list(
        Commitment.objects.filter(stage=stage).select_related("author").order_by("created_at", "pk")
    )
    actors = actor_items(stage)
    trunk = stage.workshop.observed_service or _("The observed service")
    names = {SELF: _("myself")}
    for c in commitments:
        key = branch_key(c)
        if key not in names:
            actor = actors.get(c.target_ref) if c.target_ref else None
            names[key] = (actor.text if actor is not None and actor.text else "") or (c.target_name)
        c.branch = key
        c.branch_name = names[key]
        c.deleted_actor = bool(c.target_ref) and c.target_ref not in actors
    drawn = layout.layout([(c.pk, c.branch) for c in commitments])
    by_pk = {c.pk: c for c in commitments}
    branch_boxes = dict(drawn.branches)
    leaves = []
    for pk, key, box in drawn.leaves:
        c = by_pk[pk]
        author = "" if stage.anonymous or c.author is None else c.author.display_name
        leaves.append(
            {
                "commitment": c,
                "box": box,
                "branch": branch_boxes[key],
                "lines": [
                    (line, box.y + 21 + 17 * i) for i, line in enumerate(layout.wrap(c.text))
                ],
                "author_y": box.y + box.h - 9,
                "author": layout.short(author) if author else "",
                "full_author": author,
                "sentence": c.get_sentence_display(),
            }
        )
    branches = [
        {
            "key": key,
            "box": box,
            "name": names[key],
            "short": layout.short(names[key]),
            "is_self": key == SELF,
            "count": sum(1 for c in commitments if c.branch == key),
        }
        for key, box in drawn.branches
    ]
    mine = [c for c in commitments if participant is not None and c.author_id == participant.pk]
    context = {
        "commitments": commitments,
        "tree": drawn,
        "trunk_name": trunk,
        "trunk_short": layout.short(trunk, 30),
        "branches": branches,
        "leaves": leaves,
        "alliances": alliances(stage, commitments),
        "actor_choices": [(r, i.text) for r, i in actors.items() if i.text],
        "per_person": per_person(stage),
        "mine": mine,
        "can_add": participant is None or len(mine) < per_person(stage),
        "tree_view": (stage.config or {}).get("view", "tree"),
    }
    return context


def alliances(stage, commitments):
    """The alliance map: sources (organisations or profiles) on the left, targets on the right."""
    sources, targets, edges = [], [], {}
    for c in commitments:
        if c.sentence != Commitment.Sentence.RELATION:
            continue
        source = _author_group(c.author) or _("Unknown")
        if source not in sources:
            sources.append(source)
        if c.branch_name not in targets:
            targets.append(c.branch_name)
        edge = (sources.index(source), targets.index(c.branch_name))
        edges[edge] = edges.get(edge, 0) + 1
    row, top = 40, 30
    height = top * 2 + row * max(len(sources), len(targets), 1)
    left = [
        {"name": s, "short": layout.short(s, 30), "y": top + row * i + row // 2}
        for i, s in enumerate(sources)
    ]
    right = [
        {"name": t, "short": layout.short(t, 30), "y": top + row * i + row // 2}
        for i, t in enumerate(targets)
    ]
    drawn, placed = [], []
    for (s, t), count in sorted(edges.items()):
        # The count sits on its edge, at the first spot along it clear of the others'.
        y1, y2 = left[s]["y"], right[t]["y"]
        spots = [
            0.5 + step * sign for step in (0, 0.06, 0.12, 0.18, 0.24, 0.3, 0.36) for sign in (1, -1)
        ]
        lx, ly = _bezier(0.5, y1, y2)
        for u in spots:
            x, y = _bezier(u, y1, y2)
            if all((x - px) ** 2 + (y - py) ** 2 >= 28**2 for px, py in placed):
                lx, ly = x, y
                break
        placed.append((lx, ly))
        drawn.append(
            {
                "source": left[s],
                "target": right[t],
                "count": count,
                "width": 1 + 2 * min(count, 6),
                "lx": round(lx),
                "ly": round(ly),
            }
        )
    return {"sources": left, "targets": right, "edges": drawn, "height": height, "width": 1280}


def _bezier(u, y1, y2, x1=380, x2=900):
    """The point at `u` on the edge drawn from (x1, y1) to (x2, y2) (alliance_svg)."""
    mid = (x1 + x2) / 2
    a, b, c, d = (1 - u) ** 3, 3 * (1 - u) ** 2 * u, 3 * (1 - u) * u**2, u**3
    return a * x1 + (b + c) * mid + d * x2, (a + b) * y1 + (c + d) * y2


def tree_context(stage, audience, participant):
    return build_tree(stage, audience, participant)


def tree_report_context(stage):
    return build_tree(stage, "report")


def tree_config():
    return {"per_person": 1}


def tree_clean_config(config):
    from django.core.exceptions import ValidationError

    config = dict(config)
    if "planned_kind" in config:
        config["planned_kind"] = clean_key(config["planned_kind"])
    if "per_person" in config:
        value = config["per_person"]
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not 1 <= value <= PER_PERSON_MAX
        ):
            raise ValidationError(
                {
                    "config": _("Allow between 1 and %(max)d commitments per person.")
                    % {"max": PER_PERSON_MAX}
                }
            )
    if config.get("view", "tree") not in VIEWS:
        raise ValidationError({"config": _("Show the tree or the alliance map.")})
    return config


def tree_owners(stage):
    owners = {}
    for pk, author in Commitment.objects.filter(stage=stage, author__isnull=False).values_list(
        "pk", "author_id"
    ):
        owners.setdefault(author, []).append(pk)
    return owners


def tree_items(stage):
    return [
        Item(ref(c), "commitment", c.text, stage.pk, c.author_id, c, mark=c.sentence)
        for c in Commitment.objects.filter(stage=stage)
    ]


# Export, import and the CSV -------------------------------------------------------------


def tree_export(stage, people):
    names = document_refs()
    actors = actor_items(stage)

    def actor(value):
        item = actors.get(value) if value else None
        return names.name(item.obj) if item is not None and item.obj is not None else ""

    return {
        "commitments": [
            {
                "sentence": c.sentence,
                "text": c.text,
                "target_actor": actor(c.target_ref),
                "target_name": c.target_name,
                "author": people.get(c.author_id),
                "created_at": c.created_at.isoformat(),
                "trace_ref": names.name(c),
            }
            for c in Commitment.objects.filter(stage=stage).order_by("pk")
        ]
    }


def tree_import(stage, data, people):
    from workshops.exports.transfer import store, text_of

    data = data if isinstance(data, dict) else {}
    names = document_refs()
    for item in data.get("commitments") or []:
        sentence = item.get("sentence")
        if sentence not in Commitment.Sentence.values:
            raise ValueError("unknown sentence")
        bound = names.bound.get(item.get("target_actor")) if item.get("target_actor") else None
        commitment = store(
            Commitment(
                workshop=stage.workshop,
                stage=stage,
                sentence=sentence,
                text=text_of(item, "text", Commitment, required=True),
                target_ref=ref(bound) if bound is not None else "",
                target_name=text_of(item, "target_name", Commitment),
                author=people.get(item.get("author")),
            )
        )
        names.bind(item.get("trace_ref"), commitment)


def tree_rows(stage):
    built = build_tree(stage, "report")
    return [
        {
            "type": _("commitment"),
            "category": c.get_sentence_display(),
            "target": c.branch_name,
            "text": c.text,
            "author": "" if stage.anonymous or c.author is None else c.author.display_name,
            "created_at": c.created_at.isoformat(),
        }
        for c in built["commitments"]
    ]


def register_all():
    register(
        StageKind(
            key="tree",
            label=gettext_lazy("Commitment tree"),
            template=TEMPLATE,
            context=tree_context,
            report_template=TEMPLATE,
            report_context=tree_report_context,
            report_css="commitments/tree/report.css",
            default_config=tree_config,
            writable=True,
            export=tree_export,
            import_=tree_import,
            rows=tree_rows,
            owners=tree_owners,
            clean_config=tree_clean_config,
            items=tree_items,
        )
    )
