"""The commitment tree's layout (commitments/tree/layout.py): pure Python, no database.

No two boxes overlap up to 40 leaves (and beyond, when rows are added), a leaf
once placed keeps its place when others are written, and a 60-character text
or name fits its box (cut with "…"; the full text goes in the SVG's <title>).
"""

import random

import pytest

from commitments.tree import layout


def boxes(tree):
    return [box for _key, box in tree.branches] + [box for _k, _b, box in tree.leaves]


def spread(count, branches, seed):
    rng = random.Random(seed)
    return [(n, rng.randrange(branches)) for n in range(count)]


@pytest.mark.parametrize(
    "leaves",
    [
        [(n, 0) for n in range(40)],  # everyone on "myself"
        [(n, n) for n in range(40)],  # forty different services
        *(spread(40, b, seed) for b, seed in [(3, 1), (8, 2), (15, 3), (25, 4)]),
        [(n, n % 7) for n in range(70)],  # beyond the grid: rows are added on top
    ],
)
def test_it_never_overlaps_two_boxes(leaves):
    tree = layout.layout(leaves)
    drawn = boxes(tree)
    assert len(tree.leaves) == len(leaves)
    for i, one in enumerate(drawn):
        assert not one.overlaps(tree.trunk)
        assert one.x >= 0 and one.x + one.w <= tree.width
        assert tree.top <= one.y and one.y + one.h <= tree.top + tree.height
        for other in drawn[i + 1 :]:
            assert not one.overlaps(other), (one, other)


def test_it_fits_forty_leaves_on_the_projector_without_growing():
    tree = layout.layout(spread(40, 9, 5))
    assert all(box.y >= 0 for box in boxes(tree))  # no row was added on top
    # Wider than tall, like the projector's 1280x720: shown whole, at most a little narrower.
    assert tree.width / tree.height >= 1.6


@pytest.mark.parametrize("seed", range(6))
def test_it_keeps_every_leaf_where_it_was_when_one_is_added(seed):
    leaves = spread(39, 1 + seed * 3, seed)
    before = {key: (box.x, box.y) for key, _b, box in layout.layout(leaves).leaves}
    branches_before = {key: (box.x, box.y) for key, box in layout.layout(leaves).branches}
    for new_branch in (0, 99):  # on a branch that exists, and on a new one
        after = layout.layout([*leaves, (1000, new_branch)])
        assert {k: (b.x, b.y) for k, _br, b in after.leaves if k != 1000} == before
        assert {k: (b.x, b.y) for k, b in after.branches if k in branches_before} == (
            branches_before
        )


def test_it_frames_a_young_tree_closely_and_zooms_out_as_it_grows():
    young, grown = layout.layout(spread(3, 2, 1)), layout.layout(spread(40, 9, 5))
    assert young.width < grown.width and young.height < grown.height
    assert young.trunk.y + young.trunk.h <= young.top + young.height  # the trunk is in view
    empty = layout.layout([])
    assert empty.width > 0 and empty.height > 0


def test_it_places_the_same_leaves_the_same_way_every_time():
    leaves = spread(30, 6, 9)
    first, second = layout.layout(leaves), layout.layout(list(leaves))
    assert [(k, b.x, b.y) for k, _br, b in first.leaves] == [
        (k, b.x, b.y) for k, _br, b in second.leaves
    ]


def test_it_wraps_or_cuts_a_sixty_character_text_to_its_box():
    sixty = "Je vais répondre aux demandes d'achat en moins de deux jours!"[:60]
    assert len(sixty) == 60
    lines = layout.wrap(sixty)
    assert 1 < len(lines) <= layout.LINES
    assert all(len(line) <= layout.LINE_CHARS for line in lines)
    long = layout.wrap("x" * 200)
    assert len(long) == layout.LINES and long[-1].endswith("…")
    assert all(len(line) <= layout.LINE_CHARS for line in long)


def test_it_shortens_a_sixty_character_name_with_an_ellipsis():
    name = "Direction des achats publics et de la commande hospitalière.."[:60]
    short = layout.short(name)
    assert len(short) <= layout.NAME_CHARS and short.endswith("…")
    assert layout.short("DRH") == "DRH"
    # 14px type is about 7 units a character, 15px bold about 8: lines fit the box's inside.
    assert layout.LINE_CHARS * 7 <= layout.CELL_W - 2 * 10
    assert layout.NAME_CHARS * 8 <= layout.CELL_W - 2 * 10
