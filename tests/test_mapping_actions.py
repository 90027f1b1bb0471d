"""The three-circle map's writes, through the real actions (its views: test_views_mapping.py).

Every accepted write is one event pushed to every screen (the SVG and the
list redrawn per audience); a refused one changes nothing. User text stays
text in the SVG.
"""

import pytest
from django.utils import translation

from mapping import actions as mapping
from mapping.kinds import build_map, labels_of
from mapping.models import Actor, Circle, Flow
from workshops import actions
from workshops.live.write import AUDIENCES, ActionError
from workshops.models import Event, Stage, Workshop

pytestmark = pytest.mark.usefixtures("english_messages")

XSS = ["<script>alert(1)</script>", '"><svg onload=alert(1)>']


def fr(msgid):
    """What a French workshop's pages say for an English msgid."""
    with translation.override("fr"):
        return translation.gettext(msgid)


def seq_of(workshop):
    return Workshop.objects.values_list("seq", flat=True).get(pk=workshop.pk)


def state_of(room):
    return (
        seq_of(room.workshop),
        list(Actor.objects.values_list("pk", "name", "circle", "x", "y")),
        list(Flow.objects.values_list("pk", "label", "rating", "source", "target")),
    )


def supplier(stage, participant, name="Achats", **extra):
    return mapping.add_actor(stage, participant=participant, name=name, circle="suppliers", **extra)


def client(stage, participant, name="Agence comptable", **extra):
    return mapping.add_actor(stage, participant=participant, name=name, circle="clients", **extra)


# Actors ------------------------------------------------------------------------------------


def test_it_adds_an_actor_and_pushes_the_map_to_every_screen(
    room, map_stage, published, django_capture_on_commit_callbacks
):
    before = seq_of(room.workshop)
    with django_capture_on_commit_callbacks(execute=True):
        actor = supplier(map_stage, room.alice, scope="external", description="Centrale")
    assert (actor.circle, actor.scope, actor.author, actor.slot) == (
        "suppliers",
        "external",
        room.alice,
        0,
    )
    assert seq_of(room.workshop) == before + 1
    event = Event.objects.get(seq=before + 1, workshop=room.workshop)
    assert event.type == "mapping.actor_added"
    assert event.payload["actor"] == actor.pk
    assert len(published) == 1
    for audience in AUDIENCES:
        frame = event.frames[audience]
        assert f'id="map-view-{map_stage.pk}"' in frame and 'hx-swap-oob="true"' in frame
        assert f'id="map-svg-{map_stage.pk}"' in frame
        assert "Achats" in frame
    # Only the facilitator's drawing can be moved; the projector gets no list to edit.
    assert "data-move=" in event.frames["facilitator"]
    assert "data-move=" not in event.frames["participant"]
    assert "map-list" not in event.frames["projector"]


def test_it_keeps_user_text_as_text_in_the_svg_and_the_list(room, map_stage):
    for index, payload in enumerate(XSS):
        actor = supplier(map_stage, room.alice, name=payload)
        mapping.add_flow(
            map_stage,
            participant=room.bruno,
            source=str(actor.pk),
            target="centre",
            kind="request",
            label=payload,
            mismatch=payload,
        )
        assert actor.slot == index
    frames = Event.objects.filter(type="mapping.flow_added").last().frames
    for frame in frames.values():
        assert "<script>alert(1)</script>" not in frame
        assert "<svg onload" not in frame
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in frame


def test_it_creates_the_centre_when_first_needed_and_never_removes_it(room, map_stage):
    built = build_map(map_stage)
    assert built["centre"].pk is None  # a stand-in: nobody wrote yet
    assert built["centre"].display_name == "DSI"  # the workshop's observed service
    centre = mapping.edit_actor(
        map_stage, "centre", participant=None, name="", scope="internal", description="Le cœur"
    )
    assert centre.circle == Circle.CENTRE and centre.pk
    assert centre.display_name == "DSI"
    with pytest.raises(ActionError, match="stays in the centre"):
        mapping.delete_actor(map_stage, "centre", participant=room.alice)
    # A second write reuses it: one centre per map (a constraint holds it too).
    mapping.edit_actor(map_stage, "centre", participant=None, name="La DSI", scope="internal")
    assert Actor.objects.filter(stage=map_stage, circle="centre").count() == 1
    assert build_map(map_stage)["centre"].display_name == "La DSI"


