"""The ideas stage and the dot vote: the server keeps every rule (commitments/).

Budget, cap and own-item rule enforced on each tap, whatever the sequence
(hypothesis); a removed participant loses their votes; a merged idea keeps
both texts, both origins and all the votes; a promoted post-it stays the
idea's origin; hidden results reach no participant's frame.
"""

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commitments.ideas import actions as ideas
from commitments.ideas.kinds import ideas_report_context, ideas_rows
from commitments.models import Dot, Idea
from commitments.votes import actions as votes
from commitments.votes import tally
from journeys import actions as journeys
from journeys.kinds import colour_choices, columns_of
from workshops import actions
from workshops.live.write import ActionError
from workshops.models import Event, Trace
from workshops.registry import promotion_targets, workshop_items
from workshops.trace import origins, ref

from .base import Room, log_in_participant

HTMX = {"HTTP_HX_REQUEST": "true"}


def french(message):
    with translation.override("fr"):
        return gettext(message)


@pytest.fixture
def stage(room):
    stage = actions.add_stage(room.workshop, kind="ideas", title="Idéation")
    actions.go_to_stage(room.workshop, stage)
    return stage


@pytest.fixture
def board(room, stage):
    """A challenge, Alice's and Bruno's ideas, and an open double vote (3 dots, 2 per item)."""
    challenge = ideas.add_challenge(stage, participant=None, text="répondre en 48 h ?")
    mine = ideas.add_idea(
        stage, participant=room.alice, text="Un guichet", challenge=f"c{challenge.pk}"
    )
    his = ideas.add_idea(stage, participant=room.bruno, text="Un numéro direct")
    vote = votes.open_vote(stage, budget=3, cap=2, double=True, allow_own=False, item_type="idea")
    return {"challenge": challenge, "alice": mine, "bruno": his, "vote": vote}


def dots_of(vote, participant, budget="first"):
    return Dot.objects.filter(vote=vote, participant=participant, budget=budget).count()


def test_it_refuses_a_dot_over_the_budget_with_a_clear_french_message(room, board):
    vote, idea = board["vote"], ref(board["bruno"])
    with translation.override("fr"):
        votes.add_dot(vote, participant=room.alice, item=idea)
        votes.add_dot(vote, participant=room.alice, item=idea)
        votes.add_dot(vote, participant=room.alice, item=idea, budget="second")
        with pytest.raises(ActionError) as capped:
            votes.add_dot(vote, participant=room.alice, item=idea)
    assert capped.value.status == 409
    assert capped.value.message == "Au plus 2 gommettes sur un même élément."
    other = ideas.add_idea(room.stage, participant=room.bruno, text="Une FAQ")
    votes.close_vote(vote)
    vote = votes.open_vote(room.stage, budget=2, cap=2, item_type="idea")
    votes.add_dot(vote, participant=room.alice, item=ref(other))
    votes.add_dot(vote, participant=room.alice, item=ref(board["bruno"]))
    with translation.override("fr"), pytest.raises(ActionError) as spent:
        votes.add_dot(vote, participant=room.alice, item=ref(board["bruno"]))
    assert spent.value.message == "Vous n’avez plus de gommettes (2 par personne)."
    assert dots_of(vote, room.alice) == 2


def test_it_refuses_a_dot_on_ones_own_idea_when_the_vote_says_so(room, board):
    with translation.override("fr"), pytest.raises(ActionError) as refused:
        votes.add_dot(board["vote"], participant=room.alice, item=ref(board["alice"]))
    assert refused.value.status == 403
    assert "vos propres idées" in refused.value.message
    assert not Dot.objects.exists()
    # Bruno may vote for Alice's idea.
    votes.add_dot(board["vote"], participant=room.bruno, item=ref(board["alice"]))
    assert dots_of(board["vote"], room.bruno) == 1


