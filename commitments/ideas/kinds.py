"""The `ideas` stage kind: the room's challenges, the ideas under each, and a dot vote on them.

Challenges come from other stages (the tension matrix offers them as
`registry.Item(type="challenge")`) or are written here. An idea can also be
promoted from a post-it (`accepts`), and keeps its origin through
`workshops.trace`.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from workshops.models import Trace
from workshops.registry import Item, StageKind, get_kind, register
from workshops.text import clean_key
from workshops.trace import Links, document_refs, links_for, ref, resolve

from ..votes import tally
from ..votes.models import Dot, Vote
from .models import Challenge, Idea

TEMPLATE = "commitments/ideas/ideas.html"
ACCEPTS = ("postit",)
NO_CHALLENGE = "none"


def challenge_key(challenge):
    """How a form names one of this stage's challenges ("c12"); others go by their ref."""
    return f"c{challenge.pk}"


def idea_items(stage, ideas, challenges):
    items = [Item(ref(i), "idea", i.text, stage.pk, i.author_id, i) for i in ideas]
    items += [Item(ref(c), "challenge", c.text, stage.pk, c.author_id, c) for c in challenges]
    return items


def ideas_items(stage):
    """The stage's ideas (merged ones count with the idea they joined) and its own challenges."""
    ideas = Idea.objects.filter(stage=stage, merged_into__isnull=True)
    return idea_items(stage, ideas, Challenge.objects.filter(stage=stage))


def other_items(stage):
    """The other stages' items, by type: challenges to answer, post-its to promote."""
    from workshops.models import Stage

    found = {}
    # Each kind reads its own items: one query or so per other stage, by design of the registry.
    for other in Stage.objects.filter(workshop_id=stage.workshop_id).exclude(pk=stage.pk):
        if other.pk == stage.pk:
            continue
        for item in get_kind(other.kind).items(other):
            found.setdefault(item.type, []).append(item)
    return found


# Links the board shows otherwise: an idea sits under the challenge it answers, and a
# merged idea's text (⊕) inside the idea it joined, which also took its origins.
UNDRAWN = (Trace.How.ANSWERS, Trace.How.MERGED)


def _shown(links):
    """An object's chips, without the links its place on the board already says."""
    if not links:
        return links
    return Links(
        [t for t in links.came_from if t.how not in UNDRAWN],
        [t for t in links.led_to if t.how not in UNDRAWN],
    )


def build_ideas(stage, audience="report", participant=None):
    """Everything the board and the report draw, read in a fixed number of queries."""
    everything = list(
        Idea.objects.filter(stage=stage).select_related("author").order_by("created_at", "pk")
    )
    challenges = list(Challenge.objects.filter(stage=stage).select_related("author"))
    others = other_items(stage)
    links = links_for(stage.workshop_id)
    ideas = [i for i in everything if i.merged_into_id is None]
    by_pk = {i.pk: i for i in everything}
    for idea in everything:
        idea.joined = []
        idea.links = _shown(links[idea])
    for idea in everything:
        if idea.merged_into_id in by_pk:
            by_pk[idea.merged_into_id].joined.append(idea)
    groups = [
        {
            "key": challenge_key(c),
            "text": c.text,
            "challenge": c,
            "links": _shown(links[c]),
            "ideas": [],
        }
        for c in challenges
    ]
    groups += [
        {"key": item.ref, "text": item.text, "challenge": None, "links": None, "ideas": []}
        for item in others.get("challenge", [])
    ]
    index = {g["key"]: g for g in groups}
    loose = {"key": NO_CHALLENGE, "text": "", "challenge": None, "links": None, "ideas": []}
    for idea in ideas:
        key = f"c{idea.challenge_id}" if idea.challenge_id else idea.challenge_ref
        index.get(key, loose)["ideas"].append(idea)
    if loose["ideas"]:
        groups.append(loose)
    items = idea_items(stage, ideas, challenges)
    vote = tally.current_vote(stage)
    vote_items = None
    if vote is not None:
        if vote.item_type in ("", "idea", "challenge"):
            vote_items = [i for i in items if not vote.item_type or i.type == vote.item_type]
        numbers = {}
        for number, item in enumerate(vote_items or [], 1):
            numbers[item.ref] = number
        for idea in ideas:
            idea.number = numbers.get(ref(idea))
    context = {
        "groups": groups,
        "ideas": ideas,
        "idea_count": len(ideas),
        "challenge_choices": [(g["key"], g["text"]) for g in groups if g["key"] != NO_CHALLENGE],
        **tally.vote_context(stage, audience, participant, items=vote_items, vote=vote),
    }
    if audience == "facilitator":
        context["promotable"] = [i for t in ACCEPTS for i in others.get(t, [])]
        context["vote_types"] = sorted({i.type for i in items})
    return context


