"""What a journey board, its SVG drawings and its report read: one build, a few queries.

`build(stage)` reads the stage's situations, steps, post-its and emotions and
gives, per situation, the swimlanes (perspective × step cells), the heat-map
(counts and shading) and the emotion curves, with the zones of rupture. The
drawings' geometry is computed here; the template only draws it.
"""

from collections import defaultdict

from django.utils.translation import gettext as _

from workshops.models import Stage

from .models import (
    FEELING_FACES,
    MARK_ICONS,
    Emotion,
    Feeling,
    JourneyPostIt,
    Mark,
    Situation,
    Step,
)

KIND = "journey"
DEFAULT_THRESHOLD = 0.6
PERSPECTIVE_ICONS = {"client": "◨", "service": "◉", "supplier": "◧", "employee": "◆"}
# Each perspective's curve has its own line and point shape: colour is never the only signal.
LINE_STYLES = [
    {"colour": "#2f6fd6", "dash": "", "shape": "circle"},
    {"colour": "#8a4b00", "dash": "10 6", "shape": "square"},
    {"colour": "#6f43c9", "dash": "3 5", "shape": "triangle"},
    {"colour": "#1d6b45", "dash": "14 4 3 4", "shape": "diamond"},
]


def default_perspectives():
    return [
        {"key": "client", "label": _("Client’s side")},
        {"key": "service", "label": _("Service’s side")},
        {"key": "supplier", "label": _("Supplier’s side")},
    ]


def perspectives_of(stage):
    return perspectives_of_config(stage.config)


def perspectives_of_config(config):
    found = [
        p
        for p in (config or {}).get("perspectives") or []
        if isinstance(p, dict) and p.get("key")
    ]
    perspectives = found or default_perspectives()
    return [
        {
            "key": p["key"],
            "label": p.get("label") or p["key"],
            "icon": PERSPECTIVE_ICONS.get(p["key"], "●"),
        }
        for p in perspectives
    ]


def perspective_label(stage, key):
    return next((p["label"] for p in perspectives_of(stage) if p["key"] == key), key)


def threshold_of(stage):
    return threshold_of_config(stage.config)


def threshold_of_config(config):
    value = (config or {}).get("rupture_threshold", DEFAULT_THRESHOLD)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return DEFAULT_THRESHOLD
    return value if 0.5 <= value <= 1 else DEFAULT_THRESHOLD


def source_of(stage):
    """The stage whose steps and situations this journey walks: itself, or what it mirrors."""
    mirror = (stage.config or {}).get("mirror")
    if not mirror:
        return stage
    for other in Stage.objects.filter(workshop_id=stage.workshop_id, kind=KIND).exclude(
        pk=stage.pk
    ):
        if (other.config or {}).get("key") == mirror and other.position <= stage.position:
            return other
    return stage


def mirror_label(stage):
    source = source_of(stage)
    return source.title if source.pk != stage.pk else ""


def step_number(step):
    return (
        Step.objects.filter(
            stage_id=step.stage_id, proposed=False, position__lt=step.position
        ).count()
        + 1
    )


def marks():
    return [{"value": m.value, "label": m.label, "icon": MARK_ICONS[m.value]} for m in Mark]


def feelings():
    return [
        {
            "value": f.value,
            "label": f.label,
            "face": FEELING_FACES[f.value],
            "signed": f"{f.value:+d}",
        }
        for f in Feeling
    ]


def default_perspective(stage, participant):
    """A participant's side from their profile: clients → client, agents → service…"""
    keys = [p["key"] for p in perspectives_of(stage)]
    wanted = {
        "internal_client": ["client"],
        "external_client": ["client"],
        "agent": ["service", "employee"],
        "supplier": ["supplier"],
        "partner": ["supplier"],
    }.get(getattr(participant, "profile", ""), [])
    return next((k for k in wanted if k in keys), keys[0])


def counts_of(postits):
    counts = {"green": 0, "orange": 0, "red": 0}
    for postit in postits:
        counts[postit.colour] += 1
    return counts


