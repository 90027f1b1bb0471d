"""Where an object came from, and what it led to, across stage apps.

The chain the methods build runs through several apps: a journey post-it
becomes a tension, a cause, an opportunity, a challenge, an idea, an action
sheet. Each step is one `Trace` row, written by the action that made the new
object (inside its `room_write`), so it is in the same transaction as the
object and the event.

A traceable model gives `trace_label()`: a short plain-text line that says
what it is and where it sits ("Alerte client · étape 3 · côté client ✖").
Its ends are named by `ref(obj)`, "<app_label>.<model>:<pk>", which votes and
other generic mechanisms use too.

Boards read the links of all their objects at once with `links_for()` (one
query), then `trace_links` renders the chips. Nothing here imports a stage
app.
"""

from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.apps import apps

from .models import Trace
from .text import normalise

LABEL_MAX = Trace._meta.get_field("origin_label").max_length


def type_of(obj):
    return obj._meta.label_lower


def ref(obj):
    """A document-wide name for any object: "journeys.postit:12"."""
    return f"{type_of(obj)}:{obj.pk}"


def resolve(value, workshop_id=None):
    """The object a `ref()` names, or None; with `workshop_id`, only if it is that workshop's.

    The model must have a `workshop` (or `stage.workshop`) to be checked.
    """
    if not isinstance(value, str) or ":" not in value:
        return None
    label, _sep, pk = value.rpartition(":")
    try:
        model = apps.get_model(label)
        pk = int(pk)
    except (LookupError, ValueError):
        return None
    obj = model._default_manager.filter(pk=pk).first()
    if obj is None or workshop_id is None:
        return obj
    return obj if workshop_of(obj) == workshop_id else None


def workshop_of(obj):
    if hasattr(obj, "workshop_id"):
        return obj.workshop_id
    stage = getattr(obj, "stage", None)
    return stage.workshop_id if stage is not None else None


def label_of(obj):
    label = obj.trace_label() if hasattr(obj, "trace_label") else str(obj)
    label = normalise(label, multiline=False)
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def link(origin, derived, how=Trace.How.PROMOTED):
    """Record that `derived` came from `origin` (both of one workshop); idempotent."""
    workshop_id = workshop_of(derived) or workshop_of(origin)
    trace, _created = Trace.objects.get_or_create(
        origin_type=type_of(origin),
        origin_id=origin.pk,
        derived_type=type_of(derived),
        derived_id=derived.pk,
        defaults={
            "workshop_id": workshop_id,
            "origin_label": label_of(origin),
            "derived_label": label_of(derived),
            "how": how,
        },
    )
    return trace


def relabel(obj):
    """After an edit: every link to or from `obj` shows its new label."""
    label = label_of(obj)
    Trace.objects.filter(origin_type=type_of(obj), origin_id=obj.pk).update(origin_label=label)
    Trace.objects.filter(derived_type=type_of(obj), derived_id=obj.pk).update(derived_label=label)


def origins(obj):
    """The links `obj` came from, oldest first."""
    return list(Trace.objects.filter(derived_type=type_of(obj), derived_id=obj.pk))


def descendants(obj):
    """The links `obj` led to, oldest first."""
    return list(Trace.objects.filter(origin_type=type_of(obj), origin_id=obj.pk))


@dataclass
class Links:
    """One object's chips: where it comes from and what it led to (Trace rows)."""

    came_from: list
    led_to: list

    def __bool__(self):
        return bool(self.came_from or self.led_to)


NO_LINKS = Links([], [])


class LinkMap:
    """The links of many objects, from one query: `links[obj]` gives its `Links`."""

    def __init__(self, traces):
        self.came_from = defaultdict(list)
        self.led_to = defaultdict(list)
        for trace in traces:
            self.came_from[trace.derived_type, trace.derived_id].append(trace)
            self.led_to[trace.origin_type, trace.origin_id].append(trace)

    def __getitem__(self, obj):
        key = (type_of(obj), obj.pk)
        if key not in self.came_from and key not in self.led_to:
            return NO_LINKS
        return Links(self.came_from.get(key, []), self.led_to.get(key, []))


def links_for(workshop_id):
    """Every link of a workshop, for a board or the report: one query."""
    return LinkMap(Trace.objects.filter(workshop_id=workshop_id))


def links_about(obj):
    """One object's links, for a fragment pushed after its edit: one query."""
    from django.db.models import Q

    kind = type_of(obj)
    return LinkMap(
        Trace.objects.filter(
            Q(origin_type=kind, origin_id=obj.pk) | Q(derived_type=kind, derived_id=obj.pk)
        )
    )


def chain(workshop_id):
    """The report's traceability table: each link, in the order it was made."""
    return list(Trace.objects.filter(workshop_id=workshop_id))


# The JSON export ---------------------------------------------------------------------------


class DocumentRefs:
    """Names objects across a document, so links survive export → import.

    On export, a kind calls `name(obj)` for each object it writes and stores
    the result under "trace_ref"; on import, it calls `bind(item.get("trace_ref"),
    new_obj)`. Refs are given in export order ("t1", "t2"…), so export → import
    → export gives the same document.
    """

    def __init__(self):
        self.names = {}
        self.bound = {}
        self.deferred = []

    def later(self, task):
        """Run `task()` once every stage is imported: for objects that point at objects
        of a later stage (a review of a stage moved below it)."""
        self.deferred.append(task)

    def name(self, obj):
        key = (type_of(obj), obj.pk)
        if key not in self.names:
            self.names[key] = f"t{len(self.names) + 1}"
        return self.names[key]

    def bind(self, value, obj):
        if isinstance(value, str) and value:
            self.bound[value] = obj

    def export(self, workshop_id):
        rows = []
        for trace in chain(workshop_id):
            origin = self.names.get((trace.origin_type, trace.origin_id))
            derived = self.names.get((trace.derived_type, trace.derived_id))
            if origin and derived:
                rows.append({"from": origin, "to": derived, "how": trace.how})
        return rows

    def import_(self, rows):
        """The exported links between objects the kinds bound; anything else is skipped."""
        for task in self.deferred:
            task()
        for row in rows or []:
            if not isinstance(row, dict):
                continue
            origin, derived = self.bound.get(row.get("from")), self.bound.get(row.get("to"))
            how = row.get("how") if row.get("how") in Trace.How.values else Trace.How.PROMOTED
            if origin is not None and derived is not None:
                link(origin, derived, how)


_current = ContextVar("document_refs", default=None)


def document_refs():
    """The refs of the export or import under way (a fresh one outside of them)."""
    return _current.get() or DocumentRefs()


@contextmanager
def refs_for_document():
    """`with refs_for_document() as refs:` around an export or an import."""
    refs = DocumentRefs()
    token = _current.set(refs)
    try:
        yield refs
    finally:
        _current.reset(token)
