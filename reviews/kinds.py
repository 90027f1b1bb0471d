"""The review stage kinds: the room comes back at 30 days or 6 months and says what happened.

Four kinds, one per thing the workshop committed to, each a `Spec` over the same
board, actions and report (seed 001's 30-day test roadmap, seed 002 step 9):

- `review_actions`: each action sheet, its status, the values measured next to
  its targets, what was learned, the next step; its signatories confirm;
- `review_commitments`: each « Je m'engage à… », kept, partly kept or not yet,
  said by its author;
- `review_flows`: the map's flows rated again, with the change (better, the
  same, worse) shown as an icon and a word;
- `review_interfaces`: each reciprocal row, kept or not, then amended.

The items come through `registry.workshop_items()`: a review reads the
workshop's sheets, commitments, flows and rows and never writes them. A
stage's `config` names its review (`review`: a key shared by the review's
stages, `label`, `date`): the review report gathers the stages of one key.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.registry import StageKind, register, workshop_items
from workshops.text import clean_key, clean_text

from .models import (
    ActionStatus,
    Confirmation,
    FlowStatus,
    KeptStatus,
    ReviewEntry,
)

TEMPLATE = "reviews/review.html"
REVIEW_LABEL_MAX_LENGTH = 80

STATUS_ICONS = {
    "not_started": "○",
    "in_progress": "◐",
    "done": "✔",
    "dropped": "✖",
    "kept": "✔",
    "partly": "◐",
    "not_yet": "○",
    "not_kept": "✖",
    "smooth": "✔",
    "unclear": "◆",
    "friction": "✖",
    "": "·",
}
# A flow's rating, worst to best: the change between two ratings is the difference.
FLOW_ORDER = {"friction": 0, "unclear": 1, "smooth": 2}


@dataclass(frozen=True)
class Spec:
    key: str
    item_type: str
    label: str
    statuses: tuple  # (value, label) pairs, in the order the buttons show
    fields: tuple = ()  # the entry's text fields this kind writes
    by_author: bool = False  # only the item's author (or the facilitator) records it
    confirmed: bool = False  # the sheet's signatories confirm on their phones

    def status_label(self, value):
        return dict(self.statuses).get(value, "")


SPECS = {
    spec.key: spec
    for spec in (
        Spec(
            "review_actions",
            "action",
            gettext_lazy("Review: action sheets"),
            tuple(ActionStatus.choices),
            fields=("measured", "learned", "next_step"),
            confirmed=True,
        ),
        Spec(
            "review_commitments",
            "commitment",
            gettext_lazy("Review: commitments"),
            (
                (KeptStatus.KEPT, KeptStatus.KEPT.label),
                (KeptStatus.PARTLY, KeptStatus.PARTLY.label),
                (KeptStatus.NOT_YET, KeptStatus.NOT_YET.label),
            ),
            by_author=True,
        ),
        Spec(
            "review_flows",
            "flow",
            gettext_lazy("Review: the map's flows"),
            tuple(FlowStatus.choices),
        ),
        Spec(
            "review_interfaces",
            "interface",
            gettext_lazy("Review: reciprocal commitments"),
            (
                (KeptStatus.KEPT, KeptStatus.KEPT.label),
                (KeptStatus.NOT_KEPT, KeptStatus.NOT_KEPT.label),
            ),
            fields=("amendment",),
        ),
    )
}


def spec_of(stage):
    return SPECS[stage.kind]


def review_of(stage):
    """(key, label, date or None) of the review a stage belongs to."""
    config = stage.config or {}
    day = None
    if config.get("date"):
        try:
            day = datetime.date.fromisoformat(config["date"])
        except (TypeError, ValueError):
            day = None
    return config.get("review", ""), config.get("label", ""), day


def review_stages(stages):
    """The review stages among `stages`, in stage order."""
    return [s for s in stages if s.kind in SPECS]


# "Then": what the workshop wrote, read off the item -----------------------------------------


def _then_action(item, signatures):
    sheet = item.obj
    lines = [
        (_("Indicators and targets"), sheet.indicators),
        (_("Test: indicators"), sheet.test_indicators),
        (_("Test: when"), sheet.test_when),
    ]
    if sheet.due_date:
        lines.append((_("Review date"), sheet.due_date.isoformat()))
    people = signatures.get(sheet.pk, [])
    if people:
        lines.append((_("Signed by"), ", ".join(s.display_name for s in people)))
    return {"title": sheet.title, "lines": [(k, v) for k, v in lines if v], "mark": ""}


def _then_commitment(item, anonymous, names):
    c = item.obj
    sentence = c.get_sentence_display()
    title = f"{sentence} {c.target_name} : {c.text}" if c.target_name else f"{sentence} {c.text}"
    author = "" if anonymous else names.get(item.author_id, "")
    return {"title": title, "lines": [(_("By"), author)] if author else [], "mark": ""}


def _then_flow(item, centre):
    flow = item.obj
    # The centre of the map is the observed service: its actor has no name of its own.
    ends = f"{flow.source.name or centre} → {flow.target.name or centre}"
    title = f"{ends} : {flow.label}" if flow.label else ends
    return {"title": title, "lines": [], "mark": item.mark}


def _then_interface(item):
    row = item.obj
    return {
        "title": row.label,
        "lines": [(_("We commit to"), row.we_commit), (_("They commit to"), row.they_commit)],
        "mark": "",
    }


def change_of(then, now):
    """A flow's change between two ratings: (key, icon, word), or None when one is missing."""
    if then not in FLOW_ORDER or now not in FLOW_ORDER:
        return None
    delta = FLOW_ORDER[now] - FLOW_ORDER[then]
    if delta > 0:
        return ("better", "↗", _("Better"))
    if delta < 0:
        return ("worse", "↘", _("Worse"))
    return ("same", "→", _("The same"))


