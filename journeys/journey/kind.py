"""The `journey` stage kind, registered with `workshops` (journeys/kinds.py calls register())."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.registry import Item, StageKind, promotion_menu
from workshops.registry import register as register_kind
from workshops.text import clean_key, clean_text
from workshops.trace import document_refs, links_for, ref

from . import grid
from .forms import JourneyConfigForm
from .models import PERSPECTIVE_KEY_MAX_LENGTH, Emotion, JourneyPostIt, Mark, Phase, Situation, Step

TEMPLATE = "journeys/journey/journey.html"
MAX_PERSPECTIVES = 4
LABEL_MAX_LENGTH = 60
CONFIG_KEYS = {
    "key",
    "mirror",
    "perspectives",
    "rupture_threshold",
    "view",
    "situation",
    "planned_kind",
}


def board_context(stage, audience, participant):
    config = stage.config or {}
    hidden = stage.is_hidden
    built = grid.build(stage, hidden=hidden, situation_id=config.get("situation"))
    view = config.get("view") if config.get("view") in ("grid", "heatmap", "compare") else "grid"
    if view == "compare" and not built["is_mirror"]:
        view = "grid"
    context = {
        "journey": built,
        "view": view,
        "hidden": hidden,
        "hidden_count": JourneyPostIt.objects.filter(stage=stage).count() if hidden else 0,
        "marks": grid.marks(),
        "phases": [c for c in Phase.choices if c[0]],
        "links": links_for(stage.workshop_id) if not hidden else {},
        # "→ Tension" (orange and red) and "→ Idea" on the cards, for the console.
        "promote_targets": (
            promotion_menu(stage.workshop_id, "postit", [m.value for m in Mark])
            if not hidden and audience == "facilitator"
            else {}
        ),
    }
    if view == "compare" and audience != "participant":
        context["comparison"] = grid.compare(stage, built)
    return context


def report_context(stage):
    context = board_context(stage, "report", None)
    context["comparison"] = grid.compare(stage, context["journey"])
    return context


def owners(stage):
    found = {}
    authored = JourneyPostIt.objects.filter(
        stage=stage, author__isnull=False, author__added_by_facilitator=False
    )
    for pk, author_id in authored.values_list("pk", "author_id"):
        found.setdefault(author_id, []).append(pk)
    return found


def default_config():
    return {"perspectives": grid.default_perspectives(), "rupture_threshold": 0.6}


def clean_config(config):
    """A journey's settings as stored: slug keys, two to four perspectives, a sane threshold."""
    config = {k: v for k, v in dict(config).items() if k in CONFIG_KEYS}
    for name in ("key", "mirror", "planned_kind"):
        if config.get(name):
            config[name] = clean_key(config[name])
        else:
            config.pop(name, None)
    perspectives = config.get("perspectives")
    if perspectives is not None:
        if not isinstance(perspectives, list) or not 1 <= len(perspectives) <= MAX_PERSPECTIVES:
            raise ValidationError(_("A journey has one to four perspectives."))
        cleaned, keys = [], set()
        for item in perspectives:
            if not isinstance(item, dict):
                raise ValidationError(_("The stage's settings are damaged."))
            key = clean_key(item.get("key"), PERSPECTIVE_KEY_MAX_LENGTH)
            if key in keys:
                raise ValidationError(_("Two perspectives have the key %(key)s.") % {"key": key})
            keys.add(key)
            label = clean_text(
                item.get("label") or key, LABEL_MAX_LENGTH, required=False, multiline=False
            )
            cleaned.append({"key": key, "label": label})
        config["perspectives"] = cleaned
    if "rupture_threshold" in config:
        value = config["rupture_threshold"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.5 <= value <= 1:
            raise ValidationError(_("The rupture threshold is a share between 0.5 and 1."))
    if "view" in config and config["view"] not in ("grid", "heatmap", "compare"):
        config.pop("view")
    if "situation" in config and not isinstance(config["situation"], int):
        config.pop("situation")
    return config


def export(stage, people):
    names = document_refs()
    own_steps = grid.source_of(stage).pk == stage.pk
    situations = list(Situation.objects.filter(stage=stage)) if own_steps else []
    steps = list(Step.objects.filter(stage=stage)) if own_steps else []
    source = grid.source_of(stage)
    # Refs by order: a mirror names its source's situations and steps by their place there.
    sit_ref = {s.pk: i for i, s in enumerate(Situation.objects.filter(stage=source), 1)}
    step_ref = {s.pk: i for i, s in enumerate(Step.objects.filter(stage=source), 1)}
    data = {
        "situations": [
            {"name": s.name, "proposed": s.proposed, "author": people.get(s.author_id)}
            for s in situations
        ],
        "steps": [
            {
                "name": s.name,
                "phase": s.phase,
                "moment_of_truth": s.moment_of_truth,
                "proposed": s.proposed,
                "author": people.get(s.author_id),
            }
            for s in steps
        ],
        "postits": [
            {
                "situation": sit_ref.get(p.situation_id),
                "step": step_ref.get(p.step_id),
                "perspective": p.perspective,
                "colour": p.colour,
                "text": p.text,
                "author": None if stage.anonymous else people.get(p.author_id),
                "created_at": p.created_at.isoformat(),
                "trace_ref": names.name(p),
            }
            for p in JourneyPostIt.objects.filter(stage=stage).order_by("created_at", "pk")
        ],
        "emotions": [
            {
                "situation": sit_ref.get(e.situation_id),
                "step": step_ref.get(e.step_id),
                "perspective": e.perspective,
                "participant": people.get(e.participant_id),
                "value": e.value,
            }
            for e in Emotion.objects.filter(stage=stage).order_by("pk")
        ],
    }
    return data


def import_(stage, data, people):
    from workshops.exports.transfer import store, text_of

    data = data if isinstance(data, dict) else {}
    names = document_refs()
    for position, item in enumerate(data.get("situations") or [], 1):
        store(
            Situation(
                stage=stage,
                name=text_of(item, "name", Situation, required=True),
                position=position,
                proposed=item.get("proposed") is True,
                author=people.get(item.get("author")),
            )
        )
    for position, item in enumerate(data.get("steps") or [], 1):
        phase = item.get("phase") if item.get("phase") in Phase.values else ""
        store(
            Step(
                stage=stage,
                name=text_of(item, "name", Step, required=True),
                position=position,
                phase=phase,
                moment_of_truth=item.get("moment_of_truth") is True,
                proposed=item.get("proposed") is True,
                author=people.get(item.get("author")),
            )
        )
    source = grid.source_of(stage)
    situations = dict(enumerate(Situation.objects.filter(stage=source), 1))
    steps = dict(enumerate(Step.objects.filter(stage=source), 1))

    def cell(item):
        situation, step = situations.get(item.get("situation")), steps.get(item.get("step"))
        if situation is None or step is None:
            raise ValidationError(_("A journey post-it is in no cell."))
        return situation, step

    for item in data.get("postits") or []:
        situation, step = cell(item)
        colour = item.get("colour")
        if colour not in Mark.values:
            raise ValidationError(_("Unknown colour: %(colour)s.") % {"colour": str(colour)[:20]})
        postit = store(
            JourneyPostIt(
                workshop=stage.workshop,
                stage=stage,
                situation=situation,
                step=step,
                perspective=item.get("perspective"),
                colour=colour,
                text=text_of(item, "text", JourneyPostIt, required=True),
                author=people.get(item.get("author")),
            )
        )
        names.bind(item.get("trace_ref"), postit)
    for item in data.get("emotions") or []:
        situation, step = cell(item)
        participant = people.get(item.get("participant"))
        if participant is None:
            continue
        store(
            Emotion(
                stage=stage,
                situation=situation,
                step=step,
                perspective=item.get("perspective"),
                participant=participant,
                value=item.get("value"),
            )
        )


def rows(stage):
    """One CSV row per post-it, with its situation, step, perspective and colour."""
    rows = []
    postits = JourneyPostIt.objects.filter(stage=stage).select_related(
        "author", "situation", "step"
    )
    labels = {p["key"]: p["label"] for p in grid.perspectives_of(stage)}
    for postit in postits.order_by("created_at", "pk"):
        author = ""
        if not stage.anonymous:
            author = postit.author.display_name if postit.author else _("Facilitator")
        rows.append(
            {
                "type": _("journey post-it"),
                "category": labels.get(postit.perspective, postit.perspective),
                "state": postit.get_colour_meaning(),
                "text": _("(private, not revealed)") if stage.is_hidden else postit.text,
                "author": author,
                "situation": postit.situation.name,
                "step": postit.step.name,
                "perspective": labels.get(postit.perspective, postit.perspective),
                "colour": postit.colour,
                "created_at": postit.created_at.isoformat(),
            }
        )
    return rows


def items(stage):
    """The journey's post-its for votes and promotion (orange and red ones become tensions)."""
    if stage.is_hidden:
        return []
    found = JourneyPostIt.objects.filter(stage=stage).select_related("stage", "situation", "step")
    return [Item(ref(p), "postit", p.text, stage.pk, p.author_id, p, mark=p.colour) for p in found]


def register():
    register_kind(
        StageKind(
            key=grid.KIND,
            label=gettext_lazy("Interaction journey"),
            template=TEMPLATE,
            context=board_context,
            default_config=default_config,
            owners=owners,
            report_template=TEMPLATE,
            report_context=report_context,
            report_css="journeys/journey/report.css",
            export=export,
            import_=import_,
            rows=rows,
            clean_config=clean_config,
            config_form=JourneyConfigForm,
            items=items,
        )
    )
