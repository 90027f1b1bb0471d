"""The post-it wall's endpoints: who may write what, htmx replies, refusals, query counts."""

import pytest
from django.urls import reverse

from journeys import actions as journeys
from journeys.models import Cluster, PostIt
from workshops import actions
from workshops.models import Event, Workshop

from .base import HTMX, action_wall, french


def seq_of(room):
    return Workshop.objects.values_list("seq", flat=True).get(pk=room.workshop.pk)


def add_url(room, stage=None, workshop=None):
    stage = stage or room.stage
    workshop = workshop or room.workshop
    return reverse("journeys:add_postit", args=[workshop.pk, stage.pk])


def postit_url(name, room, postit):
    return reverse(f"journeys:{name}", args=[room.workshop.pk, postit.pk])


def write(room, participant, text, stage=None):
    stage = stage or room.stage
    return journeys.add_postit(
        stage,
        participant=participant,
        text=text,
        column=stage.config["columns"][0]["key"],
        colour=(stage.config.get("colours") or [None])[0],
    )


def private_stage(room):
    # A wall of its own: the method's closing stage, once the private wall, is a tree now.
    stage = actions.add_stage(room.workshop, kind="wall", title="En secret", private_writing=True)
    actions.go_to_stage(room.workshop, stage)
    return stage


def nothing_changed(room, postits=0, seq=0):
    return seq_of(room) == seq and PostIt.objects.count() == postits


# Adding ------------------------------------------------------------------------------------


def test_it_adds_a_participants_post_it_and_replies_with_its_fragment(alice, room):
    response = alice.post(
        add_url(room), {"text": "Des délais clairs", "op_id": "op-add-00001"}, **HTMX
    )
    postit = PostIt.objects.get()
    assert response.status_code == 200
    assert f'id="postit-{postit.pk}"' in response.content.decode()
    assert "Des délais clairs" in response.content.decode()
    assert postit.author == room.alice
    assert postit.stage == room.stage
    assert seq_of(room) == 1


def test_it_redirects_back_to_the_live_page_without_htmx(alice, room):
    response = alice.post(add_url(room), {"text": "Sans JavaScript"})
    assert response.status_code == 302
    assert response["Location"] == reverse("workshops:live", args=[room.workshop.pk])
    assert PostIt.objects.get().text == "Sans JavaScript"


def test_it_lets_the_facilitator_post(camille, room):
    response = camille.post(add_url(room), {"text": "Synthèse"}, **HTMX)
    assert response.status_code == 200
    assert PostIt.objects.get().author is None


def test_it_applies_a_retried_post_once(alice, room):
    data = {"text": "Réseau instable", "op_id": "op-retry-00001"}
    first = alice.post(add_url(room), data, **HTMX)
    again = alice.post(add_url(room), data, **HTMX)
    assert first.status_code == again.status_code == 200
    assert PostIt.objects.count() == 1
    assert f'id="postit-{PostIt.objects.get().pk}"' in again.content.decode()
    assert seq_of(room) == 1


def test_it_refuses_someone_elses_operation_id(alice, bruno, room):
    alice.post(add_url(room), {"text": "À Alice", "op_id": "op-stolen-0001"}, **HTMX)
    response = bruno.post(add_url(room), {"text": "À Bruno", "op_id": "op-stolen-0001"}, **HTMX)
    assert response.status_code == 409
    assert "À Alice" not in response.content.decode()
    assert nothing_changed(room, postits=1, seq=1)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"text": ""}, 400, "Write something first."),
        ({"text": " \n "}, 400, "Write something first."),
        ({"text": "x" * 501}, 400, None),
        ({"text": "Bonjour", "column": "nope"}, 400, "Choose a column."),
        (
            {"text": "Bonjour", "op_id": "bad op id!"},
            400,
            "This request is malformed; reload the page.",
        ),
    ],
    ids=["empty", "blank", "too long", "unknown column", "malformed op id"],
)
def test_it_refuses_a_bad_post_it_with_its_message(alice, room, data, status, message):
    response = alice.post(add_url(room), data, **HTMX)
    assert response.status_code == status
    html = response.content.decode()
    assert 'role="alert"' in html
    if message:
        assert french(message) in html
    else:
        assert "501" in html and "500" in html
    assert nothing_changed(room)


