"""The map's layout: deterministic, stable when an actor is added, no overlap up to 40 actors."""

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapping import actions as mapping
from mapping import layout
from mapping.kinds import build_map
from workshops import actions


@dataclass
class FakeActor:
    pk: int
    circle: str
    slot: int = 0
    x: int | None = None
    y: int | None = None


def actors_for(suppliers, clients):
    """Actors as the actions create them: each takes the first free slot of its circle."""
    actors = [FakeActor(pk=1, circle="centre")]
    taken = {"suppliers": [], "clients": []}
    for index, circle in enumerate(["suppliers"] * suppliers + ["clients"] * clients, 2):
        slot = layout.next_slot(taken[circle])
        taken[circle].append(slot)
        actors.append(FakeActor(pk=index, circle=circle, slot=slot))
    return actors


def assert_no_overlap(actors):
    placements = [layout.place(a) for a in actors]
    for i, first in enumerate(placements):
        assert first.left >= 0 and first.left + first.width <= layout.WIDTH
        assert first.top >= 0
        for second in placements[i + 1 :]:
            assert not first.overlaps(second), (first, second)
    height = layout.height(actors)
    assert all(p.top + p.height <= height - layout.LEGEND_HEIGHT for p in placements)


SPLITS = [(0, 39), (39, 0), (20, 19), (13, 26), (1, 38), (30, 9), (22, 17)]


@pytest.mark.parametrize(("suppliers", "clients"), SPLITS)
def test_it_lays_out_40_actors_without_overlap(suppliers, clients):
    actors = actors_for(suppliers, clients)
    assert len(actors) == 40
    assert_no_overlap(actors)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["suppliers", "clients"]), min_size=1, max_size=60),
    st.sets(st.integers(min_value=0, max_value=59), max_size=20),
)
def test_it_never_overlaps_whatever_was_added_and_removed(circles, removed):
    taken = {"suppliers": [], "clients": []}
    actors = [FakeActor(pk=0, circle="centre")]
    for index, circle in enumerate(circles, 1):
        slot = layout.next_slot(taken[circle])
        taken[circle].append(slot)
        actors.append(FakeActor(pk=index, circle=circle, slot=slot))
        if index in removed:  # deleted: its slot is free again
            actors.pop()
            taken[circle].remove(slot)
    assert_no_overlap(actors)


@pytest.mark.parametrize(("suppliers", "clients"), [(0, 0), (3, 4), (21, 18), (39, 0), (10, 29)])
@pytest.mark.parametrize("circle", ["suppliers", "clients"])
def test_it_keeps_everyone_in_place_when_an_actor_is_added(suppliers, clients, circle):
    before = actors_for(suppliers, clients)
    positions = {a.pk: layout.place(a) for a in before}
    taken = [a.slot for a in before if a.circle == circle]
    after = [*before, FakeActor(pk=999, circle=circle, slot=layout.next_slot(taken))]
    for actor in after[:-1]:
        assert layout.place(actor) == positions[actor.pk]
    assert_no_overlap(after)


def test_it_reuses_a_freed_slot_without_moving_anyone():
    actors = actors_for(5, 0)
    gone = actors.pop(3)
    positions = {a.pk: layout.place(a) for a in actors}
    slot = layout.next_slot(a.slot for a in actors if a.circle == "suppliers")
    assert slot == gone.slot
    actors.append(FakeActor(pk=50, circle="suppliers", slot=slot))
    assert {a.pk: layout.place(a) for a in actors[:-1]} == positions


def test_it_puts_suppliers_left_clients_right_and_the_service_in_the_centre():
    centre, *others = actors_for(3, 3)
    centre_x, centre_y = layout.centre_point()
    assert layout.place(centre).x == centre_x == layout.WIDTH / 2
    for actor in others:
        placement = layout.place(actor)
        if actor.circle == "suppliers":
            assert placement.x + placement.width / 2 < centre_x - layout.CENTRE_BOX[0] / 2
        else:
            assert placement.x - placement.width / 2 > centre_x + layout.CENTRE_BOX[0] / 2
    # The first actor of a circle sits level with the centre.
    assert layout.place(others[0]).y == centre_y


def test_it_lets_a_nudge_win_over_the_slot_and_keeps_it_on_the_map():
    actor = FakeActor(pk=2, circle="clients", slot=0, x=300, y=200)
    placement = layout.place(actor)
    assert (placement.x, placement.y) == (300, 200)
    x, y = layout.clamp_position(-40, -40)
    assert x == layout.BOX_WIDTH / 2 and y == layout.BOX_HEIGHT / 2
    x, y = layout.clamp_position(10_000, 10_000)
    assert x == layout.WIDTH - layout.BOX_WIDTH / 2 and y < 1200


def test_it_fans_out_flows_between_the_same_two_actors():
    @dataclass
    class FakeFlow:
        pk: int
        source_id: int
        target_id: int
        label: str

    actors = actors_for(1, 0)
    placements = {a.pk: layout.place(a) for a in actors}
    flows = [FakeFlow(1, 1, 2, "a"), FakeFlow(2, 2, 1, "b"), FakeFlow(3, 1, 2, "c")]
    shapes = layout.flow_shapes(flows, placements, centre_pk=1)
    assert len({shape.path for shape in shapes.values()}) == 3
    assert len({(shape.label_x, shape.label_y) for shape in shapes.values()}) == 3


