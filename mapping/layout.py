"""Where each actor sits on the map, and how each flow is drawn between two actors.

The layout is deterministic and stable. Each side circle has a grid of slots,
taken in a fixed order: the column nearest the centre first, from the middle
row outwards. An actor keeps the slot it was given when it was created, so
adding an actor never moves the others. The grid's pitches are wider and
taller than the boxes, so two slotted actors never overlap.

The usual frame is 16:9 (WIDTH x FRAME_HEIGHT), the shape of a projector and
of a landscape page, and holds 12 actors in each side zone with names in type
large enough to read from the back of a room. Beyond that, extra rows go
below and the map grows taller without moving anyone (40 actors on one side
still fit, none overlapping). A corridor between the centre and each side
leaves room for the flows and their labels. A facilitator's nudge stores an
override position, and that position wins over the slot.

Names are never cut: they wrap onto up to three lines, and a name too long
for three lines gets smaller type (`fit_name`).

Map units are SVG user units. The SVG's viewBox is WIDTH x height(actors).
"""

import math
from collections import defaultdict
from dataclasses import dataclass, replace

WIDTH = 1200
FRAME_HEIGHT = 675  # 16:9
MARGIN = 8
TITLE_HEIGHT = 44  # zone titles sit above the first row
BOX_WIDTH, BOX_HEIGHT = 176, 80
COLUMN_PITCH, ROW_PITCH = 186, 90
ROWS = 6
COLUMNS = 2
ZONE_PADDING = 12
SIDE_ZONE_WIDTH = COLUMNS * COLUMN_PITCH - (COLUMN_PITCH - BOX_WIDTH) + 2 * ZONE_PADDING
CENTRE_BOX = (224, 176)
CENTRE_RADIUS = 160
LEGEND_HEIGHT = 72
FIRST_ROW_TOP = MARGIN + TITLE_HEIGHT
# Rows taken from the middle outwards, every other row first: the first actors of a
# circle sit level with the centre, with room between them for their flows' labels.
MIDDLE_ROW = ROWS // 2
ROW_ORDER = [
    MIDDLE_ROW + offset
    for offset in sorted(
        range(-MIDDLE_ROW, ROWS - MIDDLE_ROW), key=lambda o: (o % 2, abs(o), o > 0)
    )
]
SLOTS_PER_SIDE = ROWS * COLUMNS

# Type sizes, in map units. On a 1280x720 projector the map is drawn about 1066
# px wide, 0.89 px a unit: a name is 19.5 px there, and 29 px at 1920x1080.
NAME_SIZE, CENTRE_NAME_SIZE = 22, 24
NAME_MIN_SIZE = 12
SPLIT_MIN_SIZE = 6  # only for names no line can hold whole
LINE_HEIGHT = 1.1
BOX_PADDING = 8
NAME_HEIGHT_PADDING = 6
FLOW_LABEL_SIZE = 19
ZONE_TITLE_SIZE = 22
CENTRE_TITLE_SIZE = 17  # above the circle, between the corridors' labels
LEGEND_SIZE = 20

# A flow kind shows in its line style, never only in colour.
LINE_STYLES = {
    "information": {"dash": "10 6", "width": 2.5, "cap": "butt"},
    "request": {"dash": "1 7", "width": 4, "cap": "round"},
    "deliverable": {"dash": "", "width": 3.5, "cap": "butt"},
}
RATING_COLOURS = {"smooth": "#2e7d32", "unclear": "#c25e00", "friction": "#c62828", "": "#5b6575"}

# Characters per line of a flow label at FLOW_LABEL_SIZE (DejaVu Sans, a bit wide).
FLOW_LABEL_CHARS, FLOW_LABEL_LINES = 13, 2
FLOW_LABEL_LINE = 21


@dataclass(frozen=True)
class Placement:
    x: float
    y: float
    width: float
    height: float

    @property
    def left(self):
        return self.x - self.width / 2

    @property
    def top(self):
        return self.y - self.height / 2

    def overlaps(self, other):
        return (
            abs(self.x - other.x) * 2 < self.width + other.width
            and abs(self.y - other.y) * 2 < self.height + other.height
        )


