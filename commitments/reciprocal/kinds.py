"""The `reciprocal` stage kind: the table of reciprocal commitments between services.

Rows come from the map (`registry.workshop_items(workshop, "actor")`, never
`mapping` itself) or are typed in. A row taken from an actor is tied to it by
its trace link: the board reads the actor's current name; when the actor is
gone, the row stays, marked deleted, under the name the link kept.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.models import Trace
from workshops.registry import Item, StageKind, register, workshop_items
from workshops.text import clean_key
from workshops.trace import document_refs, ref, type_of

from .models import Holder, Row
from .presence import in_room, organisations

TEMPLATE = "commitments/reciprocal/table.html"
ROW_TYPE = "commitments.row"


def _actor_traces(stage):
    """{row pk: the Trace from its actor} (one query)."""
    found = {}
    for trace in Trace.objects.filter(
        workshop_id=stage.workshop_id, derived_type=ROW_TYPE, how=Trace.How.PROMOTED
    ).order_by("pk"):
        if trace.origin_type == "mapping.actor":
            found.setdefault(trace.derived_id, trace)
    return found


def build_table(stage, audience="report", participant=None):
    rows = list(Row.objects.filter(stage=stage))
    holders = list(Holder.objects.filter(stage=stage).select_related("participant"))
    traces = _actor_traces(stage)
    actors = (
        {(type_of(i.obj), i.obj.pk): i for i in workshop_items(stage.workshop, "actor")}
        if traces
        else {}
    )
    present = organisations(stage)
    by_row = {}
    for holder in holders:
        by_row.setdefault(holder.row_id, []).append(holder)
    mine = None
    missing_total = 0
    for row in rows:
        trace = traces.get(row.pk)
        row.from_actor = trace is not None
        row.actor_deleted = False
        row.shown_label = row.label
        if trace is not None:
            item = actors.get((trace.origin_type, trace.origin_id))
            if item is None:
                row.actor_deleted = True
                row.shown_label = row.label or trace.origin_label
            else:
                row.shown_label = item.text
        row.holder_list = [(h.pk, h.participant) for h in by_row.get(row.pk, [])]
        row.pair = [h.participant for h in by_row.get(row.pk, [])]
        row.in_room = in_room(row.shown_label, present)
        row.cells = [
            {"field": f, "text": getattr(row, f), "label": label}
            for f, label in _columns(row.shown_label)
        ]
        if row.in_room or row.they_commit:
            row.cells.append(
                {
                    "field": Row.Field.THEY_COMMIT,
                    "text": row.they_commit,
                    "label": _("%(service)s commits to") % {"service": row.shown_label},
                }
            )
        row.missing = [c for c in row.cells if not c["text"].strip()]
        row.writable_cells = [
            {"field": Row.Field.ACCEPTABLE, "text": row.acceptable, "label": _("Acceptable")},
            {"field": Row.Field.UNACCEPTABLE, "text": row.unacceptable, "label": _("Unacceptable")},
            *row.cells,
        ]
        missing_total += len(row.missing)
        row.is_mine = participant is not None and any(p.pk == participant.pk for p in row.pair)
        if row.is_mine:
            mine = row
    return {
        "rows": rows,
        "my_row": mine,
        "four_columns": any(len(r.cells) == 4 for r in rows),
        "missing_total": missing_total,
        "follow_up": bool(stage.config.get("follow_up")),
        "fields": Row.Field.choices,
        "circles": [("clients", _("Clients and users")), ("suppliers", _("Suppliers"))],
    }


def _columns(service):
    return [
        (
            Row.Field.EXPECTS_FROM_US,
            _("Service %(service)s expects from us") % {"service": service},
        ),
        (Row.Field.WE_COMMIT, _("We commit to")),
        (Row.Field.WE_EXPECT, _("We expect from service %(service)s") % {"service": service}),
    ]


def row_label(stage, row):
    """The row's name as the board shows it (its actor's current name when it has one)."""
    for shown in build_table(stage)["rows"]:
        if shown.pk == row.pk:
            return shown.shown_label, shown.in_room
    return row.label, False


def table_context(stage, audience, participant):
    return build_table(stage, audience, participant)


def table_report_context(stage):
    return build_table(stage)


def table_config():
    return {"follow_up": False}


def table_clean_config(config):
    config = dict(config)
    if "planned_kind" in config:
        config["planned_kind"] = clean_key(config["planned_kind"])
    if "follow_up" in config and not isinstance(config["follow_up"], bool):
        from django.core.exceptions import ValidationError

        raise ValidationError(_("The follow-up setting is on or off."))
    return config


def table_owners(stage):
    """Each participant's row (the is-own mark), by its pair."""
    owners = {}
    for holder in Holder.objects.filter(stage=stage):
        # Minus the holder's id: the row's pair list marks it (see table.html).
        owners.setdefault(holder.participant_id, []).append(-holder.pk)
    return owners