def test_it_refuses_a_post_it_while_writing_is_locked(alice, room):
    actions.set_writing_locked(room.workshop, True)
    response = alice.post(add_url(room), {"text": "Trop tard"}, **HTMX)
    assert response.status_code == 409
    assert french("Writing is locked by the facilitator.") in response.content.decode()
    assert nothing_changed(room, seq=1)


def test_it_refuses_a_post_it_on_a_stage_the_room_has_left(alice, room):
    old = room.stage
    actions.go_to_stage(room.workshop, list(room.workshop.stages.all())[1])
    response = alice.post(add_url(room, stage=old), {"text": "Trop tard"}, **HTMX)
    assert response.status_code == 409
    assert nothing_changed(room, seq=1)


def test_it_explains_a_refusal_without_htmx_on_the_next_page(alice, room):
    response = alice.post(add_url(room), {"text": ""})
    assert response.status_code == 302
    page = alice.get(response["Location"]).content.decode()
    assert french("Write something first.") in page
    assert nothing_changed(room)


def test_it_refuses_posts_from_outside_the_workshop(client, olga, oscar, room):
    assert client.post(add_url(room), {"text": "Anonyme"}).status_code == 403
    assert olga.post(add_url(room), {"text": "Olga"}).status_code == 403
    assert oscar.post(add_url(room), {"text": "Oscar"}).status_code == 403
    assert nothing_changed(room)


def test_it_refuses_a_removed_participant(alice, room):
    actions.remove_participant(room.workshop, room.alice)
    assert alice.post(add_url(room), {"text": "Encore moi"}).status_code == 403
    assert nothing_changed(room, seq=1)


def test_it_refuses_a_stage_of_another_workshop(alice, room):
    other_stage = room.other_workshop.stages.get()
    assert alice.post(add_url(room, stage=other_stage), {"text": "Ailleurs"}).status_code == 404
    assert PostIt.objects.count() == 0


def test_it_refuses_get_on_writes(alice, room):
    postit = write(room, room.alice, "Bonjour")
    assert alice.get(add_url(room)).status_code == 405
    assert alice.get(postit_url("delete_postit", room, postit)).status_code == 405
    assert PostIt.objects.filter(pk=postit.pk).exists()


# Editing and deleting --------------------------------------------------------------------------


def test_it_lets_the_author_edit_their_post_it(alice, room):
    postit = write(room, room.alice, "Brouillon")
    form = alice.get(postit_url("edit_postit", room, postit), **HTMX)
    assert form.status_code == 200
    assert "Brouillon</textarea>" in form.content.decode()
    response = alice.post(postit_url("edit_postit", room, postit), {"text": "Au propre"}, **HTMX)
    assert response.status_code == 200
    assert "Au propre" in response.content.decode()
    assert PostIt.objects.get(pk=postit.pk).text == "Au propre"
    assert Event.objects.filter(type="journeys.postit_edited").count() == 1


def test_it_forbids_editing_someone_elses_post_it(bruno, room):
    postit = write(room, room.alice, "À Alice")
    assert bruno.get(postit_url("edit_postit", room, postit)).status_code == 403
    response = bruno.post(postit_url("edit_postit", room, postit), {"text": "Volé"}, **HTMX)
    assert response.status_code == 403
    assert PostIt.objects.get(pk=postit.pk).text == "À Alice"
    assert seq_of(room) == 1


def test_it_lets_the_facilitator_edit_any_post_it(camille, room):
    postit = write(room, room.alice, "Fautte")
    response = camille.post(postit_url("edit_postit", room, postit), {"text": "Faute"}, **HTMX)
    assert response.status_code == 200
    postit.refresh_from_db()
    assert (postit.text, postit.author) == ("Faute", room.alice)


