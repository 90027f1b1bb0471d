"""The tension matrix stage kind (`tensions`), registered with `workshops`.

One row per tension (written fresh, or promoted from an orange or red post-it
or a flow in friction), its causes tagged with the seed's kinds, its
opportunities, and the "Comment pourrions-nous… ?" challenges reworded from
them. The board, the push and the report share `journeys/tensions/board.html`.
"""

from collections import Counter

from django.db.models import Count, Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops import trace
from workshops.registry import Item, StageKind, register
from workshops.text import clean_key

from .models import CAUSE_ICONS, Cause, CauseKind, Challenge, Opportunity, Tension

TEMPLATE = "journeys/tensions/board.html"

# What may become a tension, by item type and mark. Wall post-its carry their
# colour: orange (misunderstanding, unclear) and red (friction, blockage) are
# the seed's tensions; green, and the walls' neutral colours, are not. Journey
# post-its carry the same marks. A map flow must be rated "friction".
PROMOTABLE = {"postit": {"orange", "red"}, "flow": {"friction"}}


def prompts():
    """The seed's three questions (Diagnostic participatif, step 4)."""
    return [
        _("Where are expectations left implicit?"),
        _("Which obligations are not shared?"),
        _("Is there an excess of dependency or of control?"),
    ]


def cause_kinds():
    return [
        {"value": value, "label": label, "icon": CAUSE_ICONS[value]}
        for value, label in CauseKind.choices
    ]


def tensions_of(stage):
    """The stage's tensions with their causes (and "me too" counts), opportunities
    and challenges: four queries, whatever the number of rows."""
    challenges = Prefetch("challenges", queryset=Challenge.objects.order_by("created_at", "pk"))
    return list(
        Tension.objects.filter(stage=stage)
        .order_by("created_at", "pk")
        .prefetch_related(
            Prefetch(
                "causes",
                queryset=Cause.objects.annotate(me_too_count=Count("me_toos")).order_by(
                    "created_at", "pk"
                ),
            ),
            Prefetch(
                "opportunities",
                queryset=Opportunity.objects.order_by("created_at", "pk").prefetch_related(
                    challenges
                ),
            ),
        )
    )


def chart(tensions):
    """Causes per kind, for the bar chart: every kind, even at zero, in the seed's order."""
    counts = Counter(cause.kind for tension in tensions for cause in tension.causes.all())
    top = max(counts.values(), default=0)
    bars = []
    for index, kind in enumerate(cause_kinds()):
        count = counts.get(kind["value"], 0)
        bars.append(
            {
                **kind,
                "count": count,
                "y": 8 + index * 34,
                # 0..300 px of bar for the largest count; a zero still shows its number.
                "width": round(300 * count / top) if top else 0,
            }
        )
    return {"bars": bars, "total": sum(counts.values()), "height": 8 + len(bars) * 34}


def tensions_context(stage, audience, participant):
    tensions = tensions_of(stage)
    for tension in tensions:
        tension.kinds = " ".join(sorted({c.kind for c in tension.causes.all()}))
    return {
        "tensions": tensions,
        "chart": chart(tensions),
        "cause_kinds": cause_kinds(),
        "prompts": prompts(),
        "links": trace.links_for(stage.workshop_id),
    }


def row_context(stage, tension):
    """One row and the chart, for a push after a cause, an opportunity, a "me too"."""
    tensions = tensions_of(stage)
    for row in tensions:
        row.kinds = " ".join(sorted({c.kind for c in row.causes.all()}))
    tension = next((t for t in tensions if t.pk == tension.pk), None)
    return {
        "tension": tension,
        "chart": chart(tensions),
        "cause_kinds": cause_kinds(),
        "links": trace.links_for(stage.workshop_id),
    }


def tensions_report_context(stage):
    context = tensions_context(stage, "report", None)
    context["chain"] = trace.chain(stage.workshop_id)
    return context


def tensions_export(stage, people):
    names = trace.document_refs()

    def who(participant_id):
        return None if stage.anonymous else people.get(participant_id)

    return {
        "tensions": [
            {
                "text": t.text,
                "author": who(t.author_id),
                "created_at": t.created_at.isoformat(),
                "trace_ref": names.name(t),
                "causes": [
                    {
                        "kind": c.kind,
                        "text": c.text,
                        "author": who(c.author_id),
                        # Who said "me too": people, not text, so kept on an anonymous stage.
                        "me_too": sorted(
                            people[m.participant_id]
                            for m in c.me_toos.all()
                            if m.participant_id in people
                        ),
                        "trace_ref": names.name(c),
                    }
                    for c in t.causes.all()
                ],
                "opportunities": [
                    {
                        "text": o.text,
                        "author": who(o.author_id),
                        "trace_ref": names.name(o),
                        "challenges": [
                            {
                                "text": ch.text,
                                "author": who(ch.author_id),
                                "trace_ref": names.name(ch),
                            }
                            for ch in o.challenges.all()
                        ],
                    }
                    for o in t.opportunities.all()
                ],
            }
            for t in Tension.objects.filter(stage=stage)
            .order_by("created_at", "pk")
            .prefetch_related("causes__me_toos", "opportunities__challenges")
        ]
    }