# The board -------------------------------------------------------------------------------


def build(stage, audience="report", participant=None, stages=None):
    """The board: the same for every phone (what is one's own is marked by `owners`)."""
    spec = spec_of(stage)
    workshop = stage.workshop
    stages = list(workshop.stages.all()) if stages is None else stages
    items = [i for i in workshop_items(workshop, spec.item_type) if i.text or i.obj is not None]
    siblings = [s for s in stages if s.kind == stage.kind]
    entries = {}
    for entry in (
        ReviewEntry.objects.filter(stage__in=siblings)
        .prefetch_related("confirmations")
        .order_by("pk")
    ):
        entries[(entry.stage_id, entry.item_ref)] = entry
    signatures, names = {}, {}
    if spec.item_type == "action":
        from commitments.sheets.models import Signature

        for sig in Signature.objects.filter(sheet__in=[i.obj for i in items]):
            signatures.setdefault(sig.sheet_id, []).append(sig)
    if spec.item_type == "commitment":
        names = dict(workshop.participants.values_list("pk", "display_name"))
    anonymous = stage.anonymous
    rows = []
    for item in items:
        if spec.item_type == "action":
            then = _then_action(item, signatures)
        elif spec.item_type == "commitment":
            then = _then_commitment(item, anonymous, names)
        elif spec.item_type == "flow":
            then = _then_flow(item, workshop.observed_service or _("The observed service"))
        else:
            then = _then_interface(item)
        entry = entries.get((stage.pk, item.ref))
        status = entry.status if entry else ""
        history = []
        for sibling in siblings:
            other = entries.get((sibling.pk, item.ref))
            _key, label, day = review_of(sibling)
            value = other.status if other else ""
            history.append(
                {
                    "label": label or sibling.title,
                    "date": day,
                    "status": value,
                    "icon": STATUS_ICONS.get(value, "·"),
                    "word": spec.status_label(value) or _("not reviewed"),
                    "is_this": sibling.pk == stage.pk,
                }
            )
            if sibling.pk == stage.pk:
                break
        confirmations = list(entry.confirmations.all()) if entry else []
        rows.append(
            {
                "ref": item.ref,
                "pk": getattr(item.obj, "pk", None),
                "then": then,
                "then_icon": STATUS_ICONS.get(then["mark"], "○") if then["mark"] else "",
                "then_word": spec.status_label(then["mark"]) if then["mark"] else "",
                "entry": entry,
                "status": status,
                "status_icon": STATUS_ICONS.get(status, "·"),
                "status_word": spec.status_label(status),
                "change": change_of(then["mark"], status) if spec.item_type == "flow" else None,
                "history": history,
                "confirmations": confirmations,
                "signed": bool(signatures.get(getattr(item.obj, "pk", None))),
                "fields": [
                    (name, FIELD_LABELS[name], getattr(entry, name) if entry else "")
                    for name in spec.fields
                ],
            }
        )
    key, label, day = review_of(stage)
    return {
        "spec": spec,
        "rows": rows,
        "review_map": review_map(stage, rows) if spec.item_type == "flow" else None,
        "statuses": [(v, lbl, STATUS_ICONS[v]) for v, lbl in spec.statuses],
        "summary": summary(spec, rows),
        "trend": trend(spec, rows, siblings, stage),
        "review_key": key,
        "review_label": label or stage.title,
        "review_date": day,
    }


