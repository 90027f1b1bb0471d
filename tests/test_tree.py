"""The commitment tree (commitments/tree/): the server keeps every rule.

One commitment each unless the stage allows more, with a clear French
message; only one's own commitment is changed or taken back; the second
sentence names a map actor, another service or free text, and a deleted actor
leaves its words; anonymity holds in pages, pushes, the report and the CSV;
the export brings the commitments back with their actor links.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from commitments.models import Commitment
from commitments.tree import actions as tree
from commitments.tree.kinds import build_tree, tree_items, tree_rows
from mapping import actions as mapping
from workshops import actions
from workshops.exports import report, transfer
from workshops.live.write import ActionError
from workshops.models import Event

from .base import log_in_participant

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def stage(room):
    stage = room.workshop.stages.get(kind="tree")
    actions.go_to_stage(room.workshop, stage)
    stage.refresh_from_db()
    return stage


@pytest.fixture
def achats(room):
    the_map = room.workshop.stages.get(kind="map")
    return mapping.add_actor(the_map, participant=None, name="Achats", circle="suppliers")


def add(stage, who, text="Répondre sous deux jours", **fields):
    return tree.add_commitment(
        stage, participant=who, sentence=fields.pop("sentence", "commit"), text=text, **fields
    )


def test_it_is_the_diagnostic_closing_stage(room):
    stage = room.workshop.stages.order_by("-position").first()
    assert stage.kind == "tree" and "Notre service relationnel" in stage.title


def test_it_takes_one_commitment_each_with_a_clear_french_message(room, stage):
    add(stage, room.alice)
    with translation.override("fr"), pytest.raises(ActionError) as refused:
        add(stage, room.alice, "Un second")
    assert refused.value.status == 409
    assert str(refused.value.message) == (
        "Vous avez déjà écrit votre engagement : modifiez-le plutôt."
    )
    assert Commitment.objects.filter(stage=stage).count() == 1
    add(stage, room.bruno)  # the others still can
    add(stage, None, "Note de l’animatrice")  # and the facilitator is not counted
    assert Commitment.objects.filter(stage=stage).count() == 3


def test_it_takes_more_when_the_stage_allows_it(room, stage):
    stage.config = {**stage.config, "per_person": 2}
    stage.full_clean()
    stage.save()
    add(stage, room.alice)
    add(stage, room.alice, "Un second")
    with translation.override("fr"), pytest.raises(ActionError) as refused:
        add(stage, room.alice, "Un troisième")
    assert "2 engagements, le maximum" in str(refused.value.message)


@pytest.mark.parametrize("value", [0, 11, "2", True, None])
def test_it_refuses_a_per_person_setting_out_of_range(stage, value):
    from django.core.exceptions import ValidationError

    stage.config = {**stage.config, "per_person": value}
    with pytest.raises(ValidationError):
        stage.full_clean()


def test_it_goes_to_a_map_actor_another_service_or_free_text(room, stage, achats):
    first = add(stage, room.alice, sentence="relation", target=f"mapping.actor:{achats.pk}")
    second = add(stage, room.bruno, sentence="relation", target="other", target_name=" La  DRH ")
    assert (first.target_ref, first.target_name) == (f"mapping.actor:{achats.pk}", "Achats")
    assert (second.target_ref, second.target_name) == ("", "La DRH")
    built = build_tree(stage)
    assert [b["name"] for b in built["branches"]] == ["Achats", "La DRH"]
    with translation.override("fr"), pytest.raises(ActionError) as refused:
        add(stage, None, sentence="relation", target="other", target_name="  ")
    assert str(refused.value.message) == "Écrivez le nom du service ou de la personne."
    with pytest.raises(ActionError):
        add(stage, None, sentence="relation", target="mapping.actor:999999")
    with pytest.raises(ActionError):
        add(stage, None, sentence="autre")


def test_it_follows_a_renamed_actor_and_keeps_a_deleted_ones_words(room, stage, achats):
    add(stage, room.alice, sentence="relation", target=f"mapping.actor:{achats.pk}")
    the_map = achats.stage
    mapping.edit_actor(
        the_map, str(achats.pk), participant=None, name="Achats publics", scope="internal"
    )
    assert build_tree(stage)["branches"][0]["name"] == "Achats publics"
    achats.delete()
    built = build_tree(stage)
    assert built["branches"][0]["name"] == "Achats"  # the name it had when it was written
    assert built["commitments"][0].deleted_actor


def test_it_puts_myself_first_for_i_commit_to(room, stage):
    add(stage, room.alice)
    with translation.override("fr"):
        built = build_tree(stage)
    assert [(b["name"], b["is_self"], b["count"]) for b in built["branches"]] == [
        ("moi-même", True, 1)
    ]


def test_it_lets_only_the_author_change_or_take_back_a_commitment(room, stage):
    mine = add(stage, room.alice)
    with pytest.raises(ActionError) as refused:
        tree.edit_commitment(
            stage, participant=room.bruno, commitment=mine.pk, sentence="commit", text="Pirate"
        )
    assert refused.value.status == 403
    with pytest.raises(ActionError):
        tree.delete_commitment(stage, participant=room.bruno, commitment=mine.pk)
    tree.edit_commitment(
        stage, participant=room.alice, commitment=mine.pk, sentence="commit", text="Mieux"
    )
    mine.refresh_from_db()
    assert mine.text == "Mieux"
    tree.delete_commitment(stage, participant=room.alice, commitment=mine.pk)
    assert not Commitment.objects.exists()
    add(stage, room.alice, "Un nouveau")  # taken back: she may write one again


def test_it_hides_authors_on_an_anonymous_stage_in_pages_pushes_report_and_csv(room, stage):
    stage.anonymous = True
    stage.save()
    add(stage, room.alice, "Engagement secret")
    frames = Event.objects.filter(type="commitments.commitment_added").get().frames
    assert set(frames) >= {"facilitator", "projector", "participant"}
    for html in frames.values():
        assert "Engagement secret" in html
        assert "Alice" not in html
    html = report.report_html(room.workshop)
    assert "Engagement secret" in html and "— Alice" not in html
    assert [r["author"] for r in tree_rows(stage)] == [""]


def test_it_names_authors_on_a_named_stage(room, stage):
    add(stage, room.alice, "Engagement signé")
    frame = Event.objects.filter(type="commitments.commitment_added").get().frames["projector"]
    assert "— Alice" in frame
    with translation.override("fr"):
        rows = tree_rows(stage)
    assert [(r["type"], r["category"], r["target"], r["text"], r["author"]) for r in rows] == [
        ("engagement", "Je m’engage à…", "moi-même", "Engagement signé", "Alice")
    ]


def test_it_draws_the_alliance_map_from_organisations_or_profiles(room, stage, achats):
    add(stage, room.alice, sentence="relation", target=f"mapping.actor:{achats.pk}")
    add(stage, room.bruno, sentence="relation", target=f"mapping.actor:{achats.pk}")
    room.bruno.organisation = "Éditeur"
    room.bruno.save()
    with translation.override("fr"):
        built = build_tree(stage)
    alliances = built["alliances"]
    assert [s["name"] for s in alliances["sources"]] == ["Client interne", "Éditeur"]
    assert [t["name"] for t in alliances["targets"]] == ["Achats"]
    assert [e["count"] for e in alliances["edges"]] == [1, 1]


def test_it_offers_commitments_as_items(room, stage):
    mine = add(stage, room.alice)
    assert [(i.type, i.text, i.author_id) for i in tree_items(stage)] == [
        ("commitment", mine.text, room.alice.pk)
    ]


def test_it_brings_commitments_and_their_actor_links_back_from_an_export(room, stage, achats):
    add(stage, room.alice, sentence="relation", target=f"mapping.actor:{achats.pk}")
    add(stage, room.bruno, "Répondre vite")
    document = json.loads(json.dumps(transfer.export_workshop(room.workshop)))
    copy = transfer.import_workshop(document, get_user_model().objects.get(username="oscar"))
    copied = Commitment.objects.filter(workshop=copy).order_by("pk")
    first, second = copied
    actor = copy.actors.get()
    assert first.target_ref == f"mapping.actor:{actor.pk}" and first.target_name == "Achats"
    assert second.sentence == "commit" and second.text == "Répondre vite"
    assert first.author.display_name == "Alice"


def test_it_lets_a_phone_add_change_and_take_back_its_commitment(room, stage, client):
    log_in_participant(client, room.alice)
    url = reverse("commitments:add_commitment", args=[room.workshop.pk, stage.pk])
    fields = {"sentence": "commit", "text": "Répondre", "op_id": "tree-add-000001"}
    assert client.post(url, fields, **HTMX).status_code == 200
    again = client.post(url, {**fields, "op_id": "tree-add-000002"}, **HTMX)
    assert again.status_code == 409
    assert "modifiez-le plutôt" in again.content.decode()
    mine = Commitment.objects.get()
    edit = reverse("commitments:edit_commitment", args=[room.workshop.pk, stage.pk, mine.pk])
    reply = client.post(edit, {**fields, "text": "Répondre vite", "op_id": "tree-edit-00001"})
    assert reply.status_code in (200, 302, 303)
    mine.refresh_from_db()
    assert mine.text == "Répondre vite"
    gone = reverse("commitments:delete_commitment", args=[room.workshop.pk, stage.pk, mine.pk])
    assert client.post(gone, {"op_id": "tree-del-000001"}, **HTMX).status_code == 200
    assert not Commitment.objects.exists()


def test_it_switches_the_projector_between_the_tree_and_the_alliances(room, stage, client):
    add(stage, room.alice, sentence="relation", target="other", target_name="DRH")
    client.force_login(room.facilitator)
    url = reverse("commitments:tree_view", args=[room.workshop.pk, stage.pk])
    assert (
        client.post(url, {"view": "alliances", "op_id": "tree-view-00001"}, **HTMX).status_code
        == 200
    )
    frame = Event.objects.filter(type="commitments.tree_view").get().frames["projector"]
    assert "alliance-svg" in frame and "tree-svg" not in frame
    bad = client.post(url, {"view": "pie", "op_id": "tree-view-00002"}, **HTMX)
    assert bad.status_code == 400 and "Montrez l’arbre ou la carte" in bad.content.decode()


def test_it_lets_a_commitment_to_a_deleted_actor_be_changed(room, stage, achats, client):
    mine = add(stage, room.alice, sentence="relation", target=f"mapping.actor:{achats.pk}")
    achats.delete()
    log_in_participant(client, room.alice)
    page = client.get(reverse("workshops:live", args=[room.workshop.pk])).content.decode()
    form = page[page.index(f'id="commitment-{mine.pk}"') :]
    assert 'name="target" value="other"' in form[: form.index("</form>")]
    edit = reverse("commitments:edit_commitment", args=[room.workshop.pk, stage.pk, mine.pk])
    fields = {"sentence": "relation", "target": "other", "target_name": "Achats"}
    reply = client.post(edit, {**fields, "text": "Mieux", "op_id": "tree-edit-00002"}, **HTMX)
    assert reply.status_code == 200
    mine.refresh_from_db()
    assert (mine.text, mine.target_name) == ("Mieux", "Achats")
