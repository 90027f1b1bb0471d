"""The empathy map (kind empathy): a persona, quadrants, verbatim post-its."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from journeys import actions as journeys
from journeys.models import PostIt
from workshops import actions
from workshops.exports import report, transfer
from workshops.live.regions import render_live
from workshops.models import Workshop

from .base import Room, log_in_participant

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def room(db):
    return Room(method_key="symetrie")


def empathy(room):
    stage = next(s for s in room.workshop.stages.all() if s.kind == "empathy")
    actions.go_to_stage(room.workshop, stage)
    return stage


def board(room, audience="projector"):
    workshop = Workshop.objects.select_related("current_stage").get(pk=room.workshop.pk)
    return render_live(workshop, audience)[0]


def test_it_lays_symetries_empathy_stage_out_around_a_persona(room):
    stage = empathy(room)
    assert [c["key"] for c in stage.config["columns"]] == [
        "says",
        "thinks",
        "does",
        "feels",
        "pains",
        "gains",
    ]
    actions.update_stage(
        stage,
        config={
            **stage.config,
            "persona": {"name": "Nadia", "role": "Usagère", "sentence": "Elle attend sa carte."},
        },
    )
    html = board(room)
    assert "empathy-grid" in html and 'class="persona"' in html
    for words in ("Nadia", "Usagère", "Elle attend sa carte.", "Dit", "Pense", "Fait", "Ressent"):
        assert words in html, words
    assert "Douleurs" in html and "Gains" in html


def test_it_says_who_to_name_when_the_persona_is_blank(room):
    empathy(room)
    assert "persona-empty" in board(room)


def test_it_marks_a_verbatim_post_it_from_a_phone_and_shows_it_as_a_quote(room):
    stage = empathy(room)
    alice = log_in_participant(Client(), room.alice)
    url = reverse("journeys:add_postit", args=[room.workshop.pk, stage.pk])
    response = alice.post(
        url, {"text": "On m’a dit demain", "column": "says", "verbatim": "1"}, **HTMX
    )
    assert response.status_code == 200
    alice.post(url, {"text": "Elle soupire", "column": "does"}, **HTMX)
    quote, plain = PostIt.objects.filter(stage=stage).order_by("pk")
    assert quote.verbatim and not plain.verbatim
    assert (
        "is-verbatim" in response.content.decode() and "postit-quote" in response.content.decode()
    )
    html = board(room)
    assert html.count("postit-quote") == 1
    assert "« On m’a dit demain »" in html


def test_it_lets_the_author_unmark_a_verbatim(room):
    stage = empathy(room)
    quote = journeys.add_postit(
        stage, participant=room.alice, text="Mot pour mot", column="says", verbatim=True
    )
    alice = log_in_participant(Client(), room.alice)
    url = reverse("journeys:edit_postit", args=[room.workshop.pk, quote.pk])
    # An edit form that never showed the box keeps the mark.
    alice.post(url, {"text": "Mot pour mot !"}, **HTMX)
    quote.refresh_from_db()
    assert quote.verbatim and quote.text == "Mot pour mot !"
    alice.post(url, {"text": "Mot pour mot !", "verbatim_shown": "1"}, **HTMX)
    quote.refresh_from_db()
    assert not quote.verbatim


def test_it_takes_no_verbatim_on_a_plain_wall(room):
    wall = next(s for s in room.workshop.stages.all() if s.kind == "wall")
    actions.go_to_stage(room.workshop, wall)
    column = wall.config["columns"][0]["key"]
    postit = journeys.add_postit(
        wall, participant=room.alice, text="Idée", column=column, verbatim=True
    )
    assert not postit.verbatim


def test_it_cleans_the_persona_under_the_text_rule(room):
    stage = empathy(room)
    stage.config = {
        **stage.config,
        "persona": {"name": "Na\u202edia\x07", "role": "", "sentence": ""},
    }
    stage.full_clean()
    assert stage.config["persona"]["name"] == "Nadia"
    stage.config = {**stage.config, "persona": {"name": "N" * 61}}
    with pytest.raises(ValidationError):
        stage.full_clean()
    stage.config = {**stage.config, "persona": "Nadia"}
    with pytest.raises(ValidationError):
        stage.full_clean()


def test_it_keeps_verbatims_and_the_persona_through_export_and_import(room):
    stage = empathy(room)
    actions.update_stage(
        stage, config={**stage.config, "persona": {"name": "Nadia", "role": "", "sentence": ""}}
    )
    journeys.add_postit(stage, participant=room.alice, text="Mot", column="says", verbatim=True)
    imported = transfer.import_workshop(
        transfer.export_workshop(room.workshop), room.other_facilitator
    )
    copy = next(s for s in imported.stages.all() if s.kind == "empathy")
    assert copy.config["persona"]["name"] == "Nadia"
    assert PostIt.objects.get(stage=copy).verbatim


def test_it_prints_the_persona_and_the_quotes_in_the_report(room):
    stage = empathy(room)
    actions.update_stage(
        stage,
        config={**stage.config, "persona": {"name": "Nadia", "role": "Usagère", "sentence": ""}},
    )
    journeys.add_postit(stage, participant=room.alice, text="Mot", column="says", verbatim=True)
    html = report.report_html(room.workshop)
    assert "report-persona" in html and "Nadia" in html
    assert escape("« Mot »") in html or "« Mot »" in html


def test_it_draws_the_map_in_the_report_as_its_zones_two_by_two(room):
    import re

    stage = empathy(room)
    keys = [c["key"] for c in stage.config["columns"]]
    for key in keys:
        journeys.add_postit(stage, participant=room.alice, text=f"Dans {key}", column=key)
    html = report.report_html(room.workshop)
    grid = re.search(r'<div class="report-quadrants">(.*?)</div>\s*</div>', html, re.S)
    assert grid, "the empathy map's zones are not drawn as quadrants"
    zones = re.findall(r'<section class="report-column">', grid.group(1))
    assert len(zones) == len(keys) == 6
    assert all(f"Dans {key}" in grid.group(1) for key in keys)
    assert ".report-quadrants { display: grid; grid-template-columns: 1fr 1fr;" in html


def test_it_stacks_the_quadrants_on_a_phone_persona_first(room):
    empathy(room)
    html = board(room, "participant")
    assert html.index('class="persona"') < html.index("q-says") < html.index("q-gains")


def _editor_parts(html):
    """The stage editor's kind-specific blocks: {the kinds they belong to: hidden?} per field."""
    import re

    parts = {}
    block = r'<div data-stage-kinds="([^"]*)"( hidden)?>(.*?)</div>\s*'
    block += r"(?=<div data-stage-kinds|<button)"  # up to the next block or the Save button
    for kinds, hidden, inner in re.findall(block, html, re.S):
        for name in re.findall(r'name="([a-z_]+)"', inner):
            parts[name] = (kinds, bool(hidden))
    return parts