BAD_ACTORS = {
    "no name": ({"name": "   ", "circle": "suppliers"}, "name"),
    "in the centre": ({"name": "Autre DSI", "circle": "centre"}, "Choose a circle"),
    "unknown circle": ({"name": "X", "circle": "moon"}, "Choose a circle"),
    "unknown scope": ({"name": "X", "circle": "clients", "scope": "both"}, "internal or external"),
    "too long": ({"name": "x" * 81, "circle": "clients"}, "Too long"),
    "description too long": (
        {"name": "X", "circle": "clients", "description": "y" * 301},
        "Too long",
    ),
}


@pytest.mark.parametrize("case", BAD_ACTORS.values(), ids=BAD_ACTORS.keys())
def test_it_refuses_a_bad_actor_and_changes_nothing(room, map_stage, published, case):
    fields, message = case
    before = state_of(room)
    with pytest.raises(ActionError, match=message):
        mapping.add_actor(map_stage, participant=room.alice, **fields)
    assert state_of(room) == before
    assert published == []


def test_it_applies_a_retried_write_once(room, map_stage):
    first = supplier(map_stage, room.alice, op_id="op-actor-000001")
    again = supplier(map_stage, room.alice, op_id="op-actor-000001")
    assert first.pk == again.pk
    assert Actor.objects.filter(stage=map_stage).count() == 1


def test_it_edits_an_actor_and_moves_it_to_the_other_circle(room, map_stage):
    actor = supplier(map_stage, room.alice)
    client(map_stage, room.bruno)
    edited = mapping.edit_actor(
        map_stage,
        str(actor.pk),
        participant=room.bruno,
        name="  Achats   publics ",
        scope="external",
        description="",
        circle="clients",
    )
    assert (edited.name, edited.circle, edited.scope) == ("Achats publics", "clients", "external")
    assert edited.slot == 1  # the next free slot of its new circle


def test_it_removes_an_actor_with_its_flows(room, map_stage):
    actor = supplier(map_stage, room.alice)
    mapping.add_flow(
        map_stage,
        participant=room.alice,
        source=str(actor.pk),
        target="centre",
        kind="deliverable",
        label="Bons de commande",
    )
    mapping.delete_actor(map_stage, str(actor.pk), participant=room.bruno)
    assert not Actor.objects.filter(pk=actor.pk).exists()
    assert not Flow.objects.filter(stage=map_stage).exists()
    assert Event.objects.filter(type="mapping.actor_deleted").exists()


def test_it_refuses_participants_when_writing_is_closed(room, map_stage):
    actions.set_writing_locked(room.workshop, True)
    with pytest.raises(ActionError, match="locked") as refused:
        supplier(map_stage, room.alice)
    assert refused.value.status == 409
    # The facilitator still can.
    assert supplier(map_stage, None).author is None


def test_it_refuses_a_map_write_on_a_stage_that_is_not_a_map(room, map_stage):
    framing = room.workshop.stages.get(kind="framing")
    with pytest.raises(ActionError, match="no map"):
        mapping.add_actor(framing, participant=None, name="X", circle="clients")


# Flows -------------------------------------------------------------------------------------


def test_it_adds_a_flow_with_both_sides_of_the_key_questions(room, map_stage):
    achats = supplier(map_stage, room.alice)
    flow = mapping.add_flow(
        map_stage,
        participant=room.alice,
        source=str(achats.pk),
        target="centre",
        kind="deliverable",
        label="Licences",
        they_expect="Des besoins clairs",
        we_expect="Des délais tenus",
        mismatch="Les projets s'arrêtent",
    )
    assert flow.source == achats and flow.target.circle == "centre"
    assert (flow.they_expect, flow.we_expect, flow.mismatch) == (
        "Des besoins clairs",
        "Des délais tenus",
        "Les projets s'arrêtent",
    )
    frame = Event.objects.filter(type="mapping.flow_added").get().frames["participant"]
    assert "Des délais tenus" in frame and "What do we expect from them?" not in frame
    # The labels are the stage's (the method's French wording).
    assert "Qu’attendons-nous d’eux" in frame