def side_zone(circle):
    """(left, right) of a side circle's zone."""
    if circle == "suppliers":
        return MARGIN, MARGIN + SIDE_ZONE_WIDTH
    return WIDTH - MARGIN - SIDE_ZONE_WIDTH, WIDTH - MARGIN


def column_x(circle, column):
    """Column 0 is the one nearest the centre."""
    left, right = side_zone(circle)
    if circle == "suppliers":
        return right - ZONE_PADDING - BOX_WIDTH / 2 - column * COLUMN_PITCH
    return left + ZONE_PADDING + BOX_WIDTH / 2 + column * COLUMN_PITCH


def row_y(row):
    return FIRST_ROW_TOP + ROW_PITCH / 2 + row * ROW_PITCH


def centre_point():
    return WIDTH / 2, row_y(MIDDLE_ROW)


def slot_cell(slot):
    """(column, row) of a side slot."""
    if slot < SLOTS_PER_SIDE:
        return slot // ROWS, ROW_ORDER[slot % ROWS]
    extra = slot - SLOTS_PER_SIDE
    return extra % COLUMNS, ROWS + extra // COLUMNS


def slot_position(circle, slot):
    if circle == "centre":
        return centre_point()
    column, row = slot_cell(slot)
    return column_x(circle, column), row_y(row)


def next_slot(taken):
    """The first free slot: holes left by deleted actors are reused, nobody moves."""
    taken = set(taken)
    slot = 0
    while slot in taken:
        slot += 1
    return slot


def rows_needed(actors):
    rows = ROWS
    for actor in actors:
        if actor.circle != "centre":
            rows = max(rows, slot_cell(actor.slot)[1] + 1)
    return rows


def zones_bottom(actors):
    return FIRST_ROW_TOP + rows_needed(actors) * ROW_PITCH + MARGIN


def height(actors):
    bottom = zones_bottom(actors)
    lowest = max((actor.y + BOX_HEIGHT for actor in actors if actor.y is not None), default=0)
    return int(max(bottom + LEGEND_HEIGHT, lowest + LEGEND_HEIGHT, FRAME_HEIGHT))


def place(actor):
    width, height_ = CENTRE_BOX if actor.circle == "centre" else (BOX_WIDTH, BOX_HEIGHT)
    if actor.x is not None and actor.y is not None:
        x, y = actor.x, actor.y
    else:
        x, y = slot_position(actor.circle, actor.slot)
    return Placement(x, y, width, height_)


def clamp_position(x, y, actors=()):
    """A nudged position stays inside the map, box included."""
    half_w, half_h = BOX_WIDTH / 2, BOX_HEIGHT / 2
    bottom = max(zones_bottom(actors), FIRST_ROW_TOP + ROWS * ROW_PITCH) + ROW_PITCH * 2
    x = min(max(int(round(x)), half_w), WIDTH - half_w)
    y = min(max(int(round(y)), half_h), bottom)
    return int(x), int(y)


# Text that must fit in a box ------------------------------------------------------------


def wrap(text, chars, lines):
    """Up to `lines` lines of about `chars` characters; an ellipsis says when it was cut."""
    words = " ".join((text or "").split()).split(" ")
    out, current = [], ""
    for word in words:
        while len(word) > chars:  # a very long word is cut
            if current:
                out.append(current)
                current = ""
            out.append(word[:chars])
            word = word[chars:]
        candidate = f"{current} {word}".strip()
        if len(candidate) <= chars:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: chars - 1].rstrip() + "…"
    return out or [""]


# Advance widths of DejaVu Sans, in ems, by kind of character: close enough to
# wrap a name so that it stays inside its box on screen and in the PDF.
_NARROW = set("iljtfrI.,;:!|'()[] ’-")
_WIDE = set("mwMWŒœ@%")


def text_width(text, size, bold=False):
    width = 0.0
    for char in text:
        if char in _NARROW:
            width += 0.36
        elif char in _WIDE:
            width += 0.97
        elif char.isupper() or char.isdigit():
            width += 0.72
        else:
            width += 0.62
    return width * size * (1.14 if bold else 1.0)


def wrap_width(text, max_width, size, bold=False):
    """Whole words on lines no wider than max_width; None when one word alone is wider."""
    lines, current = [], ""
    for word in " ".join((text or "").split()).split(" "):
        if text_width(word, size, bold) > max_width:
            return None
        candidate = f"{current} {word}".strip()
        if text_width(candidate, size, bold) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = word
    lines.append(current)
    return lines