def is_rupture(cells, threshold):
    """One side mostly green and another mostly red on the same step: a zone de rupture."""
    greens = reds = False
    for counts in cells:
        total = sum(counts.values())
        if not total:
            continue
        greens = greens or counts["green"] / total >= threshold
        reds = reds or counts["red"] / total >= threshold
    return greens and reds


def build(stage, *, hidden=False, situation_id=None):
    """The journey for every situation: steps, lanes, heat-map, curves and ruptures."""
    source = source_of(stage)
    situations = list(Situation.objects.filter(stage=source))
    steps = list(Step.objects.filter(stage=source))
    adopted = [s for s in situations if not s.proposed]
    journey_steps = [s for s in steps if not s.proposed]
    for number, step in enumerate(journey_steps, 1):
        step.number = number
    perspectives = perspectives_of(stage)
    postits = (
        [] if hidden else list(JourneyPostIt.objects.filter(stage=stage).select_related("author"))
    )
    emotions = list(
        Emotion.objects.filter(stage=stage).values_list(
            "situation_id", "step_id", "perspective", "value"
        )
    )
    threshold = threshold_of(stage)
    boards = [
        situation_board(stage, situation, journey_steps, perspectives, postits, emotions, threshold)
        for situation in adopted
    ]
    current = next((b for b in boards if b["situation"].pk == situation_id), None)
    return {
        "source": source,
        "is_mirror": source.pk != stage.pk,
        "situations": adopted,
        "proposed_situations": [s for s in situations if s.proposed],
        "steps": journey_steps,
        "proposed_steps": [s for s in steps if s.proposed],
        "perspectives": perspectives,
        "boards": boards,
        "current": current or (boards[0] if boards else None),
        "threshold_percent": round(threshold * 100),
        "postit_count": len(postits),
    }


def situation_board(stage, situation, steps, perspectives, postits, emotions, threshold):
    cells = defaultdict(list)
    for postit in postits:
        if postit.situation_id == situation.pk:
            cells[(postit.step_id, postit.perspective)].append(postit)
    # A post-it whose perspective left the stage's settings is shown in the first lane.
    keys = {p["key"] for p in perspectives}
    for step_id, key in list(cells):
        if key not in keys and perspectives:
            cells[(step_id, perspectives[0]["key"])].extend(cells.pop((step_id, key)))
    ratings = defaultdict(list)
    for situation_id, step_id, key, value in emotions:
        if situation_id == situation.pk:
            ratings[(step_id, key)].append(value)
    rows = []
    for index, perspective in enumerate(perspectives):
        row = {**perspective, "style": LINE_STYLES[index % len(LINE_STYLES)], "cells": []}
        for step in steps:
            items = cells.get((step.pk, perspective["key"]), [])
            values = ratings.get((step.pk, perspective["key"]), [])
            row["cells"].append(
                {
                    "step": step,
                    "postits": items,
                    "counts": counts_of(items),
                    "ratings": len(values),
                    "average": sum(values) / len(values) if values else None,
                }
            )
        rows.append(row)
    ruptures = []
    for column, step in enumerate(steps):
        step_cells = [row["cells"][column]["counts"] for row in rows]
        flagged = is_rupture(step_cells, threshold)
        for row in rows:
            row["cells"][column]["rupture"] = flagged
        if flagged:
            ruptures.append(step)
    rupture_ids = {s.pk for s in ruptures}
    by_step = [
        {
            "step": step,
            "rupture": step.pk in rupture_ids,
            "lanes": [
                {"label": row["label"], "postits": row["cells"][i]["postits"]} for row in rows
            ],
        }
        for i, step in enumerate(steps)
    ]
    uid = f"{stage.pk}-{situation.pk}"
    return {
        "by_step": by_step,
        "situation": situation,
        "rows": rows,
        "steps": [{"step": s, "rupture": s.pk in rupture_ids} for s in steps],
        "ruptures": ruptures,
        "heatmap": heatmap(uid, steps, rows, rupture_ids),
        "curve": curve(uid, steps, rows),
        "total": sum(len(c["postits"]) for r in rows for c in r["cells"]),
    }


# Drawings -------------------------------------------------------------------------------