def test_it_draws_each_kind_with_its_own_line_style(room, map_stage):
    achats = supplier(map_stage, room.alice)
    for kind in ("information", "request", "deliverable"):
        mapping.add_flow(
            map_stage,
            participant=room.alice,
            source="centre",
            target=str(achats.pk),
            kind=kind,
            label=kind,
        )
    frame = Event.objects.filter(type="mapping.flow_added").last().frames["facilitator"]
    assert 'class="map-flow kind-information rating-none"' in frame
    assert 'stroke-dasharray="10 6"' in frame  # information: dashed
    assert 'stroke-dasharray="1 7"' in frame  # request: dotted
    paths = [line for line in frame.splitlines() if 'class="map-flow kind-' in line]
    deliverable = next(p for p in paths if "kind-deliverable" in p)
    assert "stroke-dasharray" not in deliverable  # deliverable: solid
    # Three flows between the same two actors are three distinct curves.
    assert len({p.split(' d="')[1].split('"')[0] for p in paths}) == 3


BAD_FLOWS = {
    "to itself": ({"source": "centre", "target": "centre"}, "two different actors"),
    "no end": ({"source": "", "target": "centre"}, "comes from"),
    "unknown actor": ({"source": "999999", "target": "centre"}, "no longer on the map"),
    "not an id": ({"source": "x1", "target": "centre"}, "no longer on the map"),
    "bad kind": ({"kind": "gossip"}, "kind of flow"),
    "no label": ({"label": "  "}, "few words"),
    "answer too long": ({"mismatch": "z" * 501}, "Too long"),
}


@pytest.mark.parametrize("case", BAD_FLOWS.values(), ids=BAD_FLOWS.keys())
def test_it_refuses_a_bad_flow_and_changes_nothing(room, map_stage, published, case):
    achats = supplier(map_stage, room.alice)
    published.clear()
    overrides, message = case
    fields = {
        "source": str(achats.pk),
        "target": "centre",
        "kind": "request",
        "label": "Demandes",
        **overrides,
    }
    before = state_of(room)
    with pytest.raises(ActionError, match=message):
        mapping.add_flow(map_stage, participant=room.bruno, **fields)
    assert state_of(room) == before
    assert published == []


def test_it_refuses_a_flow_to_an_actor_of_another_map(room, map_stage):
    other = actions.add_stage(room.workshop, kind="map", title="Autre carte")
    stranger = mapping.add_actor(other, participant=None, name="Ailleurs", circle="clients")
    with pytest.raises(ActionError, match="no longer on the map"):
        mapping.add_flow(
            map_stage,
            participant=None,
            source="centre",
            target=str(stranger.pk),
            kind="request",
            label="Hors carte",
        )


def test_it_rates_a_flow_with_an_icon_and_a_label_not_only_a_colour(room, map_stage):
    achats = supplier(map_stage, room.alice)
    flow = mapping.add_flow(
        map_stage,
        participant=room.alice,
        source=str(achats.pk),
        target="centre",
        kind="request",
        label="Bons",
    )
    rated = mapping.rate_flow(flow, participant=room.bruno, rating="friction")
    assert (rated.rating, rated.rated_by) == ("friction", room.bruno)
    frame = Event.objects.filter(type="mapping.flow_rated").get().frames["participant"]
    assert "✖" in frame and "Friction" in frame and 'aria-pressed="true"' in frame
    with pytest.raises(ActionError, match="smooth, unclear or friction"):
        mapping.rate_flow(flow, participant=room.bruno, rating="meh")
    cleared = mapping.rate_flow(flow, participant=room.alice, rating="")
    assert (cleared.rating, cleared.rated_by) == ("", None)