def ideas_context(stage, audience, participant):
    return build_ideas(stage, audience, participant)


def ideas_report_context(stage):
    context = build_ideas(stage, "report")
    votes = list(Vote.objects.filter(stage=stage).order_by("created_at", "pk"))
    context["report_votes"] = []
    for vote in votes:
        items = tally.vote_items(vote, stage)
        dots = tally.counted_dots(vote)
        context["report_votes"].append(
            {"vote": vote, "budgets": vote.budgets(), **tally.results(vote, items, dots)}
        )
    return context


def ideas_config():
    return {}


def ideas_clean_config(config):
    config = dict(config)
    if "planned_kind" in config:
        config["planned_kind"] = clean_key(config["planned_kind"])
    return config


def ideas_owners(stage):
    # Nothing on the board is edited by its author alone.
    return {}


def promote(stage, item, participant, op_id=None):
    from .actions import promote_item

    return promote_item(stage, item, participant=participant, op_id=op_id)


# Export, import and the CSV -------------------------------------------------------------


def ideas_export(stage, people):
    names = document_refs()
    challenges = list(Challenge.objects.filter(stage=stage).order_by("pk"))
    ideas = list(Idea.objects.filter(stage=stage).order_by("pk"))
    challenge_refs = {c.pk: n for n, c in enumerate(challenges, 1)}
    idea_refs = {i.pk: n for n, i in enumerate(ideas, 1)}

    def external(value):
        obj = resolve(value, stage.workshop_id) if value else None
        return names.name(obj) if obj is not None else ""

    data = {
        "challenges": [
            {
                "ref": challenge_refs[c.pk],
                "text": c.text,
                "author": people.get(c.author_id),
                "created_at": c.created_at.isoformat(),
                "trace_ref": names.name(c),
            }
            for c in challenges
        ],
        "ideas": [
            {
                "ref": idea_refs[i.pk],
                "challenge": challenge_refs.get(i.challenge_id),
                "challenge_ref": external(i.challenge_ref),
                "text": i.text,
                "author": people.get(i.author_id),
                "merged_into": idea_refs.get(i.merged_into_id),
                "created_at": i.created_at.isoformat(),
                "trace_ref": names.name(i),
            }
            for i in ideas
        ],
    }
    data["votes"] = [
        {
            "item_type": v.item_type,
            "budget": v.budget,
            "cap": v.cap,
            "double": v.double,
            "first_label": v.first_label,
            "second_label": v.second_label,
            "allow_own": v.allow_own,
            "anonymous": v.anonymous,
            "hidden": v.hidden,
            "state": v.state,
            "dots": [
                {
                    "participant": people.get(d.participant_id),
                    "item": external(d.item_ref),
                    "budget": d.budget,
                }
                for d in v.dots.order_by("pk")
            ],
        }
        for v in Vote.objects.filter(stage=stage).order_by("pk")
    ]
    return data