def _split_word(text, max_width, size, bold):
    """The last resort, for a word longer than a box at the smallest size: break it."""
    lines, current = [], ""
    for char in " ".join((text or "").split()):
        if char == " " and not current:
            continue
        if text_width(current + char + "-", size, bold) > max_width and current:
            lines.append(current if char == " " or current.endswith(" ") else current + "-")
            current = "" if char == " " else char
        else:
            current += char
    lines.append(current)
    return [line.strip() for line in lines]


def fit_name(text, max_width, max_height, size, bold=False, min_size=NAME_MIN_SIZE):
    """(lines, size): the whole name inside a box, never cut with an ellipsis.

    It wraps at `size` onto as many lines as the box holds (three for a side
    box); only a name that needs more gets smaller type, down to `min_size`.
    """
    for candidate in range(size, min_size - 1, -1):
        lines = wrap_width(text, max_width, candidate, bold)
        if lines is not None and len(lines) * candidate * LINE_HEIGHT <= max_height:
            return lines, candidate
    # A word wider than the box (a long compound, a run of letters): break it,
    # in the largest type where the pieces still fit.
    for candidate in range(size, SPLIT_MIN_SIZE - 1, -1):
        lines = _split_word(text, max_width, candidate, bold)
        if len(lines) * candidate * LINE_HEIGHT <= max_height:
            return lines, candidate
    return _split_word(text, max_width, SPLIT_MIN_SIZE, bold), SPLIT_MIN_SIZE


def name_lines(actor_name, is_centre):
    """The lines of an actor's name in its box, with their baselines, and the type size."""
    width, height_ = CENTRE_BOX if is_centre else (BOX_WIDTH, BOX_HEIGHT)
    size = CENTRE_NAME_SIZE if is_centre else NAME_SIZE
    lines, size = fit_name(
        actor_name, width - 2 * BOX_PADDING, height_ - NAME_HEIGHT_PADDING, size, bold=is_centre
    )
    step = size * LINE_HEIGHT
    # The first baseline: the block of lines is centred on the box's middle.
    first = -(len(lines) - 1) * step / 2 + size * 0.36
    return [{"text": line, "y": round(first + i * step, 1)} for i, line in enumerate(lines)], size


# Flows ---------------------------------------------------------------------------------

SPREAD = 40  # distance between two flows of the same pair, at their middle
# A label sits nearer its far end when a flow leaves the centre, where flows fan apart.
CENTRE_LABEL_AT = 0.6


@dataclass(frozen=True)
class FlowShape:
    path: str
    label_x: float
    label_y: float
    label_width: float
    label_height: float
    lines: tuple

    @property
    def label_left(self):
        return -self.label_width / 2

    @property
    def label_top(self):
        return -self.label_height / 2

    @property
    def icon_x(self):
        return round(-self.label_width / 2 + 12, 1)


def _box_exit(placement, dx, dy, pad=3):
    """Where a line leaving the box centre in direction (dx, dy) crosses its border."""
    if dx == 0 and dy == 0:
        return placement.x, placement.y
    half_w, half_h = placement.width / 2 + pad, placement.height / 2 + pad
    t = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    return placement.x + dx * t, placement.y + dy * t


def _bezier(a, c, b, t):
    return tuple((1 - t) ** 2 * a[i] + 2 * t * (1 - t) * c[i] + t**2 * b[i] for i in (0, 1))


def label_lines(label):
    lines = wrap(label, FLOW_LABEL_CHARS, FLOW_LABEL_LINES)
    top = -(len(lines) - 1) * FLOW_LABEL_LINE / 2 + 6
    return tuple((line, round(top + i * FLOW_LABEL_LINE, 1)) for i, line in enumerate(lines))