def table_items(stage):
    return [
        Item(ref(r), "interface", r.label, stage.pk, None, r)
        for r in Row.objects.filter(stage=stage)
    ]


FIELDS = (
    "expects_from_us",
    "we_commit",
    "we_expect",
    "they_commit",
    "acceptable",
    "unacceptable",
    "feedback",
)


def table_export(stage, people):
    names = document_refs()
    return {
        "rows": [
            {
                "label": r.label,
                "position": r.position,
                **{f: getattr(r, f) for f in FIELDS},
                "met": r.met,
                "met_on": r.met_on.isoformat() if r.met_on else None,
                "pair": [people.get(h.participant_id) for h in r.holders.order_by("pk")],
                "trace_ref": names.name(r),
            }
            for r in Row.objects.filter(stage=stage).order_by("position", "pk")
        ]
    }


def table_import(stage, data, people):
    import datetime

    from workshops.exports.transfer import store, text_of

    data = data if isinstance(data, dict) else {}
    names = document_refs()
    for item in data.get("rows") or []:
        met_on = item.get("met_on")
        row = store(
            Row(
                workshop=stage.workshop,
                stage=stage,
                label=text_of(item, "label", Row, required=True),
                position=int(item.get("position") or 0),
                met=item.get("met") is True,
                met_on=datetime.date.fromisoformat(met_on) if met_on else None,
                **{f: text_of(item, f, Row) for f in FIELDS},
            )
        )
        names.bind(item.get("trace_ref"), row)
        for person in item.get("pair") or []:
            participant = people.get(person)
            if participant is not None:
                store(Holder(stage=stage, row=row, participant=participant))


def table_rows(stage):
    built = build_table(stage)
    rows = []
    for row in built["rows"]:
        state = []
        if row.actor_deleted:
            state.append(_("actor deleted from the map"))
        if row.met:
            state.append(
                _("met on %(date)s") % {"date": row.met_on.isoformat()} if row.met_on else _("met")
            )
        rows.append(
            {
                "type": _("interface"),
                "category": row.shown_label,
                "state": ", ".join(state),
                "they_expect": row.expects_from_us,
                "text": row.we_commit,
                "we_expect": row.we_expect,
                "mismatch": "\n".join(
                    t
                    for t in (
                        row.they_commit
                        and _("%(service)s commits to: %(text)s")
                        % {"service": row.shown_label, "text": row.they_commit},
                        row.acceptable and _("Acceptable: %(text)s") % {"text": row.acceptable},
                        row.unacceptable
                        and _("Unacceptable: %(text)s") % {"text": row.unacceptable},
                        row.feedback and _("Feedback: %(text)s") % {"text": row.feedback},
                    )
                    if t
                ),
                "author": ", ".join(p.display_name for p in row.pair),
                "created_at": row.created_at.isoformat(),
            }
        )
    return rows


def register_all():
    register(
        StageKind(
            key="reciprocal",
            label=gettext_lazy("Reciprocal commitments"),
            template=TEMPLATE,
            context=table_context,
            report_template=TEMPLATE,
            report_context=table_report_context,
            report_css="commitments/reciprocal/report.css",
            default_config=table_config,
            writable=True,
            export=table_export,
            import_=table_import,
            rows=table_rows,
            owners=table_owners,
            clean_config=table_clean_config,
            items=table_items,
        )
    )