def test_it_refuses_taps_on_a_closed_vote_and_on_items_not_in_it(room, board):
    vote = board["vote"]
    with pytest.raises(ActionError) as unknown:
        votes.add_dot(vote, participant=room.bruno, item=ref(board["challenge"]))
    assert unknown.value.status == 404
    with pytest.raises(ActionError):
        votes.add_dot(vote, participant=room.bruno, item=ref(board["alice"]), budget="third")
    votes.close_vote(vote)
    with pytest.raises(ActionError) as closed:
        votes.add_dot(vote, participant=room.bruno, item=ref(board["alice"]))
    assert closed.value.status == 409
    with pytest.raises(ActionError):
        votes.add_dot(vote, participant=None, item=ref(board["alice"]))
    assert not Dot.objects.exists()


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"budget": 0}, "Donnez à chaque participant entre 1 et 20 gommettes."),
        ({"budget": 21}, "Donnez à chaque participant entre 1 et 20 gommettes."),
        ({"budget": "beaucoup"}, "Donnez à chaque participant entre 1 et 20 gommettes."),
        ({"budget": 3, "cap": 4}, "Le plafond par élément est entre 1 et le budget (3)."),
    ],
)
def test_it_refuses_vote_settings_out_of_range(room, stage, settings_, message):
    with translation.override("fr"), pytest.raises(ActionError) as refused:
        votes.open_vote(stage, **settings_)
    assert refused.value.message == message
    assert not stage.votes.exists()


def test_it_opens_one_vote_at_a_time_on_a_stage(room, board):
    with pytest.raises(ActionError) as twice:
        votes.open_vote(room.stage)
    assert twice.value.status == 409


def test_it_takes_a_removed_participants_votes_away(room, board):
    vote = board["vote"]
    votes.add_dot(vote, participant=room.bruno, item=ref(board["alice"]))
    votes.add_dot(vote, participant=room.alice, item=ref(board["bruno"]))
    actions.remove_participant(room.workshop, room.bruno)
    dots = tally.counted_dots(vote)
    assert [d.participant_id for d in dots] == [room.alice.pk]
    ranking = tally.results(vote, tally.vote_items(vote), dots)["ranking"]
    assert {row["item"].ref: row["total"] for row in ranking} == {
        ref(board["bruno"]): 1,
        ref(board["alice"]): 0,
    }
    assert tally.status(vote, dots, 1)["voted"] == 1


def test_it_merges_two_ideas_keeping_both_texts_origins_and_votes(room, board):
    wall = _public_wall(room)
    actions.go_to_stage(room.workshop, wall)
    postit = journeys.add_postit(wall, participant=room.bruno, **_postit(wall, "Relancer par SMS"))
    stage = board["vote"].stage
    actions.go_to_stage(room.workshop, stage)
    promoted = ideas.promote_item(stage, _item(room, postit))
    vote = board["vote"]
    votes.add_dot(vote, participant=room.alice, item=ref(promoted))
    votes.add_dot(vote, participant=room.bruno, item=ref(board["alice"]), budget="second")
    merged = ideas.merge_ideas(stage, source=promoted.pk, target=board["alice"].pk)
    assert merged.pk == board["alice"].pk
    assert Idea.objects.get(pk=promoted.pk).merged_into_id == merged.pk
    assert [d.item_ref for d in Dot.objects.all()] == [ref(merged), ref(merged)]
    came_from = {(t.origin_type, t.how) for t in origins(merged)}
    assert ("journeys.postit", "promoted") in came_from  # the post-it's origin came along
    assert ("commitments.challenge", "answers") in came_from
    assert ("commitments.idea", "merged") in came_from
    built = ideas_report_context(stage)
    shown = next(i for i in built["ideas"] if i.pk == merged.pk)
    assert [j.text for j in shown.joined] == ["Relancer par SMS"]
    assert all(i.pk != promoted.pk for i in built["ideas"])
    total = next(r for r in built["report_votes"][0]["ranking"] if r["item"].ref == ref(merged))
    assert (total["first"], total["second"]) == (1, 1)
    with pytest.raises(ActionError):
        ideas.merge_ideas(stage, source=merged.pk, target=merged.pk)
    with pytest.raises(ActionError):
        ideas.merge_ideas(stage, source=promoted.pk, target=board["bruno"].pk)


