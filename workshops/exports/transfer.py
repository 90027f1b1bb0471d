"""A whole workshop as a JSON document and back, and its post-its and flows as one CSV.

The document names things by refs local to it (participant 1, 2…), never by
database ids. So export → import into an empty database → export gives the
same document, timestamps aside. Each stage kind exports and imports its own
objects (`StageKind.export` / `StageKind.import_`); this module knows no
stage app.

The JSON export is the complete backup: it includes what was written
privately and not yet revealed. Authorship on anonymous stages is left out,
as it is everywhere else. The CSV, which circulates like the report, prints
no private text either.
"""

import csv
import io
import re
from datetime import date

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .. import trace
from ..models import Language, Participant, Profile, Stage, Workshop
from ..registry import FALLBACK, get_kind
from ..text import clean_text

FORMAT = "reciproque.workshop"
VERSION = 1
WORKSHOP_FIELDS = ("title", "observed_service", "perimeter", "intention", "language", "method")
STAGE_FIELDS = (
    "kind",
    "title",
    "instructions",
    "duration_minutes",
    "config",
    "private_writing",
    "revealed",
    "anonymous",
)


class ImportRefused(ValueError):
    """The file is not a workshop this version can read; nothing was created."""


def text_of(item, name, model, *, required=False):
    """`item[name]` under the one text rule and the length of `model.name`.

    Over-long text is refused, not cut: a backup that loses words silently is
    worse than one that says which field is too long.
    """
    if required and name not in item:
        raise KeyError(name)
    field = model._meta.get_field(name)
    value = item.get(name)
    try:
        return clean_text(
            "" if value is None else value,
            field.max_length,
            required=required,
            multiline=isinstance(field, models.TextField),
        )
    except ValidationError as error:
        raise ValidationError({name: error.messages}) from None


def store(instance):
    """Save an imported object only once the model's own rules accept it."""
    instance.full_clean()
    instance.save()
    return instance


def _refusal(error):
    if hasattr(error, "error_dict"):
        parts = [f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()]
    else:
        parts = error.messages
    return _("This export is refused: %(error)s") % {"error": "; ".join(parts)}


def export_workshop(workshop):
    with trace.refs_for_document() as refs:
        document = _document(workshop)
        # After the stages: the kinds have named the objects the links join.
        document["traces"] = refs.export(workshop.pk)
    return document


def _document(workshop):
    participants = list(workshop.participants.order_by("joined_at", "pk"))
    people = {p.pk: ref for ref, p in enumerate(participants, 1)}
    stages = list(workshop.stages.all())
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "workshop": {
            **{name: getattr(workshop, name) for name in WORKSHOP_FIELDS},
            "date": workshop.date.isoformat() if workshop.date else None,
            "created_at": workshop.created_at.isoformat(),
        },
        "participants": [
            {
                "ref": people[p.pk],
                "display_name": p.display_name,
                "profile": p.profile,
                "organisation": p.organisation,
                "added_by_facilitator": p.added_by_facilitator,
                "removed": p.removed_at is not None,
                "joined_at": p.joined_at.isoformat(),
            }
            for p in participants
        ],
        "stages": [
            {
                **{name: getattr(stage, name) for name in STAGE_FIELDS},
                "current": stage.pk == workshop.current_stage_id,
                "data": get_kind(stage.kind).export(stage, people),
            }
            for stage in stages
        ],
    }


