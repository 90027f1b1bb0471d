"""The `actions` stage kind: co-written action sheets, co-signed, with their test sheet.

The stage's config says who must sign (`{"signatures": "pair"}` or `"any_two"`,
docs/action-sheets.md says why the methods choose what they do).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops import trace
from workshops.registry import Item, StageKind, register, workshop_items
from workshops.text import clean_key

from .models import (
    RESIGN_ICON,
    STATUS_ICONS,
    ActionSheet,
    Side,
    SignatureRule,
    Status,
    side_of,
)

TEMPLATE = "commitments/sheets/sheets.html"
KIND = "actions"
# What a sheet may come from: the room's challenges and ideas (and tensions, where a
# method goes straight from the matrix to the sheets).
ORIGIN_TYPES = ("idea", "challenge", "tension")


def rule_of(stage):
    rule = (stage.config or {}).get("signatures")
    return rule if rule in SignatureRule.values else SignatureRule.PAIR


def default_config():
    return {"signatures": SignatureRule.PAIR}


def clean_config(config):
    config = dict(config)
    if "signatures" in config and config["signatures"] not in SignatureRule.values:
        raise ValidationError(_("The stage's settings are damaged."))
    if "planned_kind" in config:
        config["planned_kind"] = clean_key(config["planned_kind"])
    return config


class SheetsConfigForm(forms.Form):
    """Who must sign an action sheet, in the stage editor (for `actions` stages only)."""

    signatures = forms.ChoiceField(
        label=gettext_lazy("Action sheets: who signs"),
        choices=[("", "—"), *SignatureRule.choices],
        required=False,
        help_text=gettext_lazy("Used by action-sheet stages only."),
    )

    def __init__(self, *args, config=None, **kwargs):
        super().__init__(*args, **kwargs)
        if config and config.get("signatures") in SignatureRule.values:
            self.fields["signatures"].initial = config["signatures"]

    def apply(self, base):
        config = dict(base or {})
        if self.cleaned_data.get("signatures"):
            config["signatures"] = self.cleaned_data["signatures"]
        config.setdefault("signatures", SignatureRule.PAIR)
        return config


# The sheet's fields, as the sheet shows them: (name, label, how it is edited, group).
FIELDS = (
    ("title", gettext_lazy("Title"), "line", "sheet"),
    ("origin", gettext_lazy("Comes from (challenge or idea)"), "origin", "sheet"),
    ("description", gettext_lazy("Description"), "text", "sheet"),
    ("owner", gettext_lazy("Owner"), "owner", "sheet"),
    ("co_owners", gettext_lazy("Co-owners"), "co_owners", "sheet"),
    ("start_date", gettext_lazy("Start date (test)"), "date", "sheet"),
    ("due_date", gettext_lazy("Due date (review)"), "date", "sheet"),
    ("resources", gettext_lazy("Resources"), "text", "sheet"),
    ("indicators", gettext_lazy("Indicators and targets"), "indicators", "sheet"),
    ("test_what", gettext_lazy("What?"), "text", "test"),
    ("test_who", gettext_lazy("Who?"), "text", "test"),
    ("test_when", gettext_lazy("When?"), "text", "test"),
    ("test_indicators", gettext_lazy("Indicators"), "text", "test"),
    ("test_feedback", gettext_lazy("Feedback: how it is gathered"), "text", "test"),
)


def _value(sheet, name):
    if name == "origin":
        return " ; ".join(sheet.origin_labels)
    if name == "owner":
        return sheet.owner_name
    if name == "co_owners":
        return ", ".join(sheet.co_owner_names)
    value = getattr(sheet, name)
    return value if value is not None else ""


def field_rows(sheet):
    """Each field with its value and who wrote it last (an annotated sheet)."""
    import datetime

    from django.utils import timezone

    rows = []
    for name, label, how, group in FIELDS:
        edit = (sheet.edits or {}).get(name) if isinstance(sheet.edits, dict) else None
        at = None
        if isinstance(edit, dict) and isinstance(edit.get("at"), str):
            try:
                at = timezone.localtime(datetime.datetime.fromisoformat(edit["at"]))
            except ValueError:
                at = None
        rows.append(
            {
                "name": name,
                "label": label,
                "how": how,
                "group": group,
                "value": _value(sheet, name),
                "by": edit.get("by", "") if isinstance(edit, dict) else "",
                "proxy": bool(edit.get("proxy")) if isinstance(edit, dict) else False,
                "at": at,
            }
        )
    return rows


def indicator_rows(text):
    """ "Indicator : target" lines as (indicator, target) pairs for the sheet's table."""
    rows = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        indicator, sep, target = line.partition(":")
        rows.append((indicator.strip(), target.strip()) if sep else (line.strip(), ""))
    return rows