def test_it_promotes_a_post_it_into_an_idea_that_keeps_its_origin(room, stage):
    wall = _public_wall(room)
    actions.go_to_stage(room.workshop, wall)
    postit = journeys.add_postit(wall, participant=room.bruno, **_postit(wall, "Un <b>SMS</b>"))
    actions.go_to_stage(room.workshop, stage)
    assert stage in promotion_targets(room.workshop, "postit")
    idea = ideas.promote_item(stage, _item(room, postit))
    assert idea.text == "Un <b>SMS</b>" and idea.author_id == room.bruno.pk
    link = Trace.objects.get(derived_type="commitments.idea", derived_id=idea.pk)
    assert (link.origin_type, link.origin_id, link.how) == (
        "journeys.postit",
        postit.pk,
        "promoted",
    )
    assert ref(idea) in [i.ref for i in workshop_items(room.workshop, "idea")]
    html = Event.objects.filter(type="commitments.idea_promoted").get().frames["projector"]
    assert "Un &lt;b&gt;SMS&lt;/b&gt;" in html and "<b>SMS" not in html


def test_it_answers_a_challenge_of_another_stage_by_its_item(room, stage, monkeypatch):
    """A tension matrix offers challenges as items: an idea under one links to it."""
    from commitments.ideas import kinds
    from workshops.registry import Item

    other = ideas.add_challenge(stage, participant=None, text="Comment simplifier ?")
    outside = Item(ref(other), "challenge", other.text, stage.pk + 1000, None, other)
    monkeypatch.setattr(kinds, "other_items", lambda s: {"challenge": [outside]})
    monkeypatch.setattr(ideas, "other_items", lambda s: {"challenge": [outside]})
    idea = ideas.add_idea(stage, participant=room.alice, text="Un formulaire", challenge=ref(other))
    assert idea.challenge_id is None and idea.challenge_ref == ref(other)
    assert [t.origin_id for t in origins(idea)] == [other.pk]
    with pytest.raises(ActionError) as gone:
        ideas.add_idea(stage, participant=room.alice, text="x", challenge="journeys.postit:99999")
    assert gone.value.status == 404


# Sequences of taps: never over budget or cap ---------------------------------------------------