FIELD_LABELS = {
    "measured": gettext_lazy("Value measured, next to its target"),
    "learned": gettext_lazy("What we learned"),
    "next_step": gettext_lazy("Next step"),
    "amendment": gettext_lazy("Amended commitment"),
}


def summary(spec, rows):
    """How many rows have each status (and, for flows, each change)."""
    counts = [
        {
            "status": value,
            "label": label,
            "icon": STATUS_ICONS[value],
            "count": sum(1 for r in rows if r["status"] == value),
        }
        for value, label in spec.statuses
    ]
    counts.append(
        {
            "status": "",
            "label": _("not reviewed"),
            "icon": STATUS_ICONS[""],
            "count": sum(1 for r in rows if not r["status"]),
        }
    )
    changes = []
    if spec.item_type == "flow":
        for key, icon, word in (
            ("better", "↗", _("Better")),
            ("same", "→", _("The same")),
            ("worse", "↘", _("Worse")),
        ):
            changes.append(
                {
                    "key": key,
                    "icon": icon,
                    "word": word,
                    "count": sum(1 for r in rows if r["change"] and r["change"][0] == key),
                }
            )
    return {"counts": counts, "changes": changes, "total": len(rows)}


BAR_W = 560
BAR_H = 26
BAR_GAP = 14
LABEL_W = 190
BAR_FILL = {
    "done": "#2f7d32",
    "kept": "#2f7d32",
    "smooth": "#2f7d32",
    "in_progress": "#b7791f",
    "partly": "#b7791f",
    "unclear": "#b7791f",
    "not_started": "#6b7280",
    "not_yet": "#6b7280",
    "dropped": "#b42318",
    "not_kept": "#b42318",
    "friction": "#b42318",
    "": "#d1d5db",
}