def chain_back(links, obj, limit=12):
    """The labels from `obj`'s origin back to the first link (a tension, a journey step…)."""
    steps, seen = [], set()
    key = (trace.type_of(obj), obj.pk)
    while len(steps) < limit:
        came_from = links.came_from.get(key) or []
        if not came_from:
            break
        first = came_from[0]
        steps.append(first.origin_label)
        key = (first.origin_type, first.origin_id)
        if key in seen:
            break
        seen.add(key)
    return steps


def state_of(sheet, rule, content_hash):
    """Which signatures still hold, which must be signed again, and the sheet's status."""
    valid = [s for s in sheet.all_signatures if s.content_hash == content_hash]
    stale = [s for s in sheet.all_signatures if s.content_hash != content_hash]
    for signature in sheet.all_signatures:
        signature.is_valid = signature.content_hash == content_hash
    sides = {s.side for s in valid}
    if rule == SignatureRule.PAIR:
        complete = {Side.CLIENT, Side.SUPPLIER} <= sides
    else:
        complete = len(valid) >= 2
    if complete:
        status = Status.COSIGNED
    elif valid:
        status = Status.SIGNED_ONCE
    else:
        status = Status.DRAFT
    return {
        "status": status,
        "status_label": Status(status).label,
        "status_icon": STATUS_ICONS[status],
        "valid": valid,
        "stale": stale,
        "resign_icon": RESIGN_ICON,
        "missing_sides": [
            Side(side).label for side in (Side.CLIENT, Side.SUPPLIER) if side not in sides
        ]
        if rule == SignatureRule.PAIR and not complete
        else [],
    }


def refusal_to_sign(sheet, participant, rule, content_hash):
    """Why `participant` may not sign this content now, or None (the side rules)."""
    current = [
        s
        for s in sheet.all_signatures
        if s.content_hash == content_hash and s.participant_id != participant.pk
    ]
    own = next((s for s in sheet.all_signatures if s.participant_id == participant.pk), None)
    if own is not None and own.content_hash == content_hash:
        return _("You have already signed this version of the sheet.")
    side = side_of(participant.profile)
    if rule == SignatureRule.PAIR:
        if side == Side.OTHER:
            return _(
                "This sheet needs a client and a supplier: your profile is on neither side, "
                "so you cannot sign it."
            )
        if any(s.side == side for s in current):
            return _(
                "Someone from the %(side)s has already signed: the sheet now needs the "
                "signature of the other side."
            ) % {"side": Side(side).label.lower()}
    if len(current) >= 2:
        return _("This sheet is already co-signed.")
    return None


def annotate(sheets, links, people):
    """Everything a board, the report and the rules read about each sheet, read once."""
    for sheet in sheets:
        sheet.all_signatures = list(sheet.signatures.all())
        sheet.links = links[sheet]
        sheet.origin_labels = [t.origin_label for t in sheet.links.came_from]
        sheet.owner_name = people.get(sheet.owner_id, "")
        sheet.co_owner_list = list(sheet.co_owners.all())
        sheet.co_owner_names = [p.display_name for p in sheet.co_owner_list]
        sheet.hash = sheet.content_hash(sheet.origin_labels, sheet.owner_name, sheet.co_owner_names)
        sheet.state = state_of(sheet, rule_of(sheet.stage), sheet.hash)
        sheet.indicator_rows = indicator_rows(sheet.indicators)
        sheet.chain = chain_back(links, sheet)
        sheet.rows = field_rows(sheet)
        sheet.sheet_rows = [r for r in sheet.rows if r["group"] == "sheet"]
        sheet.test_rows = [r for r in sheet.rows if r["group"] == "test"]
        sheet.co_owner_ids = {p.pk for p in sheet.co_owner_list}
    return sheets


def sheets_of(stage, links=None, pk=None):
    """The stage's sheets (or the one `pk`), annotated."""
    found = ActionSheet.objects.filter(stage=stage)
    if pk is not None:
        found = found.filter(pk=pk)
    sheets = list(found.prefetch_related("co_owners", "signatures"))
    for sheet in sheets:
        sheet.stage = stage
    links = links if links is not None else trace.links_for(stage.workshop_id)
    people = dict(stage.workshop.participants.values_list("pk", "display_name"))
    return annotate(sheets, links, people)


def build(stage):
    sheets = sheets_of(stage)
    counts = dict.fromkeys(Status.values, 0)
    for sheet in sheets:
        counts[sheet.state["status"]] += 1
    return {
        "sheets": sheets,
        "rule": rule_of(stage),
        "rule_label": SignatureRule(rule_of(stage)).label,
        "counts": [
            {
                "key": key,
                "label": Status(key).label,
                "icon": STATUS_ICONS[key],
                "count": counts[key],
            }
            for key in Status.values
        ],
    }


def origin_choices(workshop):
    """The challenges and ideas (and tensions) a sheet may come from."""
    return [item for item in workshop_items(workshop) if item.type in ORIGIN_TYPES]