TAPS = st.lists(
    st.tuples(
        st.sampled_from(["alice", "bruno"]),
        st.booleans(),
        st.integers(min_value=0, max_value=2),
        st.sampled_from(["first", "second"]),
    ),
    max_size=40,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(taps=TAPS)
@pytest.mark.django_db
def test_no_sequence_of_taps_goes_over_the_budget_or_the_cap(taps):
    with transaction.atomic():  # one example, rolled back: the next one builds its room again
        _tap_sequence(taps)
        transaction.set_rollback(True)


def _tap_sequence(taps):
    room = Room()
    stage = actions.add_stage(room.workshop, kind="ideas", title="Idéation")
    actions.go_to_stage(room.workshop, stage)
    made = [ideas.add_idea(stage, participant=room.bruno, text=f"Idée {n}") for n in range(3)]
    vote = votes.open_vote(stage, budget=4, cap=2, double=True, allow_own=False, item_type="idea")
    people = {"alice": room.alice, "bruno": room.bruno}
    for who, adding, index, budget in taps:
        tap = votes.add_dot if adding else votes.remove_dot
        try:
            tap(vote, participant=people[who], item=ref(made[index]), budget=budget)
        except ActionError as error:
            assert error.status in (403, 409)
        for person in people.values():
            for key in ("first", "second"):
                mine = Dot.objects.filter(vote=vote, participant=person, budget=key)
                assert mine.count() <= 4
                for idea in made:
                    assert mine.filter(item_ref=ref(idea)).count() <= 2
    assert not Dot.objects.filter(vote=vote, participant=room.bruno).exists()  # his own ideas


# What the room is pushed ---------------------------------------------------------------------


def test_it_keeps_hidden_results_out_of_every_participant_frame(room, board):
    vote = board["vote"]
    votes.add_dot(vote, participant=room.bruno, item=ref(board["alice"]))
    event = Event.objects.filter(type="commitments.dot_added").get()
    assert event.frames["participant"] == ""
    assert "vote-results" not in event.frames["projector"]
    assert "1 participant sur 2 a voté" in event.frames["facilitator"]
    assert "Un guichet" not in event.frames["facilitator"]  # counts only, while hidden
    # The voter alone sees their ballot.
    assert "vote-ballot-" in event.frames["author"] and "vote-results" not in event.frames["author"]
    votes.close_vote(vote)
    closed = Event.objects.filter(type="commitments.vote_closed").get()
    assert (
        "vote-results-" in closed.frames["participant"]
        and "vote-ranking" in closed.frames["participant"]
    )
    assert "vote-chart-svg" in closed.frames["projector"]


def test_it_pushes_live_results_when_the_facilitator_chose_so(room, stage):
    idea = ideas.add_idea(stage, participant=room.bruno, text="Une FAQ")
    vote = votes.open_vote(stage, budget=2, cap=1, hidden=False, item_type="idea")
    votes.add_dot(vote, participant=room.alice, item=ref(idea))
    event = Event.objects.filter(type="commitments.dot_added").get()
    assert "vote-ranking" in event.frames["participant"]
    assert "Une FAQ" in event.frames["participant"]


def test_it_draws_the_double_budget_as_a_chart_with_named_quadrants(room, board):
    vote = board["vote"]
    votes.add_dot(vote, participant=room.bruno, item=ref(board["alice"]))
    votes.add_dot(vote, participant=room.bruno, item=ref(board["alice"]), budget="second")
    with translation.override("fr"):  # the labels are read in the room's language
        chart = tally.results(vote, tally.vote_items(vote), tally.counted_dots(vote))["chart"]
        labels = {q["key"]: (str(q["label"]), q["x"], q["y"]) for q in chart["quadrants"]}
        x_label = str(chart["x_label"])
    name, x, y = labels["both"]
    assert name == "Les deux y gagnent" and x > chart["middle_x"] and y < chart["middle_y"]
    point = next(p for p in chart["points"] if p["row"]["item"].ref == ref(board["alice"]))
    low = next(p for p in chart["points"] if p["row"]["item"].ref == ref(board["bruno"]))
    assert point["x"] > low["x"] and point["y"] < low["y"]  # right of it, and higher up
    for p in chart["points"]:
        assert chart["left"] < p["x"] < chart["right"] and chart["top"] < p["y"] < chart["bottom"]
    assert x_label == "impact client"


# Views -------------------------------------------------------------------------------------


def test_it_lets_a_phone_tap_a_dot_and_take_it_back(room, board, client):
    log_in_participant(client, room.bruno)
    vote, idea = board["vote"], ref(board["alice"])
    url = reverse("commitments:add_dot", args=[room.workshop.pk, vote.pk])
    reply = client.post(url, {"item": idea, "budget": "first", "op_id": "tap-dot-000001"}, **HTMX)
    assert reply.status_code == 200
    assert "reste 2 sur 3" in reply.content.decode()
    back = reverse("commitments:remove_dot", args=[room.workshop.pk, vote.pk])
    reply = client.post(back, {"item": idea, "budget": "first", "op_id": "tap-dot-000002"}, **HTMX)
    assert reply.status_code == 200 and "reste 3 sur 3" in reply.content.decode()
    reply = client.post(back, {"item": idea, "budget": "first", "op_id": "tap-dot-000003"}, **HTMX)
    assert reply.status_code == 409
    assert "Vous n’avez pas de gommette à reprendre" in reply.content.decode()
    assert not Dot.objects.exists()


def test_it_lets_the_facilitator_open_and_close_a_vote_from_the_console(room, stage, client):
    ideas.add_idea(stage, participant=room.alice, text="Une FAQ")
    client.force_login(room.facilitator)
    url = reverse("commitments:open_vote", args=[room.workshop.pk, stage.pk])
    data = {"budget": "4", "cap": "2", "double": "1", "first_label": "clients", "item_type": "idea"}
    assert client.post(url, data, **HTMX).status_code == 200
    vote = stage.votes.get()
    assert (vote.budget, vote.cap, vote.double, vote.first_label) == (4, 2, True, "clients")
    assert vote.anonymous and vote.hidden and not vote.allow_own
    page = client.get(reverse("workshops:console", args=[room.workshop.pk])).content.decode()
    assert "Clore le vote" in page and "0 participant sur 2 a voté" in page
    close = reverse("commitments:close_vote", args=[room.workshop.pk, vote.pk])
    assert client.post(close, {}, **HTMX).status_code == 200
    vote.refresh_from_db()
    assert not vote.is_open


def test_it_writes_the_ideas_and_the_vote_in_the_csv(room, board):
    votes.add_dot(board["vote"], participant=room.bruno, item=ref(board["alice"]))
    votes.close_vote(board["vote"])
    with translation.override("fr"):
        rows = ideas_rows(board["vote"].stage)
    assert [r["type"] for r in rows] == ["défi", "idée", "idée"]
    assert rows[1]["text"] == "Un guichet" and rows[1]["state"] == "1 gommette"
    assert rows[1]["category"] == "répondre en 48 h ?"


def _public_wall(room):
    """A wall whose post-its everyone sees (the Diagnostic's only wall is private now)."""
    found = [s for s in room.workshop.stages.all() if s.kind == "wall" and not s.private_writing]
    return found[0] if found else actions.add_stage(room.workshop, kind="wall", title="Mur")


def _postit(wall, text):
    fields = {"text": text, "column": columns_of(wall)[0]["key"]}
    if colour_choices(wall):
        fields["colour"] = colour_choices(wall)[0]["value"]
    return fields


def _item(room, postit):
    return next(i for i in workshop_items(room.workshop, "postit") if i.obj.pk == postit.pk)


def test_it_names_the_voters_only_in_a_named_vote(room, stage):
    idea = ideas.add_idea(stage, participant=room.bruno, text="Une FAQ")
    named = votes.open_vote(stage, budget=2, cap=1, anonymous=False, item_type="idea")
    votes.add_dot(named, participant=room.alice, item=ref(idea))
    votes.close_vote(named)
    row = tally.results(named, tally.vote_items(named), tally.counted_dots(named))["ranking"][0]
    assert row["voters"] == ["Alice"]
    anonymous = votes.open_vote(stage, budget=2, cap=1, item_type="idea")
    votes.add_dot(anonymous, participant=room.alice, item=ref(idea))
    votes.close_vote(anonymous)
    html = Event.objects.filter(type="commitments.vote_closed").last().frames["participant"]
    assert "vote-ranking" in html and "Alice" not in html


def test_it_brings_ideas_merges_votes_and_links_back_from_an_export(room, board):
    from django.contrib.auth import get_user_model

    from workshops.exports import transfer

    votes.add_dot(board["vote"], participant=room.bruno, item=ref(board["alice"]))
    third = ideas.add_idea(room.stage, participant=room.bruno, text="Un rappel")
    votes.add_dot(board["vote"], participant=room.alice, item=ref(third), budget="second")
    ideas.merge_ideas(room.stage, source=third.pk, target=board["bruno"].pk)
    document = transfer.export_workshop(room.workshop)
    copy = transfer.import_workshop(document, get_user_model().objects.get(username="oscar"))
    stage = copy.stages.get(kind="ideas")
    merged = Idea.objects.get(stage=stage, text="Un rappel")
    target = Idea.objects.get(stage=stage, text="Un numéro direct")
    assert merged.merged_into_id == target.pk
    assert Idea.objects.get(stage=stage, text="Un guichet").challenge.text == "répondre en 48 h ?"
    vote = stage.votes.get()
    assert (vote.budget, vote.cap, vote.double, vote.allow_own) == (3, 2, True, False)
    assert sorted((d.participant.display_name, d.item_ref) for d in vote.dots.all()) == [
        ("Alice", ref(target)),
        ("Bruno", ref(Idea.objects.get(stage=stage, text="Un guichet"))),
    ]
    assert ("commitments.idea", "merged") in {(t.origin_type, t.how) for t in origins(target)}