def test_it_edits_and_removes_a_flow(room, map_stage):
    achats = supplier(map_stage, room.alice)
    compta = client(map_stage, room.alice)
    flow = mapping.add_flow(
        map_stage,
        participant=room.alice,
        source=str(achats.pk),
        target="centre",
        kind="request",
        label="Bons",
    )
    edited = mapping.edit_flow(
        flow,
        participant=room.bruno,
        source="centre",
        target=str(compta.pk),
        kind="information",
        label="Relevés",
        we_expect="Des relevés lisibles",
    )
    assert (edited.source.circle, edited.target, edited.kind, edited.label) == (
        "centre",
        compta,
        "information",
        "Relevés",
    )
    mapping.delete_flow(edited, participant=room.alice)
    assert not Flow.objects.exists()


# Moving (facilitator) ------------------------------------------------------------------------


def test_it_moves_an_actor_to_its_final_position_live_for_everyone(
    room, map_stage, published, django_capture_on_commit_callbacks
):
    actor = supplier(map_stage, room.alice)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moved = mapping.move_actor(map_stage, str(actor.pk), x="412.6", y=300)
    assert (moved.x, moved.y) == (413, 300)
    event = Event.objects.filter(type="mapping.actor_moved").get()
    assert event.payload == {"actor": actor.pk, "x": 413, "y": 300}
    for audience in AUDIENCES:
        assert f'id="map-actor-{map_stage.pk}-{actor.pk}"' in event.frames[audience]
        assert "translate(413 300)" in event.frames[audience]
    assert len(published) == 1
    # Off the map: kept inside it. Reset: back to its slot.
    far = mapping.move_actor(map_stage, str(actor.pk), x=-500, y=99999)
    assert 0 < far.x < 200 and far.y < 2000
    back = mapping.move_actor(map_stage, str(actor.pk), x=None, y=None)
    assert (back.x, back.y) == (None, None)
    with pytest.raises(ActionError, match="not on the map"):
        mapping.move_actor(map_stage, str(actor.pk), x="nan", y=1)


def test_it_sends_no_map_frames_when_the_map_is_not_on_screen(room, map_stage):
    actions.go_to_stage(room.workshop, room.workshop.stages.get(kind="framing"))
    supplier(map_stage, None)  # the facilitator prepares the map ahead
    event = Event.objects.filter(type="mapping.actor_added").get()
    assert set(event.frames.values()) == {""}


# Labels come from the stage's configuration ---------------------------------------------------


def test_it_reads_the_labels_from_the_stage_config_with_defaults(room, map_stage):
    labels = labels_of(map_stage)
    assert labels["circles"]["suppliers"] == "Ses fournisseurs"
    assert labels["questions"][0] == "Qui dépend de nous\u00a0?"
    bare = actions.add_stage(room.workshop, kind="map", title="Carte vierge")
    assert bare.config == {}
    defaults = labels_of(bare)
    assert defaults["circles"]["clients"] == "Its clients and users"
    assert "Who depends on us?" in defaults["questions"]
    Stage.objects.filter(pk=bare.pk).update(
        config={"circles": {"clients": "Usagers"}, "questions": ["Qui décide ?"]}
    )
    bare.refresh_from_db()
    custom = labels_of(bare)
    assert custom["circles"]["clients"] == "Usagers"
    assert custom["circles"]["suppliers"] == "Its suppliers"
    assert custom["questions"] == ["Qui décide ?"]


def test_it_maps_the_client_relationship_with_the_same_kind(db):
    from tests.base import Room

    room = Room(method_key="cartographie")
    stage = room.workshop.stages.get(kind="map")
    assert labels_of(stage)["circles"]["clients"].startswith("Côté client")
    assert "Qui commande la prestation\u00a0?" in labels_of(stage)["questions"]
    actions.go_to_stage(room.workshop, stage)
    actor = mapping.add_actor(stage, participant=room.alice, name="Occupants", circle="clients")
    frame = Event.objects.filter(type="mapping.actor_added").get().frames["facilitator"]
    assert "Côté prestataire" in frame and "Occupants" in frame
    assert actor.stage == stage