def trend(spec, rows, siblings, stage):
    """One bar per moment (the workshop, for flows; then each review up to this one), each
    split by status, with its count written in the segment and its word in the legend."""
    moments = []
    if spec.item_type == "flow":
        moments.append((_("At the workshop"), [r["then"]["mark"] for r in rows]))
    for index, sibling in enumerate(siblings):
        _key, label, _day = review_of(sibling)
        moments.append(
            (
                label or sibling.title,
                [r["history"][index]["status"] if index < len(r["history"]) else "" for r in rows],
            )
        )
        if sibling.pk == stage.pk:
            break
    order = [v for v, _lbl in spec.statuses] + [""]
    total = max(len(rows), 1)
    bars = []
    for i, (label, values) in enumerate(moments):
        y = i * (BAR_H + BAR_GAP)
        x = LABEL_W
        segments = []
        for value in order:
            count = sum(1 for v in values if (v or "") == value)
            if not count:
                continue
            width = round(BAR_W * count / total)
            segments.append(
                {
                    "x": x,
                    "w": width,
                    "count": count,
                    "fill": BAR_FILL[value],
                    "icon": STATUS_ICONS[value],
                    "word": spec.status_label(value) or _("not reviewed"),
                    "dark": value == "",
                }
            )
            x += width
        bars.append({"label": label[:28], "full_label": label, "y": y, "segments": segments})
    height = max(len(bars), 1) * (BAR_H + BAR_GAP)
    legend = [
        (STATUS_ICONS[v], spec.status_label(v) or _("not reviewed"), BAR_FILL[v]) for v in order
    ]
    return {
        "bars": bars,
        "height": height,
        "width": LABEL_W + BAR_W + 10,
        "legend": legend,
        "bar_h": BAR_H,
    }


def review_context(stage, audience, participant):
    # The board is the same for the three audiences: a push draws the three from one
    # instance of the stage (workshops' emit), so it is built once per instance.
    built = stage.__dict__.get("_review_board")
    if built is None:
        built = stage.__dict__["_review_board"] = build(stage, audience, participant)
    return built


def review_report_context(stage):
    return build(stage, "report")


# Config, export, import, CSV ---------------------------------------------------------------


def default_config():
    return {}


def clean_config(config):
    config = dict(config or {})
    if "planned_kind" in config:
        config["planned_kind"] = clean_key(config["planned_kind"])
    if config.get("review"):
        config["review"] = clean_key(config["review"])
    if "label" in config:
        try:
            config["label"] = clean_text(
                config["label"], REVIEW_LABEL_MAX_LENGTH, required=False, multiline=False
            )
        except ValidationError as error:
            raise ValidationError({"config": error.messages[0]}) from None
    if config.get("date"):
        try:
            datetime.date.fromisoformat(str(config["date"]))
        except ValueError:
            raise ValidationError({"config": _("Give the review's date.")}) from None
    return config


def export(stage, people):
    from workshops.trace import document_refs

    names = document_refs()
    refs = {i.ref: i for i in workshop_items(stage.workshop, spec_of(stage).item_type)}
    found = []
    for entry in ReviewEntry.objects.filter(stage=stage).prefetch_related("confirmations"):
        item = refs.get(entry.item_ref)
        found.append(
            {
                "item": names.name(item.obj) if item is not None and item.obj else "",
                "item_label": entry.item_label,
                "status": entry.status,
                **{name: getattr(entry, name) for name in ReviewEntry.TEXT_FIELDS},
                "confirmed_by": [people.get(c.participant_id) for c in entry.confirmations.all()],
            }
        )
    return {"entries": found}


def import_(stage, data, people):
    """The entries, once every stage is imported (their items may come after the review)."""
    from workshops.trace import document_refs

    data = data if isinstance(data, dict) else {}
    allowed = {v for v, _lbl in spec_of(stage).statuses} | {""}
    entries = data.get("entries") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError("entries")
    for item in entries:
        if (item.get("status") or "") not in allowed:
            raise ValueError("unknown status")
    names = document_refs()
    names.later(lambda: _import_entries(stage, entries, people, names))


def _import_entries(stage, entries, people, names):
    from workshops.exports.transfer import store, text_of
    from workshops.trace import ref

    from .models import Confirmation

    for item in entries:
        bound = names.bound.get(item.get("item")) if item.get("item") else None
        if bound is None:
            continue  # the item did not come with the document: nothing to attach it to
        entry = store(
            ReviewEntry(
                stage=stage,
                item_ref=ref(bound),
                item_label=text_of(item, "item_label", ReviewEntry),
                status=item.get("status") or "",
                **{name: text_of(item, name, ReviewEntry) for name in ReviewEntry.TEXT_FIELDS},
            )
        )
        for who in item.get("confirmed_by") or []:
            person = people.get(who)
            if person is not None:
                store(
                    Confirmation(entry=entry, participant=person, display_name=person.display_name)
                )


