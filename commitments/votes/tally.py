"""What a vote shows: its items, each person's ballot, the counts, the ranking and the 2-D chart.

Read in a fixed number of queries whatever the number of items and dots, so
the board stays pinned (tests/test_stage_kinds.py BOARD_QUERIES).
A removed participant's dots are not counted: they lose their votes.
"""

from collections import Counter, defaultdict

from django.utils.translation import gettext as _

from workshops.registry import get_kind

from .models import Dot, Vote

# The chart's drawing, in SVG units (the same template on screen and in the PDF).
CHART_WIDTH, CHART_HEIGHT = 720, 480
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 70, 24, 24, 64
POINT_RADIUS = 15
# About one character of the labels' 16-unit type.
LABEL_CHAR_WIDTH = 9


def vote_items(vote, stage=None):
    """The stage's items this vote is on (registry.Item), in the stage's order."""
    stage = stage or vote.stage
    return [
        item
        for item in get_kind(stage.kind).items(stage)
        if not vote.item_type or item.type == vote.item_type
    ]


def current_vote(stage):
    """The stage's open vote, else its last closed one, else None (one query)."""
    votes = list(Vote.objects.filter(stage=stage).order_by("-state", "-created_at", "-pk")[:1])
    # "open" sorts after "closed": ordering by -state puts an open vote first.
    return votes[0] if votes else None


def counted_dots(vote):
    """The vote's dots whose voter is still in the room."""
    return list(
        Dot.objects.filter(vote=vote, participant__removed_at__isnull=True).select_related(
            "participant"
        )
    )


def ballot(vote, items, dots, participant):
    """One participant's ballot: per item and budget, their dots; what they have left."""
    budgets = vote.budgets()
    mine = Counter(
        (d.item_ref, d.budget) for d in dots if participant and d.participant_id == participant.pk
    )
    spent = Counter(d.budget for d in dots if participant and d.participant_id == participant.pk)
    rows = []
    for item in items:
        own = participant is not None and item.author_id == participant.pk
        cells = []
        for key, label in budgets:
            count = mine[item.ref, key]
            cells.append(
                {
                    "budget": key,
                    "label": label,
                    "count": count,
                    "dots": range(count),
                    "can_add": vote.is_open
                    and (vote.allow_own or not own)
                    and count < vote.cap
                    and spent[key] < vote.budget,
                    "can_remove": vote.is_open and count > 0,
                }
            )
        rows.append({"item": item, "own": own, "cells": cells})
    left = [
        {"budget": key, "label": label, "left": vote.budget - spent[key], "of": vote.budget}
        for key, label in budgets
    ]
    return {"rows": rows, "left": left}


def status(vote, dots, voters_possible):
    """The console's line: how many have voted, how many dots are left in total."""
    voters = {d.participant_id for d in dots}
    budgets = len(vote.budgets())
    return {
        "voted": len(voters),
        "people": voters_possible,
        "dots_left": max(voters_possible * vote.budget * budgets - len(dots), 0),
    }


def results(vote, items, dots):
    """The ranking (most dots first) and, for a double budget, the 2-D chart."""
    by_item = defaultdict(Counter)
    names = defaultdict(set)
    for dot in dots:
        by_item[dot.item_ref][dot.budget] += 1
        names[dot.item_ref].add(dot.participant.display_name)
    ranking = []
    for number, item in enumerate(items, 1):
        counts = by_item.get(item.ref, Counter())
        ranking.append(
            {
                "item": item,
                "number": number,
                "first": counts[Dot.Budget.FIRST],
                "second": counts[Dot.Budget.SECOND],
                "total": sum(counts.values()),
                "voters": [] if vote.anonymous else sorted(names.get(item.ref, ())),
            }
        )
    ranking.sort(key=lambda row: (-row["total"], row["number"]))
    for place, row in enumerate(ranking, 1):
        row["place"] = place
    return {"ranking": ranking, "chart": chart(vote, ranking) if vote.double else None}