def ideas_import(stage, data, people):
    """Recreate the stage from `ideas_export` data (a new workshop, nobody in its room yet)."""
    from django.utils import timezone

    from workshops.exports.transfer import store, text_of

    data = data if isinstance(data, dict) else {}
    names = document_refs()

    def bound_ref(value):
        obj = names.bound.get(value) if isinstance(value, str) else None
        return ref(obj) if obj is not None else ""

    challenges = {}
    for item in data.get("challenges") or []:
        challenge = challenges[item["ref"]] = store(
            Challenge(
                workshop=stage.workshop,
                stage=stage,
                text=" ".join(text_of(item, "text", Challenge, required=True).split()),
                author=people.get(item.get("author")),
            )
        )
        names.bind(item.get("trace_ref"), challenge)
    ideas, merged = {}, []
    for item in data.get("ideas") or []:
        challenge = challenges.get(item.get("challenge")) if item.get("challenge") else None
        idea = ideas[item["ref"]] = store(
            Idea(
                workshop=stage.workshop,
                stage=stage,
                challenge=challenge,
                challenge_ref="" if challenge else bound_ref(item.get("challenge_ref")),
                text=text_of(item, "text", Idea, required=True),
                author=people.get(item.get("author")),
            )
        )
        names.bind(item.get("trace_ref"), idea)
        if item.get("merged_into"):
            merged.append((idea, item["merged_into"]))
    for idea, target in merged:
        idea.merge_into(ideas[target])
        idea.save(update_fields=["merged_into"])
    for item in data.get("votes") or []:
        state = item.get("state") if item.get("state") in Vote.State.values else "closed"
        vote = store(
            Vote(
                workshop=stage.workshop,
                stage=stage,
                item_type=item.get("item_type") or "",
                budget=int(item.get("budget") or 5),
                cap=int(item.get("cap") or 1),
                double=item.get("double") is True,
                first_label=text_of(item, "first_label", Vote),
                second_label=text_of(item, "second_label", Vote),
                allow_own=item.get("allow_own") is not False,
                anonymous=item.get("anonymous") is not False,
                hidden=item.get("hidden") is not False,
                state=state,
                closed_at=timezone.now() if state == "closed" else None,
            )
        )
        for dot in item.get("dots") or []:
            voter, item_ref = people.get(dot.get("participant")), bound_ref(dot.get("item"))
            budget = dot.get("budget") if dot.get("budget") in Dot.Budget.values else "first"
            if voter is not None and item_ref:
                store(Dot(vote=vote, participant=voter, item_ref=item_ref, budget=budget))


def ideas_rows(stage):
    """One CSV row per challenge of this stage and per idea (with its dots in the last vote)."""
    built = build_ideas(stage, "report")
    results = built.get("vote_results") or {}
    dots = {row["item"].ref: row for row in results.get("ranking", [])}
    rows = []
    for group in built["groups"]:
        if group["challenge"] is not None:
            rows.append(
                {
                    "type": _("challenge"),
                    "text": group["text"],
                    "author": _author(group["challenge"]),
                    "created_at": group["challenge"].created_at.isoformat(),
                }
            )
        for idea in group["ideas"]:
            texts = [idea.text, *(j.text for j in idea.joined)]
            row = dots.get(ref(idea))
            rows.append(
                {
                    "type": _("idea"),
                    "category": group["text"],
                    "state": ngettext("%(count)d dot", "%(count)d dots", row["total"])
                    % {"count": row["total"]}
                    if row
                    else "",
                    "text": "\n".join(texts),
                    "author": _author(idea),
                    "created_at": idea.created_at.isoformat(),
                }
            )
    return rows


def _author(obj):
    return obj.author.display_name if obj.author_id and obj.author else ""


def register_all():
    register(
        StageKind(
            key="ideas",
            label=gettext_lazy("Challenges and ideas"),
            template=TEMPLATE,
            context=ideas_context,
            report_template=TEMPLATE,
            report_context=ideas_report_context,
            report_css="commitments/ideas/report.css",
            default_config=ideas_config,
            writable=True,
            export=ideas_export,
            import_=ideas_import,
            rows=ideas_rows,
            owners=ideas_owners,
            clean_config=ideas_clean_config,
            items=ideas_items,
            accepts=ACCEPTS,
            promote=promote,
        )
    )