LABEL_W = 190
CELL_W = 132
HEAD_H = 78
CELL_H = 74


def _short(text, limit):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _head_lines(name):
    """A step's name on two lines at most, in the header."""
    words, lines, line = str(name).split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > 16 and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], _short(" ".join(lines[1:]), 16)]
    return [_short(x, 17) for x in lines]


def _shade(share):
    """White to red by the share of orange and red post-its."""
    low, high = (255, 255, 255), (198, 40, 40)
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(uid, steps, rows, rupture_ids):
    width = LABEL_W + CELL_W * max(len(steps), 1)
    height = HEAD_H + CELL_H * max(len(rows), 1) + 34
    columns = []
    for index, step in enumerate(steps):
        x = LABEL_W + CELL_W * index
        columns.append(
            {
                "x": x,
                "mid": x + CELL_W / 2,
                "lines": _head_lines(f"{step.number}. {step.name}"),
                "step": step,
                "rupture": step.pk in rupture_ids,
            }
        )
    lanes = []
    for index, row in enumerate(rows):
        y = HEAD_H + CELL_H * index
        cells = []
        for column, cell in zip(columns, row["cells"], strict=True):
            counts = cell["counts"]
            total = sum(counts.values())
            share = (counts["orange"] + counts["red"]) / total if total else 0
            cells.append(
                {
                    "x": column["x"],
                    "mid": column["mid"],
                    "fill": _shade(share) if total else "#f3f4f6",
                    "ink": "#ffffff" if share > 0.55 else "#1d2430",
                    "counts": counts,
                    "total": total,
                    "percent": round(share * 100),
                    "rupture": cell["rupture"],
                }
            )
        lanes.append({"y": y, "mid": y + CELL_H / 2, "row": row, "cells": cells})
    return {
        "uid": uid,
        "top": HEAD_H - 4,
        "width": width,
        "height": height,
        "columns": columns,
        "lanes": lanes,
        "bottom": HEAD_H + CELL_H * len(rows),
        "legend_y": HEAD_H + CELL_H * len(rows) + 24,
        "grid_height": CELL_H * len(rows),
        "icons": MARK_ICONS,
        "empty": not steps,
    }


CURVE_TOP = 30
CURVE_STEP_Y = 42  # one point of the scale


CURVE_RIGHT = 70  # room for the last point's "+1.5 (n=4)"
# A point's label, "+1.5 (n=4)" in bold 12 px: one baseline to the next at least, so that
# two labels' boxes never meet; the first baseline low enough to stay inside the drawing and
# the last high enough to stay above the steps' numbers.
LABEL_PITCH = 17
LABEL_LIFT = 12  # a label sits above and to the right of its point


def _spread(wanted, low, high, pitch=LABEL_PITCH):
    """Baselines as near the wanted ones as can be, in their order, `pitch` apart, in [low, high].

    Labels that would meet are grouped and each group centred on the mean of its wishes,
    then kept inside the bounds; groups that meet again are merged.
    """
    groups = []  # [start, [wanted...]]
    for value in wanted:
        group = [value, [value]]
        while True:
            members = group[1]
            start = sum(w - pitch * k for k, w in enumerate(members)) / len(members)
            group[0] = min(max(start, low), high - pitch * (len(members) - 1))
            if groups and groups[-1][0] + pitch * len(groups[-1][1]) > group[0]:
                previous = groups.pop()
                group = [previous[0], previous[1] + members]
                continue
            break
        groups.append(group)
    return [start + pitch * k for start, members in groups for k in range(len(members))]