def chart(vote, ranking):
    """Each item a point: x its first budget's dots (client), y its second's (employee)."""
    budgets = dict(vote.budgets())
    width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    top = max([row["first"] for row in ranking] + [row["second"] for row in ranking] + [2])
    # Even steps up to a round top, so the middle (the quadrants' border) is on a tick.
    top += top % 2

    # Half a dot of room on each side: a point at 0 or at the top stays inside the frame.
    def x_of(value):
        return round(CHART_LEFT + width * (value + 0.5) / (top + 1), 1)

    def y_of(value):
        return round(CHART_TOP + height - height * (value + 0.5) / (top + 1), 1)

    points = []
    placed = Counter()
    for row in sorted(ranking, key=lambda r: r["number"]):
        # Items on the same spot are fanned out a little, so each number stays readable.
        spot = (row["first"], row["second"])
        nudge = placed[spot]
        placed[spot] += 1
        points.append(
            {
                "row": row,
                "x": x_of(row["first"]) + nudge * 2 * POINT_RADIUS * 0.9,
                "y": y_of(row["second"]),
            }
        )
    right, bottom = CHART_LEFT + width, CHART_TOP + height
    _labels(points, right)
    middle_x, middle_y = x_of(top / 2), y_of(top / 2)
    ticks = [{"value": v, "x": x_of(v), "y": y_of(v)} for v in range(0, top + 1, max(top // 4, 1))]
    quadrants = [
        {
            "key": "both",
            "label": _("Both sides win"),
            "x": right - 8,
            "y": CHART_TOP + 22,
            "anchor": "end",
        },
        {
            "key": "employee",
            "label": _("Employees win"),
            "x": CHART_LEFT + 8,
            "y": CHART_TOP + 22,
            "anchor": "start",
        },
        {
            "key": "client",
            "label": _("Clients win"),
            "x": right - 8,
            "y": bottom - 10,
            "anchor": "end",
        },
        {
            "key": "neither",
            "label": _("Small gain"),
            "x": CHART_LEFT + 8,
            "y": bottom - 10,
            "anchor": "start",
        },
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "top": CHART_TOP,
        "right": right,
        "bottom": bottom,
        "plot_width": width,
        "plot_height": height,
        "middle_x": middle_x,
        "middle_y": middle_y,
        "half_width": right - middle_x,
        "half_height": middle_y - CHART_TOP,
        "ticks": ticks,
        "points": points,
        "quadrants": quadrants,
        "x_label": budgets[Dot.Budget.FIRST],
        "y_label": budgets[Dot.Budget.SECOND],
        "x_label_x": CHART_LEFT + width / 2,
        "x_label_y": CHART_HEIGHT - 14,
        "y_label_x": 18,
        "y_label_y": CHART_TOP + height / 2,
        "radius": POINT_RADIUS,
    }


def _labels(points, right):
    """Each point's short text, cut to what fits before the next point on its line.

    A label goes to the right of its point; the last of a line may go to the left,
    past its neighbour's label, when the frame leaves it more room there. The ranking
    gives every number its whole text."""
    lines = []
    for point in sorted(points, key=lambda p: (p["y"], p["x"])):
        if lines and abs(lines[-1][-1]["y"] - point["y"]) < 2 * POINT_RADIUS:
            lines[-1].append(point)
        else:
            lines.append([point])
    for line in lines:
        taken = CHART_LEFT  # where the previous label (or the frame) ends
        for index, point in enumerate(line):
            x = point["x"]
            following = line[index + 1]["x"] if index + 1 < len(line) else right
            room_right = following - x - 2 * POINT_RADIUS - 6
            room_left = x - taken - 2 * POINT_RADIUS - 6
            on_right = index + 1 < len(line) or room_right >= room_left
            text = _fit(point["row"]["item"].text, room_right if on_right else room_left)
            point["label"] = text
            point["anchor"] = "start" if on_right else "end"
            point["label_x"] = x + POINT_RADIUS + 6 if on_right else x - POINT_RADIUS - 6
            taken = (point["label_x"] + len(text) * LABEL_CHAR_WIDTH) if on_right else x
            taken = max(taken, x + POINT_RADIUS)


def _fit(text, room):
    fits = int(room // LABEL_CHAR_WIDTH)
    text = " ".join(text.split())
    if fits < 4:
        return ""
    return text if len(text) <= fits else text[: fits - 1] + "…"


def vote_context(stage, audience, participant, items=None, vote=None, people=None):
    """What the vote panel draws for one audience; {} when the stage has no vote.

    Any kind's board can include `commitments/votes/vote.html#panel` with this.
    """
    vote = vote if vote is not None else current_vote(stage)
    if vote is None:
        return {"vote": None}
    items = vote_items(vote, stage) if items is None else items
    dots = counted_dots(vote)
    if people is None:
        people = stage.workshop.participants.active().count()
    context = {
        "vote": vote,
        "vote_budgets": vote.budgets(),
        "vote_status": status(vote, dots, people),
        "vote_items": items,
    }
    if vote.shows_results:
        context["vote_results"] = results(vote, items, dots)
    if audience == "participant" and participant is not None:
        context["ballot"] = ballot(vote, items, dots, participant)
    return context