def test_it_keeps_the_edit_form_open_with_the_message_on_a_bad_edit(alice, room):
    postit = write(room, room.alice, "Gardé")
    response = alice.post(postit_url("edit_postit", room, postit), {"text": "   "}, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert french("Write something first.") in html
    assert f'id="postit-{postit.pk}"' in html and "<textarea" in html
    assert PostIt.objects.get(pk=postit.pk).text == "Gardé"
    assert seq_of(room) == 1


def test_it_lets_the_author_delete_their_post_it(alice, room):
    postit = write(room, room.alice, "À jeter")
    response = alice.post(postit_url("delete_postit", room, postit), **HTMX)
    assert response.status_code == 200
    assert f'id="postit-{postit.pk}" hx-swap-oob="delete"' in response.content.decode()
    assert not PostIt.objects.filter(pk=postit.pk).exists()


def test_it_forbids_deleting_someone_elses_post_it(bruno, room):
    postit = write(room, room.alice, "À Alice")
    assert bruno.post(postit_url("delete_postit", room, postit), **HTMX).status_code == 403
    assert PostIt.objects.filter(pk=postit.pk).exists()
    assert seq_of(room) == 1


def test_it_refuses_to_delete_a_post_it_while_writing_is_locked(alice, camille, room):
    postit = write(room, room.alice, "Gravé")
    actions.set_writing_locked(room.workshop, True)
    response = alice.post(postit_url("delete_postit", room, postit), **HTMX)
    assert response.status_code == 409
    assert french("Writing is locked by the facilitator.") in response.content.decode()
    assert PostIt.objects.filter(pk=postit.pk).exists()
    assert seq_of(room) == 2
    # The facilitator still moderates.
    assert camille.post(postit_url("delete_postit", room, postit), **HTMX).status_code == 200


def test_it_lets_the_facilitator_delete_any_post_it(camille, room):
    postit = write(room, room.bruno, "Hors sujet")
    assert camille.post(postit_url("delete_postit", room, postit), **HTMX).status_code == 200
    assert not PostIt.objects.filter(pk=postit.pk).exists()


@pytest.mark.parametrize("name", ["show_postit", "edit_postit", "delete_postit"])
def test_it_answers_404_for_a_post_it_of_another_workshop(camille, alice, room, name):
    other = write(room, room.olga, "Chez Olga", stage=room.other_workshop.stages.get())
    target = reverse(f"journeys:{name}", args=[room.workshop.pk, other.pk])
    for client in (camille, alice):
        response = client.post(target) if name == "delete_postit" else client.get(target)
        assert response.status_code == 404
    assert PostIt.objects.filter(pk=other.pk).exists()


def test_it_shows_a_private_post_it_to_its_author_only(alice, bruno, room):
    stage = private_stage(room)
    postit = write(room, room.alice, "Secret", stage=stage)
    assert "Secret" in alice.get(postit_url("show_postit", room, postit)).content.decode()
    assert bruno.get(postit_url("show_postit", room, postit)).status_code == 403


# Private stages: one's own post-its ---------------------------------------------------------------


def test_it_gives_a_participant_only_their_own_post_its_on_a_private_stage(alice, bruno, room):
    stage = private_stage(room)
    mine = [
        write(room, room.alice, "Alice un", stage),
        write(room, room.alice, "Alice deux", stage),
    ]
    write(room, room.bruno, "Bruno seul", stage)
    target = reverse("journeys:mine", args=[room.workshop.pk, stage.pk])

    response = alice.get(target)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Alice un" in html and "Alice deux" in html
    assert "Bruno seul" not in html
    assert response["X-Own"] == ",".join(str(p.pk) for p in mine)

    assert "Alice un" not in bruno.get(target).content.decode()


def test_it_refuses_the_mine_endpoint_to_outsiders(client, olga, camille, room):
    stage = private_stage(room)
    target = reverse("journeys:mine", args=[room.workshop.pk, stage.pk])
    assert client.get(target).status_code == 403
    assert olga.get(target).status_code == 403
    assert camille.get(target).status_code == 403


def test_it_hides_private_post_its_from_the_live_page_of_others(alice, bruno, room):
    stage = private_stage(room)
    write(room, room.alice, "Mon engagement", stage)
    live = reverse("workshops:live", args=[room.workshop.pk])
    assert "Mon engagement" in alice.get(live).content.decode()
    assert "Mon engagement" not in bruno.get(live).content.decode()


# Themes: the facilitator's ------------------------------------------------------------------------


def cluster_urls(room, cluster):
    return {
        "add": reverse("journeys:cluster_add", args=[room.workshop.pk, room.stage.pk]),
        "assign": reverse("journeys:cluster_assign", args=[room.workshop.pk, room.stage.pk]),
        "rename": reverse("journeys:cluster_rename", args=[room.workshop.pk, cluster.pk]),
        "delete": reverse("journeys:cluster_delete", args=[room.workshop.pk, cluster.pk]),
    }


def test_it_lets_the_facilitator_group_post_its_into_themes(camille, room):
    postits = [write(room, room.alice, "Un"), write(room, room.bruno, "Deux")]
    add = reverse("journeys:cluster_add", args=[room.workshop.pk, room.stage.pk])
    assert camille.post(add, {"name": "Délais"}, **HTMX).status_code == 200
    cluster = Cluster.objects.get()
    urls = cluster_urls(room, cluster)

    response = camille.post(
        urls["assign"], {"cluster": cluster.pk, "postits": [p.pk for p in postits]}, **HTMX
    )
    assert response.status_code == 200
    assert set(cluster.postits.values_list("pk", flat=True)) == {p.pk for p in postits}

    camille.post(urls["rename"], {"name": "Délais et relances"}, **HTMX)
    assert Cluster.objects.get().name == "Délais et relances"

    camille.post(urls["assign"], {"cluster": "", "postits": [postits[0].pk]}, **HTMX)
    assert PostIt.objects.get(pk=postits[0].pk).cluster is None

    camille.post(urls["delete"], **HTMX)
    assert not Cluster.objects.exists()
    assert PostIt.objects.filter(cluster__isnull=True).count() == 2
    assert seq_of(room) == 2 + 5


@pytest.mark.parametrize("action", ["add", "assign", "rename", "delete"])
def test_it_keeps_themes_to_the_facilitator(alice, oscar, client, room, action):
    postit = write(room, room.alice, "Un")
    cluster = journeys.add_cluster(room.stage, name="Thème")
    target = cluster_urls(room, cluster)[action]
    data = {"name": "Piraté", "cluster": cluster.pk, "postits": [postit.pk]}
    for someone, status in ((alice, 302), (client, 302), (oscar, 404)):
        assert someone.post(target, data).status_code == status
    assert alice.get(target).status_code == 405
    assert Cluster.objects.get().name == "Thème"
    assert PostIt.objects.get().cluster is None
    assert seq_of(room) == 2


def test_it_refuses_themes_and_post_its_of_elsewhere(camille, room):
    postit = write(room, room.alice, "Un")
    theirs = write(room, room.olga, "Chez Olga", stage=room.other_workshop.stages.get())
    foreign = journeys.add_cluster(room.other_workshop.stages.get(), name="Ailleurs")
    wall = action_wall(room)
    other_stage = journeys.add_cluster(wall, name="Plus loin")
    urls = cluster_urls(room, foreign)
    seq = seq_of(room)

    assert camille.post(urls["rename"], {"name": "x"}).status_code == 404
    assert camille.post(urls["delete"]).status_code == 404
    assert (
        camille.post(urls["assign"], {"cluster": foreign.pk, "postits": [postit.pk]}).status_code
        == 404
    )
    assert (
        camille.post(
            urls["assign"], {"cluster": other_stage.pk, "postits": [postit.pk]}
        ).status_code
        == 404
    )
    # Someone else's post-it ids are ignored; with nothing left, nothing moves.
    response = camille.post(urls["assign"], {"cluster": "", "postits": [theirs.pk]}, **HTMX)
    assert response.status_code == 400
    assert french("Tap the post-its to move first.") in response.content.decode()
    response = camille.post(urls["assign"], {"cluster": "x", "postits": ["1; drop"]}, **HTMX)
    assert response.status_code == 400
    assert seq_of(room) == seq
    assert Cluster.objects.get(pk=foreign.pk).name == "Ailleurs"
    assert PostIt.objects.get(pk=theirs.pk).cluster is None


def test_it_refuses_an_empty_theme_name(camille, room):
    add = reverse("journeys:cluster_add", args=[room.workshop.pk, room.stage.pk])
    response = camille.post(add, {"name": "  "}, **HTMX)
    assert response.status_code == 400
    assert french("Write something first.") in response.content.decode()
    assert not Cluster.objects.exists()


# Query counts on the hot path ---------------------------------------------------------------------


def test_it_adds_a_post_it_in_a_fixed_number_of_queries(alice, room, django_assert_num_queries):
    # Warm up (first request loads the session, templates compile), then measure.
    url = add_url(room)
    alice.post(url, {"text": "Premier"}, **HTMX)
    with django_assert_num_queries(ADD_POSTIT_QUERIES):
        response = alice.post(url, {"text": "Deuxième", "op_id": "op-count-0001"}, **HTMX)
    assert response.status_code == 200


def test_it_adds_a_post_it_in_as_many_queries_on_a_crowded_wall(
    alice, room, django_assert_num_queries
):
    # A full wall must not cost more per post-it: no query per existing post-it or author.
    for index in range(30):
        write(room, room.bruno if index % 2 else room.alice, f"Post-it {index}")
    url = add_url(room)
    with django_assert_num_queries(ADD_POSTIT_QUERIES):
        response = alice.post(url, {"text": "Un de plus", "op_id": "op-count-0002"}, **HTMX)
    assert response.status_code == 200


def test_it_adds_a_private_post_it_in_a_fixed_number_of_queries(
    alice, room, django_assert_num_queries
):
    stage = private_stage(room)
    for index in range(10):
        write(room, room.bruno, f"Secret {index}", stage)
    with django_assert_num_queries(ADD_PRIVATE_POSTIT_QUERIES):
        response = alice.post(
            add_url(room, stage=stage),
            {
                "text": "À moi",
                "column": stage.config["columns"][0]["key"],
                "op_id": "op-count-0003",
            },
            **HTMX,
        )
    assert response.status_code == 200


# Pinned: the participant and the workshop (the session comes from the cache), the workshop
# locked, the op id checked, the stage, the post-it written, the seq bumped, the event written,
# plus the test's savepoint and its release, and the workshop's stages once for "→ Tension" /
# "→ Idea" on the new post-it (a matrix or an ideas stage may take it). More means a query
# crept in per post-it.
ADD_POSTIT_QUERIES = 11
# On a private stage the frames count the post-its instead of showing them (and offer no
# promotion): one more, one less.
ADD_PRIVATE_POSTIT_QUERIES = 11


def test_it_names_nobody_on_an_anonymous_stage_in_any_drawing_of_a_postit(room, alice, camille):
    """One rule, from journeys.kinds.postit_context / byline: the board, the push, the
    author's reply, the edit form's reply, the PDF section and the CSV row."""
    from journeys.kinds import byline, postit_context
    from workshops.exports import report
    from workshops.live.regions import render_live

    workshop = room.workshop
    stage = actions.add_stage(workshop, kind="wall", title="Sans nom", anonymous=True)
    actions.go_to_stage(workshop, stage)
    assert postit_context(stage)["show_author"] is False
    reply = alice.post(
        add_url(room, stage), {"text": "Personne ne sait qui", "op_id": "a" * 32}, **HTMX
    )
    assert reply.status_code == 200 and "Personne ne sait qui" in reply.content.decode()
    postit = PostIt.objects.get(stage=stage)
    pushed = Event.objects.filter(workshop=workshop, type="journeys.postit_added").last()
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    edited = alice.post(
        reverse("journeys:edit_postit", args=[workshop.pk, postit.pk]),
        {"text": "Personne ne sait qui, vraiment", "op_id": "b" * 32},
        **HTMX,
    )
    assert edited.status_code == 200, edited.content
    drawings = {
        "reply": reply.content.decode(),
        "push": pushed.frames["facilitator"],
        "board": render_live(workshop, "facilitator")[0],
        "edit reply": edited.content.decode(),
    }
    for where, html in drawings.items():
        assert "postit-author" not in html and "Alice" not in html, where
    section = next(
        s for s in report.report_context(workshop)["sections"] if s["stage"].pk == stage.pk
    )
    assert "vraiment" in section["body"] and "Alice" not in section["body"]
    postit.refresh_from_db()
    assert byline(postit, stage) == ""
    # On a named stage the same function names the author, in the report as in the CSV.
    named = action_wall(room)
    assert byline(PostIt(stage=named, author=room.alice), named) == "Alice"