def curve(uid, steps, rows):
    width = LABEL_W + CELL_W * max(len(steps), 1) + CURVE_RIGHT
    bottom = CURVE_TOP + CURVE_STEP_Y * 4
    height = bottom + 74 + 26 * ((len(rows) + 1) // 2)

    def y_of(value):
        return CURVE_TOP + (2 - value) * CURVE_STEP_Y

    scale = [{"y": y_of(f["value"]), "label": f"{f['signed']} {f['label']}"} for f in feelings()]
    columns = [
        {"x": LABEL_W + CELL_W * i + CELL_W / 2, "step": s, "label": f"{s.number}"}
        for i, s in enumerate(steps)
    ]
    lines = []
    for index, row in enumerate(rows):
        points, path, pen_up = [], [], True
        for number, (column, cell) in enumerate(zip(columns, row["cells"], strict=True)):
            if cell["average"] is None:
                pen_up = True
                continue
            x, y = column["x"], y_of(cell["average"])
            path.append(f"{'M' if pen_up else 'L'} {x:.1f} {y:.1f}")
            pen_up = False
            points.append(
                {
                    "x": x,
                    "y": y,
                    "count": cell["ratings"],
                    "average": f"{cell['average']:+.1f}",
                    "label_x": x + 10,
                    "column": number,
                }
            )
        legend_x = LABEL_W + (index % 2) * 360
        legend_y = bottom + 52 + 26 * (index // 2)
        lines.append(
            {
                "row": row,
                "style": row["style"],
                "path": " ".join(path),
                "points": points,
                "legend_x": legend_x,
                "legend_y": legend_y,
            }
        )
    # At each step, the labels of the points there, in the points' order, pushed apart: where
    # lines cross or perspectives give the same rating, no two labels sit on each other.
    axis_y = bottom + 24
    for number in range(len(columns)):
        here = [
            (point["y"], index, point)
            for index, line in enumerate(lines)
            for point in line["points"]
            if point["column"] == number
        ]
        here.sort(key=lambda item: item[:2])
        wanted = [y - LABEL_LIFT for y, _index, _point in here]
        # Inside the drawing at the top; above the steps' numbers (14 px) at the bottom.
        for (_y, _index, point), label_y in zip(
            here, _spread(wanted, LABEL_LIFT + 2, axis_y - 14 - 6), strict=True
        ):
            point["label_y"] = round(label_y, 1)
    return {
        "uid": uid,
        "width": width,
        "height": height,
        "scale": scale,
        "columns": columns,
        "lines": lines,
        "zero_y": y_of(0),
        "top": CURVE_TOP,
        "bottom": bottom,
        "left": LABEL_W - 10,
        "right": width - CURVE_RIGHT,
        "axis_y": axis_y,
        "rated": any(line["points"] for line in lines),
    }


def compare(stage, built):
    """A mirror beside its source: both curves and both heat-map rows on the same steps."""
    source = built["source"]
    if source.pk == stage.pk:
        return None
    theirs = build(source)
    boards = []
    for mine in built["boards"]:
        other = next(
            (b for b in theirs["boards"] if b["situation"].pk == mine["situation"].pk), None
        )
        if other is None:
            continue
        rows = []
        both = [*other["rows"], *mine["rows"]]
        # Each row by its side ("Côté client", "Côté collaborateur"); by its journey too
        # when both journeys have a side of the same name.
        labels = [row["label"] for row in both]
        for index, row in enumerate(both):
            title = source.title if index < len(other["rows"]) else stage.title
            label = row["label"]
            if labels.count(label) > 1:
                label = f"{_short(title, 16)} · {label}"
            rows.append(
                {
                    **row,
                    # Its own list: the comparison's ruptures must not mark the journey's grid.
                    "cells": list(row["cells"]),
                    "label": label,
                    "style": LINE_STYLES[index % len(LINE_STYLES)],
                }
            )
        steps = built["steps"]
        ruptures = []
        for column, step in enumerate(steps):
            flagged = is_rupture([r["cells"][column]["counts"] for r in rows], threshold_of(stage))
            for row in rows:
                row["cells"][column] = {**row["cells"][column], "rupture": flagged}
            if flagged:
                ruptures.append(step)
        ids = {s.pk for s in ruptures}
        boards.append(
            {
                "situation": mine["situation"],
                "ruptures": ruptures,
                "heatmap": heatmap(f"cmp-{stage.pk}-{mine['situation'].pk}", steps, rows, ids),
                "curve": curve(f"cmp-{stage.pk}-{mine['situation'].pk}", steps, rows),
            }
        )
    return {"source": source, "boards": boards}