def tensions_import(stage, data, people):
    from workshops.exports.transfer import store, text_of

    from .models import MeToo

    data = data if isinstance(data, dict) else {}
    names = trace.document_refs()
    for item in data.get("tensions") or []:
        tension = store(
            Tension(
                workshop=stage.workshop,
                stage=stage,
                text=text_of(item, "text", Tension, required=True),
                author=people.get(item.get("author")),
            )
        )
        names.bind(item.get("trace_ref"), tension)
        for sub in item.get("causes") or []:
            cause = store(
                Cause(
                    tension=tension,
                    kind=sub.get("kind"),
                    text=text_of(sub, "text", Cause, required=True),
                    author=people.get(sub.get("author")),
                )
            )
            names.bind(sub.get("trace_ref"), cause)
            voters = {people[r].pk: people[r] for r in sub.get("me_too") or [] if r in people}
            for voter in voters.values():
                MeToo.objects.create(cause=cause, participant=voter)
        for sub in item.get("opportunities") or []:
            opportunity = store(
                Opportunity(
                    tension=tension,
                    text=text_of(sub, "text", Opportunity, required=True),
                    author=people.get(sub.get("author")),
                )
            )
            names.bind(sub.get("trace_ref"), opportunity)
            for leaf in sub.get("challenges") or []:
                challenge = store(
                    Challenge(
                        opportunity=opportunity,
                        text=text_of(leaf, "text", Challenge, required=True),
                        author=people.get(leaf.get("author")),
                    )
                )
                names.bind(leaf.get("trace_ref"), challenge)


def tensions_rows(stage):
    """One CSV row per tension, cause, opportunity and challenge."""
    rows = []

    def row(type, text, author, created_at, category="", state=""):
        name = ""
        if not stage.anonymous:
            name = author.display_name if author else _("Facilitator")
        rows.append(
            {
                "type": type,
                "category": category,
                "state": state,
                "text": text,
                "author": name,
                "created_at": created_at.isoformat(),
            }
        )

    tensions = (
        Tension.objects.filter(stage=stage)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "causes",
                queryset=Cause.objects.select_related("author").annotate(n=Count("me_toos")),
            ),
            "opportunities__author",
            "opportunities__challenges__author",
        )
    )
    for tension in tensions:
        row(_("tension"), tension.text, tension.author, tension.created_at)
        for cause in tension.causes.all():
            state = _("me too: %(count)s") % {"count": cause.n}
            row(
                _("cause"),
                cause.text,
                cause.author,
                cause.created_at,
                cause.get_kind_display(),
                state,
            )
        for opportunity in tension.opportunities.all():
            row(_("opportunity"), opportunity.text, opportunity.author, opportunity.created_at)
            for challenge in opportunity.challenges.all():
                row(_("challenge"), challenge.text, challenge.author, challenge.created_at)
    return rows


def tensions_items(stage):
    """Tensions and challenges, for votes and the later stages (ideas start from challenges)."""
    items = []
    for tension in tensions_of(stage):
        items.append(
            Item(trace.ref(tension), "tension", tension.text, stage.pk, tension.author_id, tension)
        )
        for opportunity in tension.opportunities.all():
            for challenge in opportunity.challenges.all():
                items.append(
                    Item(
                        trace.ref(challenge),
                        "challenge",
                        challenge.text,
                        stage.pk,
                        challenge.author_id,
                        challenge,
                    )
                )
    return items


def accepts_mark(item_type, mark):
    return mark in PROMOTABLE.get(item_type, ())


def promote(stage, item, participant, op_id):
    from .actions import promote_item

    return promote_item(stage, item, participant=participant, op_id=op_id)


def tensions_clean_config(config):
    """Nothing to set on a matrix; a method's leftover keys are kept as they are."""
    config = dict(config)
    if "planned_kind" in config:
        config["planned_kind"] = clean_key(config["planned_kind"])
    return config


def register_tensions():
    register(
        StageKind(
            key="tensions",
            label=gettext_lazy("Tension matrix"),
            template=TEMPLATE,
            context=tensions_context,
            report_template=TEMPLATE,
            report_context=tensions_report_context,
            report_css="journeys/tensions/report.css",
            export=tensions_export,
            import_=tensions_import,
            rows=tensions_rows,
            clean_config=tensions_clean_config,
            items=tensions_items,
            accepts=tuple(PROMOTABLE),
            accepts_mark=accepts_mark,
            promote=promote,
            promote_label=gettext_lazy("Tension"),
        )
    )