def context(stage, audience, participant):
    return {"sheets_board": build(stage)}


def report_context(stage):
    return {"sheets_board": build(stage), "in_report": True}


# Export, import, CSV -----------------------------------------------------------------------


def export(stage, people):
    names = trace.document_refs()
    sheets = sheets_of(stage)
    return [
        {
            "title": s.title,
            "description": s.description,
            "owner": people.get(s.owner_id),
            "co_owners": sorted(people.get(p.pk) for p in s.co_owner_list),
            "start_date": s.start_date.isoformat() if s.start_date else None,
            "due_date": s.due_date.isoformat() if s.due_date else None,
            **{name: getattr(s, name) for name in ActionSheet.TEXT_FIELDS if name != "title"},
            "edits": s.edits,
            "author": people.get(s.author_id),
            "created_at": s.created_at.isoformat(),
            "trace_ref": names.name(s),
            "signatures": [
                {
                    "participant": people.get(sig.participant_id),
                    "display_name": sig.display_name,
                    "profile": sig.profile,
                    "organisation": sig.organisation,
                    "side": sig.side,
                    "content_hash": sig.content_hash,
                    "signed_at": sig.signed_at.isoformat(),
                    "entered_by_facilitator": sig.entered_by_facilitator,
                }
                for sig in s.all_signatures
            ],
        }
        for s in sheets
    ]


def _date(value):
    import datetime

    if value in (None, ""):
        return None
    return datetime.date.fromisoformat(value)


def _edits(value):
    """Who wrote each field last, as a document may carry it: known fields, short text."""
    from workshops.text import normalise

    edits = {}
    for name, edit in value.items() if isinstance(value, dict) else ():
        if name in ActionSheet.EDITABLE and isinstance(edit, dict):
            edits[name] = {
                "by": normalise(str(edit.get("by") or ""), multiline=False)[:60],
                "at": str(edit.get("at") or "")[:40],
                "proxy": bool(edit.get("proxy")),
            }
    return edits


def import_(stage, data, people):
    import datetime

    from workshops.exports.transfer import store, text_of

    from .models import Signature

    names = trace.document_refs()
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            raise ValueError("an action sheet is not an object")
        sheet = store(
            ActionSheet(
                workshop=stage.workshop,
                stage=stage,
                title=" ".join(text_of(item, "title", ActionSheet, required=True).split()),
                description=text_of(item, "description", ActionSheet),
                owner=people.get(item.get("owner")),
                start_date=_date(item.get("start_date")),
                due_date=_date(item.get("due_date")),
                **{
                    name: text_of(item, name, ActionSheet)
                    for name in ActionSheet.TEXT_FIELDS
                    if name not in ("title", "description")
                },
                edits=_edits(item.get("edits")),
                author=people.get(item.get("author")),
            )
        )
        co_owners = [people.get(ref) for ref in item.get("co_owners") or []]
        sheet.co_owners.set([p for p in co_owners if p is not None])
        names.bind(item.get("trace_ref"), sheet)
        for sig in item.get("signatures") or []:
            participant = people.get(sig.get("participant"))
            if participant is None:
                raise ValueError("a signature names nobody in the document")
            store(
                Signature(
                    sheet=sheet,
                    participant=participant,
                    display_name=str(sig.get("display_name") or participant.display_name),
                    profile=str(sig.get("profile") or ""),
                    organisation=str(sig.get("organisation") or ""),
                    side=str(sig.get("side") or ""),
                    content_hash=str(sig.get("content_hash") or ""),
                    signed_at=datetime.datetime.fromisoformat(sig["signed_at"]),
                    entered_by_facilitator=bool(sig.get("entered_by_facilitator")),
                )
            )


def rows(stage):
    return [
        {
            "type": _("action sheet"),
            "state": (
                _("%(status)s · to sign again") % {"status": s.state["status_label"]}
                if s.state["stale"]
                else s.state["status_label"]
            ),
            "text": s.title,
            "author": s.owner_name,
            "source": " ; ".join(s.origin_labels),
            "target": " ; ".join(
                f"{sig.display_name} ({sig.get_profile_display()})" for sig in s.state["valid"]
            ),
            "created_at": s.created_at.isoformat(),
        }
        for s in sheets_of(stage)
    ]


def items(stage):
    return [
        Item(trace.ref(s), "action", s.title, stage.pk, s.author_id, s)
        for s in ActionSheet.objects.filter(stage=stage)
    ]


def register_all():
    register(
        StageKind(
            key=KIND,
            label=gettext_lazy("Action sheets"),
            template=TEMPLATE,
            context=context,
            report_template=TEMPLATE,
            report_context=report_context,
            report_css="commitments/sheets/report.css",
            default_config=default_config,
            clean_config=clean_config,
            config_form=SheetsConfigForm,
            writable=True,
            export=export,
            import_=import_,
            rows=rows,
            owners=lambda stage: {},
            items=items,
        )
    )