def flow_shapes(flows, placements, centre_pk=None):
    """{flow pk: FlowShape}; flows between the same two actors fan out side by side."""
    pairs = defaultdict(list)
    for flow in flows:
        pairs[tuple(sorted((flow.source_id, flow.target_id)))].append(flow)
    shapes = {}
    for (low, high), group in pairs.items():
        a, b = placements.get(low), placements.get(high)
        if a is None or b is None:
            continue
        # The bend is measured from the pair's own axis, so A→B and B→A fan out apart.
        dx, dy = b.x - a.x, b.y - a.y
        length = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / length, dx / length
        count = len(group)
        for index, flow in enumerate(group):
            offset = (index - (count - 1) / 2) * SPREAD * 2
            source, target = placements[flow.source_id], placements[flow.target_id]
            mx, my = (source.x + target.x) / 2, (source.y + target.y) / 2
            control = (mx + nx * offset, my + ny * offset)
            start = _box_exit(source, control[0] - source.x, control[1] - source.y)
            end = _box_exit(target, control[0] - target.x, control[1] - target.y, pad=5)
            at = 0.5
            if centre_pk is not None and flow.source_id == centre_pk:
                at = CENTRE_LABEL_AT
            elif centre_pk is not None and flow.target_id == centre_pk:
                at = 1 - CENTRE_LABEL_AT
            label_x, label_y = _bezier(start, control, end, at)
            lines = label_lines(flow.label)
            width = max(text_width(line, FLOW_LABEL_SIZE) for line, _y in lines) + 34
            shapes[flow.pk] = FlowShape(
                path=(
                    f"M {start[0]:.1f} {start[1]:.1f} Q {control[0]:.1f} {control[1]:.1f} "
                    f"{end[0]:.1f} {end[1]:.1f}"
                ),
                label_x=round(label_x, 1),
                label_y=round(label_y, 1),
                label_width=round(width, 1),
                label_height=len(lines) * FLOW_LABEL_LINE + 8,
                lines=lines,
            )
    return spread_labels(clear_of_boxes(shapes, placements, centre_pk))


LABEL_GAP = 4
SPREAD_ROUNDS = 30
SPREAD_LIMIT = 150  # beyond this many flows, labels stay where their curves put them


def clear_of_boxes(shapes, placements, centre_pk=None):
    """Move a label that covers an actor's box into the corridor on its side.

    The corridors between the centre's box and the nearest column of each side
    are where the flows run; side boxes stand in columns with little room
    between them, so the way out is sideways. A label wider than its corridor
    sits in its middle, over the edges of the boxes, not over their names.
    """
    centre_x = WIDTH / 2
    corridors = {
        "suppliers": (column_x("suppliers", 0) + BOX_WIDTH / 2, centre_x - CENTRE_BOX[0] / 2),
        "clients": (centre_x + CENTRE_BOX[0] / 2, column_x("clients", 0) - BOX_WIDTH / 2),
    }
    boxes = list(placements.values())
    moved = {}
    for pk, shape in shapes.items():
        covers = any(
            abs(shape.label_x - box.x) * 2 < shape.label_width + box.width
            and abs(shape.label_y - box.y) * 2 < shape.label_height + box.height
            for box in boxes
        )
        if not covers:
            moved[pk] = shape
            continue
        low, high = corridors["suppliers" if shape.label_x < centre_x else "clients"]
        half = shape.label_width / 2 + LABEL_GAP
        if high - low >= 2 * half:
            x = min(max(shape.label_x, low + half), high - half)
        else:
            x = (low + high) / 2
        moved[pk] = replace(shape, label_x=round(x, 1))
    return moved


def spread_labels(shapes):
    """Push overlapping flow labels apart vertically, a little at a time, deterministically."""
    if len(shapes) > SPREAD_LIMIT:
        return shapes
    ys = {pk: shape.label_y for pk, shape in shapes.items()}
    for _round in range(SPREAD_ROUNDS):
        moved = False
        order = sorted(shapes, key=lambda pk: (ys[pk], pk))
        for index, upper in enumerate(order):
            a = shapes[upper]
            for lower in order[index + 1 :]:
                b = shapes[lower]
                if abs(a.label_x - b.label_x) * 2 >= a.label_width + b.label_width:
                    continue
                need = (a.label_height + b.label_height) / 2 + LABEL_GAP - (ys[lower] - ys[upper])
                if need > 0.5:
                    ys[upper] -= need / 2
                    ys[lower] += need / 2
                    moved = True
        if not moved:
            break
    return {pk: replace(shape, label_y=round(ys[pk], 1)) for pk, shape in shapes.items()}