def import_workshop(document, facilitator):
    """A new workshop from an exported document, with a new join link and code."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportRefused(_("This file is not a Réciproque workshop export."))
    if document.get("version") != VERSION:
        raise ImportRefused(_("This export comes from another version of Réciproque."))
    try:
        with transaction.atomic(), trace.refs_for_document() as refs:
            workshop = _create(document, facilitator)
            refs.import_(document.get("traces"))
            return workshop
    except ValidationError as error:
        raise ImportRefused(_refusal(error)) from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        if isinstance(error, ImportRefused):
            raise
        raise ImportRefused(_("This export is damaged: %(error)s") % {"error": error}) from None


def _create(document, facilitator):
    data = document["workshop"]
    language = data.get("language") if data.get("language") in Language.values else "fr"
    workshop = store(
        Workshop(
            facilitator=facilitator,
            title=text_of(data, "title", Workshop, required=True),
            observed_service=text_of(data, "observed_service", Workshop),
            perimeter=text_of(data, "perimeter", Workshop),
            intention=text_of(data, "intention", Workshop),
            language=language,
            method=text_of(data, "method", Workshop),
            date=date.fromisoformat(data["date"]) if data.get("date") else None,
        )
    )
    people = {}
    for item in document.get("participants") or []:
        profile = item.get("profile") if item.get("profile") in Profile.values else Profile.OTHER
        people[item["ref"]] = store(
            Participant(
                workshop=workshop,
                display_name=" ".join(text_of(item, "display_name", Participant).split()),
                profile=profile,
                organisation=text_of(item, "organisation", Participant),
                added_by_facilitator=item.get("added_by_facilitator") is True,
                removed_at=timezone.now() if item.get("removed") else None,
            )
        )
    current = first = None
    for position, item in enumerate(document.get("stages") or []):
        kind = item["kind"]
        if not isinstance(kind, str) or get_kind(kind) is FALLBACK:
            raise ImportRefused(
                _("This export holds a stage of an unknown kind: %(kind)s.")
                % {"kind": str(kind)[:40]}
            )
        stage = store(
            Stage(
                workshop=workshop,
                position=position,
                kind=kind,
                title=text_of(item, "title", Stage, required=True),
                instructions=text_of(item, "instructions", Stage),
                duration_minutes=int(item.get("duration_minutes") or 15),
                config=item.get("config") if isinstance(item.get("config"), dict) else {},
                private_writing=bool(item.get("private_writing")),
                revealed=bool(item.get("revealed")),
                anonymous=bool(item.get("anonymous")),
            )
        )
        get_kind(stage.kind).import_(stage, item.get("data"), people)
        first = first or stage
        if item.get("current"):
            current = stage
    workshop.current_stage = current or first
    workshop.save(update_fields=["current_stage"])
    return workshop


# CSV -------------------------------------------------------------------------------------

CSV_COLUMNS = [
    ("stage_number", gettext_noop("Stage number")),
    ("stage", gettext_noop("Stage")),
    ("type", gettext_noop("Type")),
    ("category", gettext_noop("Column or kind")),
    ("state", gettext_noop("Colour or rating")),
    ("text", gettext_noop("Text")),
    ("author", gettext_noop("Author")),
    ("theme", gettext_noop("Theme")),
    ("source", gettext_noop("From")),
    ("target", gettext_noop("To")),
    ("they_expect", gettext_noop("What they expect from us")),
    ("we_expect", gettext_noop("What we expect from them")),
    ("mismatch", gettext_noop("When it goes wrong")),
    # A journey post-it's cell, and its colour as a key (the state column has its words).
    ("situation", gettext_noop("Situation")),
    ("step", gettext_noop("Step")),
    ("perspective", gettext_noop("Perspective")),
    ("colour", gettext_noop("Colour")),
    ("created_at", gettext_noop("Created at")),
]


def csv_headers():
    return [_(label) for _key, label in CSV_COLUMNS]


# French spreadsheets split on ";" (the decimal separator is ","): written that way,
# the file opens in columns with a double click. The BOM tells them it is UTF-8.
CSV_DELIMITER = ";"
# Where a spreadsheet may see a cell begin: the start of the text, or after a
# line break or either delimiter (a file opened with the other one, or whose
# quoting a reader got wrong), past any spaces and quotes.
_CELL_START = re.compile(r"""(^|[\n\r,;])([ "']*)(?=[=+\-@\t\r])""")


def export_csv(workshop):
    """All post-its and flows, stage by stage, as CSV text (UTF-8 with BOM, ";" between cells)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(csv_headers())
    for number, stage in enumerate(workshop.stages.all(), 1):
        for row in get_kind(stage.kind).rows(stage):
            row = {**row, "stage_number": number, "stage": stage.title}
            writer.writerow([_cell(row.get(key, "")) for key, _label in CSV_COLUMNS])
    return out.getvalue()


def _cell(value):
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula is written as text, and so is
    # any piece of it that a reading with "," or ";" could make a cell of:
    # "x;=1+1;" must not give a "=1+1" cell, whichever way the file is split.
    return _CELL_START.sub(lambda m: f"{m.group(1)}{m.group(2)}'", text)