def test_the_stage_editor_shows_the_persona_only_for_the_empathy_map(camille, room):
    from .base import url

    stage = next(s for s in room.workshop.stages.all() if s.kind == "empathy")
    other = next(s for s in room.workshop.stages.all() if s.kind == "journey")
    shown = _editor_parts(
        camille.get(url("workshops:stage_edit", room, stage_pk=stage.pk)).content.decode()
    )
    hidden = _editor_parts(
        camille.get(url("workshops:stage_edit", room, stage_pk=other.pk)).content.decode()
    )
    added = _editor_parts(camille.get(url("workshops:stage_add", room)).content.decode())
    for name in ("persona_name", "persona_role", "persona_sentence"):
        assert shown[name] == ("empathy", False)
        assert hidden[name] == ("empathy", True)
        assert added[name] == ("empathy", True)  # a new stage: the first kind, the journey
    # The walls' columns belong to the walls (the empathy map's are its quadrants).
    assert hidden["columns_text"] == shown["columns_text"] == ("framing wall", True)
    # A persona too long, posted for a journey, is not an error nobody can see: it is ignored.
    response = camille.post(
        url("workshops:stage_edit", room, stage_pk=other.pk),
        {
            "title": other.title,
            "kind": "journey",
            "instructions": other.instructions,
            "duration_minutes": other.duration_minutes,
            "persona_name": "x" * 61,
        },
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert "persona" not in other.config
    # For the empathy map it is refused, in sight.
    response = camille.post(
        url("workshops:stage_edit", room, stage_pk=stage.pk),
        {
            "title": stage.title,
            "kind": "empathy",
            "duration_minutes": stage.duration_minutes,
            "persona_name": "x" * 61,
        },
    )
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