def test_it_wraps_and_cuts_long_names_to_fit_a_box():
    lines = layout.wrap("Direction des ressources humaines et de la formation", 16, 2)
    assert len(lines) == 2 and all(len(line) <= 16 for line in lines)
    assert lines[-1].endswith("…")
    assert layout.wrap("Anticonstitutionnellement", 10, 2) == ["Anticonsti", "tutionnel…"]
    assert layout.wrap("", 10, 2) == [""]


def test_it_keeps_positions_stable_through_the_real_actions(room):
    stage = room.workshop.stages.get(kind="map")
    actions.go_to_stage(room.workshop, stage)
    for index in range(12):
        circle = "suppliers" if index % 3 else "clients"
        mapping.add_actor(stage, participant=room.alice, name=f"Acteur {index}", circle=circle)
    before = {a.pk: (a.placement.x, a.placement.y) for a in build_map(stage)["actors"]}
    mapping.add_actor(stage, participant=room.bruno, name="Nouveau", circle="clients")
    after = {a.pk: (a.placement.x, a.placement.y) for a in build_map(stage)["actors"]}
    assert len(after) == len(before) + 1
    assert {pk: after[pk] for pk in before} == before


def test_it_keeps_flow_labels_apart():
    @dataclass
    class FakeFlow:
        pk: int
        source_id: int
        target_id: int
        label: str

    actors = actors_for(0, 6)
    placements = {a.pk: layout.place(a) for a in actors}
    flows = [
        FakeFlow(pk, 1, a.pk, f"Livrable numéro {pk} du service")
        for pk, a in enumerate(actors[1:], 1)
    ]
    flows += [FakeFlow(10 + pk, a.pk, 1, "Demandes") for pk, a in enumerate(actors[1:4], 1)]
    shapes = list(layout.flow_shapes(flows, placements, centre_pk=1).values())
    for index, a in enumerate(shapes):
        for b in shapes[index + 1 :]:
            apart_x = abs(a.label_x - b.label_x) * 2 >= a.label_width + b.label_width
            apart_y = abs(a.label_y - b.label_y) * 2 >= a.label_height + b.label_height
            assert apart_x or apart_y, (a, b)


NAMES = [
    "RH",
    "Direction des achats",
    "Prestataire de maintenance applicative",
    "Agents des services déconcentrés",
    "Direction des systèmes d’information et du numérique",
    "Délégation à la protection des données personnelles et à la conformité",
    "Anticonstitutionnellement",
    "Établissement public administratif de gestion des ressources humaines mutualisées",
    "W" * 80,
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("is_centre", [False, True])
def test_it_wraps_a_name_whole_inside_its_box_and_never_cuts_it(name, is_centre):
    lines, size = layout.name_lines(name, is_centre)
    texts = [line["text"] for line in lines]
    assert not any("…" in text for text in texts)
    # Every character is still there (a word too long for any line is broken with a hyphen).
    assert "".join(texts).replace("-", "").replace(" ", "") == name.replace(" ", "")
    width, height = layout.CENTRE_BOX if is_centre else (layout.BOX_WIDTH, layout.BOX_HEIGHT)
    for text in texts:
        assert layout.text_width(text, size, bold=is_centre) <= width - 2 * layout.BOX_PADDING
    step = size * layout.LINE_HEIGHT
    assert len(texts) * step <= height - layout.NAME_HEIGHT_PADDING
    # The baselines stay inside the box: the block of lines is centred.
    assert lines[0]["y"] - size * 0.8 >= -height / 2
    assert lines[-1]["y"] + size * 0.25 <= height / 2


@pytest.mark.parametrize(
    "name",
    [n for n in NAMES if len(n) <= 40 and " " in n],
)
def test_it_keeps_ordinary_names_in_full_size_type_on_two_or_three_lines(name):
    lines, size = layout.name_lines(name, is_centre=False)
    assert size == layout.NAME_SIZE
    assert len(lines) <= 3


def test_it_draws_the_usual_map_in_a_16_9_frame_that_holds_twelve_actors_a_side():
    assert abs(layout.WIDTH / layout.FRAME_HEIGHT - 16 / 9) < 0.01
    for suppliers, clients in [(0, 0), (7, 7), (12, 12)]:
        assert layout.height(actors_for(suppliers, clients)) == layout.FRAME_HEIGHT
    # A thirteenth actor on a side needs a row below: the map grows taller, nobody moves.
    assert layout.height(actors_for(13, 0)) > layout.FRAME_HEIGHT


def test_it_keeps_flow_labels_off_the_names_of_side_actors():
    @dataclass
    class FakeFlow:
        pk: int
        source_id: int
        target_id: int
        label: str

    actors = actors_for(6, 6)
    placements = {a.pk: layout.place(a) for a in actors}
    flows = [
        FakeFlow(a.pk, 1, a.pk, "Comptes rendus mensuels")
        if a.circle == "clients"
        else FakeFlow(a.pk, a.pk, 1, "Tickets d'incident")
        for a in actors[1:]
    ]
    shapes = layout.flow_shapes(flows, placements, centre_pk=1)
    for shape in shapes.values():
        left, right = shape.label_x - shape.label_width / 2, shape.label_x + shape.label_width / 2
        for pk, box in placements.items():
            if pk == 1:
                continue
            # A label may overlap a box's border, never the middle of the box where its name is.
            text_left, text_right = box.x - box.width / 4, box.x + box.width / 4
            same_height = abs(shape.label_y - box.y) * 2 < shape.label_height + box.height
            assert not (same_height and left < text_right and right > text_left), (shape, box)
