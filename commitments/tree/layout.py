"""Where the commitment tree draws its branches and leaves: pure Python, no Django.

The crown is a grid of equal cells above the trunk. Each branch (an actor, a
service, or "myself") has an anchor cell picked by its index; its node and
then its leaves take the free cell nearest that anchor, in the order the
commitments were written. A cell once taken is never given to anyone else,
so adding a commitment never moves what is already drawn, and two boxes
never overlap. When the grid is full, rows are added on top (the viewBox
grows; nothing drawn moves in SVG units).
"""

from dataclasses import dataclass, field

COLUMNS = 6
ROWS = 10
CELL_W = 204
CELL_H = 62
GAP_X = 8
GAP_Y = 6
MARGIN = 14
TRUNK_H = 90
TRUNK_W = CELL_W * 3 // 2
WIDTH = MARGIN * 2 + COLUMNS * CELL_W + (COLUMNS - 1) * GAP_X
# Characters on one line of a leaf (14px type, about 7 units a character, in a 204-unit box),
# two lines at most; a branch name (15px bold) gets fewer.
LINE_CHARS = 26
LINES = 2
NAME_CHARS = 22

# Anchor cells (column, row from the top) for the first branches: low and near the trunk
# first, alternating sides, then higher and further out.
ANCHORS = [
    (2, 8), (3, 8), (1, 6), (4, 6), (0, 8), (5, 8), (2, 4), (3, 4),
    (0, 4), (5, 4), (1, 2), (4, 2), (2, 1), (3, 1), (0, 1), (5, 1),
]  # fmt: skip


@dataclass
class Box:
    key: object
    x: int
    y: int
    w: int = CELL_W
    h: int = CELL_H
    lines: list = field(default_factory=list)

    @property
    def cx(self):
        return self.x + self.w // 2

    @property
    def cy(self):
        return self.y + self.h // 2

    def overlaps(self, other):
        return not (
            self.x + self.w <= other.x
            or other.x + other.w <= self.x
            or self.y + self.h <= other.y
            or other.y + other.h <= self.y
        )


def wrap(text, width=LINE_CHARS, lines=LINES):
    """`text` on at most `lines` lines of `width` characters, the last cut with "…"."""
    words, out, line = " ".join(str(text).split()).split(" "), [], ""
    for word in words:
        while len(word) > width:  # a word longer than a line is cut
            if line:
                out.append(line)
                line = ""
            out.append(word[:width])
            word = word[width:]
        candidate = f"{line} {word}".strip()
        if len(candidate) <= width:
            line = candidate
        else:
            out.append(line)
            line = word
    if line:
        out.append(line)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1].rstrip() + "…"
    return out


def short(text, width=NAME_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


class _Grid:
    def __init__(self):
        self.taken = set()
        self.rows = ROWS
        self.extra = 0  # rows added on top of row 0 (negative row numbers)

    def nearest_free(self, anchor):
        ac, ar = anchor
        while True:
            cells = [
                (c, r)
                for r in range(-self.extra, self.rows)
                for c in range(COLUMNS)
                if (c, r) not in self.taken
            ]
            if cells:
                # Nearest by distance, ties broken by a fixed order: stable whatever came before.
                cell = min(
                    cells, key=lambda cr: ((cr[0] - ac) ** 2 + (cr[1] - ar) ** 2, cr[1], cr[0])
                )
                self.taken.add(cell)
                return cell
            self.extra += 1


def cell_box(key, cell):
    column, row = cell
    return Box(
        key,
        MARGIN + column * (CELL_W + GAP_X),
        MARGIN + row * (CELL_H + GAP_Y),
    )


def anchor_of(index):
    if index < len(ANCHORS):
        return ANCHORS[index]
    return ANCHORS[index % len(ANCHORS)]


@dataclass
class Tree:
    """The placed boxes, and the viewBox that frames them.

    The viewBox is the boxes' bounding box: a young tree is drawn large and the
    picture zooms out as it grows, while every box keeps its SVG coordinates.
    """

    branches: list  # [(branch_key, Box)]
    leaves: list  # [(leaf_key, branch_key, Box)]
    left: int
    top: int  # negative when rows were added on top of the grid
    width: int
    height: int
    trunk: Box

    @property
    def view_box(self):
        return f"{self.left} {self.top} {self.width} {self.height}"


def layout(leaves):
    """Place `leaves`: [(leaf_key, branch_key)] in the order they were written.

    Branches are numbered in the order their first leaf came; a branch's node
    takes its cell when its first leaf does.
    """
    grid = _Grid()
    branch_index, branches, placed = {}, [], []
    for leaf_key, branch_key in leaves:
        if branch_key not in branch_index:
            branch_index[branch_key] = len(branches)
            anchor = anchor_of(len(branches))
            branches.append((branch_key, cell_box(branch_key, grid.nearest_free(anchor))))
        anchor = anchor_of(branch_index[branch_key])
        placed.append((leaf_key, branch_key, cell_box(leaf_key, grid.nearest_free(anchor))))
    bottom = MARGIN + ROWS * (CELL_H + GAP_Y)
    # The trunk's label is wider than a cell: the observed service's name must read whole.
    trunk = Box("trunk", WIDTH // 2 - TRUNK_W // 2, bottom, TRUNK_W, TRUNK_H - MARGIN)
    drawn = [box for _key, box in branches] + [box for _k, _b, box in placed]
    # Without leaves, room for the first boughs above the trunk.
    top = min((b.y for b in drawn), default=bottom - 3 * (CELL_H + GAP_Y)) - MARGIN
    left = min((b.x for b in [*drawn, trunk]), default=trunk.x) - MARGIN
    right = max((b.x + b.w for b in [*drawn, trunk]), default=trunk.x + trunk.w) + MARGIN
    # At least four cells wide, so that a lone leaf is not drawn huge.
    span = 4 * CELL_W + 3 * GAP_X + 2 * MARGIN
    if right - left < span:
        grow = span - (right - left)
        left, right = left - grow // 2, right + grow - grow // 2
    return Tree(branches, placed, left, top, right - left, bottom + TRUNK_H - top, trunk)