def rows(stage):
    built = build(stage, "report")
    return [
        {
            "type": str(spec_of(stage).label),
            "category": r["status_word"],
            "target": r["history"][-1]["label"] if r["history"] else "",
            "text": r["then"]["title"],
            "author": "",
            "created_at": r["entry"].updated_at.isoformat() if r["entry"] else "",
        }
        for r in built["rows"]
    ]


def owners(stage):
    """Whose lines are whose (the is-own mark, by the item's pk): a commitment's author
    records it; a sheet's signatories confirm its review."""
    spec = spec_of(stage)
    found = {}
    if spec.by_author:
        for item in workshop_items(stage.workshop, spec.item_type):
            if item.author_id is not None and item.obj is not None:
                found.setdefault(item.author_id, []).append(item.obj.pk)
    elif spec.confirmed:
        from commitments.sheets.models import Signature

        sheets = [i.obj for i in workshop_items(stage.workshop, spec.item_type) if i.obj]
        for sheet_id, participant_id in Signature.objects.filter(sheet__in=sheets).values_list(
            "sheet_id", "participant_id"
        ):
            found.setdefault(participant_id, []).append(sheet_id)
        # Minus a confirmation's id: one's own confirmation is marked, and its button hides.
        for pk, participant_id in Confirmation.objects.filter(entry__stage=stage).values_list(
            "pk", "participant_id"
        ):
            found.setdefault(participant_id, []).append(-pk)
    return found


def register_all():
    from workshops.registry import register_console_tool, register_phone_tool

    register_console_tool("reviews/_console_tool.html")
    register_phone_tool("reviews/_phone_tool.html")
    for spec in SPECS.values():
        register(
            StageKind(
                key=spec.key,
                label=spec.label,
                template=TEMPLATE,
                context=review_context,
                report_template=TEMPLATE,
                report_context=review_report_context,
                report_css="reviews/report.css",
                default_config=default_config,
                writable=True,
                export=export,
                import_=import_,
                rows=rows,
                owners=owners,
                clean_config=clean_config,
                in_workshop_report=False,
            )
        )


# The map, redrawn with the review's ratings ------------------------------------------------


def review_map(stage, rows):
    """The workshop's map as this review found it: each flow in its new rating's colour and
    icon, with the change written under its label ("↗ Mieux"), or the workshop's rating and
    "pas encore revu". None when the workshop has no map (or the map app is not installed)."""
    from django.apps import apps

    if not apps.is_installed("mapping"):
        return None
    from mapping import layout
    from mapping.kinds import build_map

    map_stage = next((s for s in stage.workshop.stages.all() if s.kind == "map"), None)
    if map_stage is None:
        return None
    drawn = build_map(map_stage)
    by_pk = {r["pk"]: r for r in rows}
    for flow in drawn["flows"]:
        row = by_pk.get(flow.pk)
        if row is None or flow.shape is None:
            continue
        if row["status"]:
            flow.rating = row["status"]
            flow.colour = layout.RATING_COLOURS.get(flow.rating, layout.RATING_COLOURS[""])
            change = row["change"]
            flow.note = f"{change[1]} {change[2]}" if change else row["status_word"]
        else:
            flow.note = f"· {_('not reviewed yet')}"
        # A white box behind the words (no halo: WeasyPrint draws a stroke over the fill).
        size = (drawn.get("svg") or {}).get("flow_label_size") or 13
        width = round(len(flow.note) * size * 0.62 + 12)
        flow.note_y = round(flow.shape.label_height / 2 + size + 6)
        flow.note_box = {"x": -width // 2, "y": flow.note_y - size, "w": width, "h": size + 7}
    return {"map": drawn, "stage": map_stage}
