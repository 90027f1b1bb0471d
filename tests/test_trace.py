"""Traceability (`workshops.trace`): links across stage apps, in both directions."""

import json

import pytest
from django.contrib.auth import get_user_model

from journeys import actions as journeys
from journeys.models import PostIt
from mapping import actions as mapping
from mapping.models import Flow
from workshops import actions, trace
from workshops.exports import transfer
from workshops.models import Trace, Workshop
from workshops.registry import get_kind, workshop_items


@pytest.fixture
def linked(room):
    """A flow in friction on the map, and a wall post-it that came from it."""
    framing, map_stage = list(room.workshop.stages.all())[:2]
    postit = journeys.add_postit(framing, participant=room.alice, text="Les demandes se perdent")
    actions.go_to_stage(room.workshop, map_stage)
    achats = mapping.add_actor(map_stage, participant=room.alice, name="Achats", circle="suppliers")
    flow = mapping.add_flow(
        map_stage,
        participant=room.alice,
        source="centre",
        target=str(achats.pk),
        kind="request",
        label="Demandes",
    )
    mapping.rate_flow(flow, participant=room.bruno, rating="friction")
    trace.link(flow, postit)
    return flow, postit


def test_a_link_reads_both_ways_and_says_where_each_end_sits(linked):
    flow, postit = linked
    (came_from,) = trace.origins(postit)
    (led_to,) = trace.descendants(flow)
    assert came_from == led_to
    assert "→ Achats · Demandes" in came_from.origin_label
    assert "« Les demandes se perdent »" in came_from.derived_label
    assert trace.origins(flow) == [] and trace.descendants(postit) == []


def test_linking_twice_keeps_one_link(linked):
    flow, postit = linked
    trace.link(flow, postit)
    assert Trace.objects.count() == 1


def test_a_board_reads_every_link_of_the_workshop_in_one_query(linked, django_assert_num_queries):
    flow, postit = linked
    with django_assert_num_queries(1):
        links = trace.links_for(postit.workshop_id)
    assert [t.origin_label for t in links[postit].came_from] == [trace.label_of(flow)]
    assert links[flow].led_to[0].derived_id == postit.pk
    assert not links[PostIt(pk=10**9)]


def test_an_edit_relabels_and_a_deleted_origin_still_says_what_it_was(linked):
    flow, postit = linked
    flow.label = "Demandes urgentes"
    flow.save()
    trace.relabel(flow)
    flow.delete()
    (came_from,) = trace.origins(postit)
    assert "Demandes urgentes" in came_from.origin_label


def test_a_ref_names_an_object_of_its_own_workshop_only(linked, room):
    flow, postit = linked
    assert trace.resolve(trace.ref(postit), room.workshop.pk) == postit
    assert trace.resolve(trace.ref(postit), room.other_workshop.pk) is None
    for bad in ["", "journeys.postit", "nope.model:1", "journeys.postit:x", None, 12]:
        assert trace.resolve(bad) is None


def test_stages_offer_their_items_to_later_stages(linked, room):
    flow, postit = linked
    refs = {item.ref: item.type for item in workshop_items(room.workshop)}
    assert refs[trace.ref(postit)] == "postit" and refs[trace.ref(flow)] == "flow"
    assert [i.ref for i in workshop_items(room.workshop, "flow")] == [trace.ref(flow)]
    hidden = actions.add_stage(room.workshop, kind="wall", title="Secret", private_writing=True)
    actions.go_to_stage(room.workshop, hidden)
    journeys.add_postit(hidden, participant=room.bruno, text="Pas encore")
    assert get_kind("wall").items(hidden) == []


def test_links_survive_export_and_import(linked, room):
    document = json.loads(json.dumps(transfer.export_workshop(room.workshop)))
    (link,) = document["traces"]
    assert link["how"] == "promoted" and link["from"] != link["to"]
    Workshop.objects.filter(pk=room.workshop.pk).delete()
    get_user_model().objects.exclude(username="camille").delete()
    imported = transfer.import_workshop(document, room.facilitator)
    postit = PostIt.objects.get(workshop=imported, text="Les demandes se perdent")
    (came_from,) = trace.origins(postit)
    assert came_from.origin_id == Flow.objects.get(workshop=imported).pk
    assert transfer.export_workshop(imported)["traces"] == document["traces"]
