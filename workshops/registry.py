"""Stage kinds register themselves here; `workshops` imports no stage app.

A stage kind says how its stage is drawn on the live page (per audience) and
in the report. The apps that own the kinds call `register()` from their
AppConfig.ready().
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class StageKind:
    key: str
    label: str
    # Template holding a `board` partial, rendered inside the live region.
    template: str
    # Extra context for the board: (stage, audience, participant) -> dict.
    context: Callable = field(default=lambda stage, audience, participant: {})
    # Template holding a `report` partial for the PDF, when the kind has one.
    report_template: str | None = None
    report_context: Callable = field(default=lambda stage: {})
    # Default stage.config for a new stage of this kind.
    default_config: Callable = field(default=dict)
    # Whether participants write on this stage (drives "I'm done" and locks).
    writable: bool = True
    # The stage's objects for the JSON export: (stage, people) -> JSON-able data,
    # where `people` maps a participant's pk to their ref in the document.
    export: Callable = field(default=lambda stage, people: [])
    # The inverse, into a new stage: (stage, data, people) with `people` ref -> Participant.
    import_: Callable = field(default=lambda stage, data, people: None)
    # The stage's rows for the CSV export: stage -> list of dicts (workshops/exports/transfer.py).
    rows: Callable = field(default=lambda stage: [])
    # Which participant owns which of the stage's objects: stage -> {pid: [ids]}.
    owners: Callable = field(default=lambda stage: {})
    # The kind's own settings in the stage editor: a Form class built with
    # (data, config=stage.config), whose fields join the stage form's, and whose
    # `apply(config)` gives the edited config.
    config_form: type | None = None
    # A blank workshop's first stage, when this kind opens one: () -> Stage fields
    # (in the active language). The first registered kind that has one is used.
    blank_stage: Callable | None = None
    # A template of CSS rules for the PDF report's section (the report's <style>).
    report_css: str | None = None
    # The stage's config as it may be stored: config -> config, or ValidationError.
    # Stage.clean() calls it, so the stage editor and the import are both checked.
    clean_config: Callable = field(default=lambda config: config)
    # What the stage offers to generic mechanisms (votes, promotion, later
    # stages): stage -> list of `Item`. A later stage finds, say, the
    # challenges of the workshop with `workshop_items(workshop, "challenge")`.
    items: Callable = field(default=lambda stage: [])
    # Item types that can be promoted into a stage of this kind (a tension from a
    # red post-it or a flow in friction), and how: (stage, item, participant, op_id)
    # -> the new object. The kind's own action does it, with `room_write` and
    # `trace.link(item.obj, new)`, so the origin shows what it led to.
    accepts: tuple = ()
    promote: Callable | None = None
    # Which of those items it takes, by their mark: (item_type, mark) -> bool (a
    # tension comes from an orange or red post-it, not a green one).
    accepts_mark: Callable = field(default=lambda item_type, mark: True)
    # The label of the promotion button ("→ Tension"), when it takes items.
    promote_label: str = ""
    # Whether the workshop's report draws it. A review's stages are not the
    # workshop's history: they have a report of their own.
    in_workshop_report: bool = True


@dataclass(frozen=True)
class Item:
    """One thing on a stage that others may point at: vote for, promote, answer.

    `ref` is `workshops.trace.ref(obj)`; `type` says what it is ("postit",
    "flow", "tension", "challenge", "idea"…); `text` is plain text.
    """

    ref: str
    type: str
    text: str
    stage_id: int
    author_id: int | None = None
    obj: object = None
    # Its colour or rating, for filters and promotion: "red", "orange", "friction"…
    mark: str = ""


_kinds: dict[str, StageKind] = {}

FALLBACK = StageKind(
    key="",
    label=_("Stage"),
    template="workshops/kinds/plain.html",
    writable=False,
)


def register(kind: StageKind) -> StageKind:
    _kinds[kind.key] = kind
    return kind


def get_kind(key: str) -> StageKind:
    return _kinds.get(key, FALLBACK)


def kind_choices():
    return [(k.key, k.label) for k in _kinds.values()]


def all_kinds():
    return list(_kinds.values())


# Templates an app adds to the console's stage list (a review's opening form): each is
# included with the stage list's context (workshop, stages).
_console_tools: list[str] = []


def register_console_tool(template: str) -> None:
    if template not in _console_tools:
        _console_tools.append(template)


def console_tools():
    return list(_console_tools)


# Templates an app adds to the phone's footer (a link to one's commitments): each is
# included with the page's context (workshop, participant).
_phone_tools: list[str] = []


def register_phone_tool(template: str) -> None:
    if template not in _phone_tools:
        _phone_tools.append(template)


def phone_tools():
    return list(_phone_tools)


def workshop_items(workshop, type=None):
    """Every stage's items, in stage order; only those of `type` if given."""
    found = []
    for stage in workshop.stages.all():
        found.extend(
            item for item in get_kind(stage.kind).items(stage) if type is None or item.type == type
        )
    return found


def promotion_targets(workshop, item_type, mark=None, stages=None):
    """The workshop's stages that accept items of `item_type` (with `mark`), in stage order.

    `stages`, when the caller has them already, saves the query."""
    stages = workshop.stages.all() if stages is None else stages
    return [stage for stage in stages if accepts(stage, item_type, mark)]


def accepts(stage, item_type, mark=None):
    kind = get_kind(stage.kind)
    if item_type not in kind.accepts or kind.promote is None:
        return False
    return mark is None or kind.accepts_mark(item_type, mark)


def item_of(obj):
    """The `Item` its stage's kind offers for `obj`, or None (hidden, or not offered)."""
    from .trace import ref

    stage = getattr(obj, "stage", None)
    if stage is None:
        return None
    wanted = ref(obj)
    return next((i for i in get_kind(stage.kind).items(stage) if i.ref == wanted), None)


def opening_kind():
    """The kind a blank workshop starts with, or None when no installed app offers one."""
    return next((k for k in _kinds.values() if k.blank_stage is not None), None)


def promotion_choices(workshop, item_type, mark, stages=None):
    """What `workshops/_promote.html` offers for one item: [{pk, title, label}]."""
    return [
        {"pk": s.pk, "title": s.title, "label": get_kind(s.kind).promote_label or s.title}
        for s in promotion_targets(workshop, item_type, mark, stages)
    ]


def could_promote(item_type, mark):
    """Whether any registered kind takes such an item (no query)."""
    return any(
        k.promote is not None and item_type in k.accepts and k.accepts_mark(item_type, mark)
        for k in _kinds.values()
    )


def promotion_menu(workshop_id, item_type, marks):
    """{mark: [{pk, title, label}]}: where an item of `item_type` with each mark may be
    promoted, for `_promote.html`. One query for the stages, none when no kind takes them."""
    marks = [m for m in dict.fromkeys(marks) if could_promote(item_type, m)]
    if not marks:
        return {}
    from .models import Stage

    stages = list(Stage.objects.filter(workshop_id=workshop_id).order_by("position", "pk"))
    return {m: promotion_choices(None, item_type, m, stages) for m in marks}
