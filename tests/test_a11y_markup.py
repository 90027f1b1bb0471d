"""Colour is never the only signal, and no symbol goes without its words."""

import re

from django.urls import reverse

from journeys import actions as wall_actions
from workshops import actions

from .base import log_in_participant


def test_it_shows_no_lone_symbol_on_a_wall_without_colour_choices(client, room):
    # A wall whose columns have their colours, and no colour to pick (Diagnostic's own
    # walls became a matrix, action sheets and a tree: the room gets one of its own).
    stage = actions.add_stage(
        room.workshop,
        kind="wall",
        title="Co-construction d’actions",
        config={
            "columns": [
                {
                    "key": "contribution",
                    "label": "Améliorer notre contribution",
                    "colour": "yellow",
                },
                {"key": "clarify", "label": "Clarifier offre et attentes", "colour": "blue"},
            ]
        },
    )
    assert not stage.config.get("colours")
    assert len({c["colour"] for c in stage.config["columns"]}) > 1
    actions.go_to_stage(room.workshop, stage)
    wall_actions.add_postit(
        stage, participant=room.alice, text="Les délais", column=stage.config["columns"][0]["key"]
    )
    html = (
        log_in_participant(client, room.alice)
        .get(reverse("workshops:live", args=[room.workshop.pk]))
        .content.decode()
    )
    article = re.search(
        r'<article id="postit-\d+"[^>]*>(?:(?!</article>).)*Les délais.*?</article>', html, re.S
    ).group(0)
    meta = re.search(r'<footer class="postit-meta">(.*?)</footer>', article, re.S).group(1)
    assert 'class="icon"' not in meta, f"a symbol without words on the post-it: {meta}"


def test_it_puts_words_next_to_every_colour_symbol_where_colours_are_chosen(client, room):
    # A wall whose authors pick green / orange / red (the methods' journeys are `journey` now).
    stage = actions.add_stage(
        room.workshop,
        kind="wall",
        title="Irritants",
        config={
            "columns": [{"key": "client_view", "label": "Côté client", "colour": "blue"}],
            "colours": ["green", "orange", "red"],
        },
    )
    assert stage.config.get("colours")
    actions.go_to_stage(room.workshop, stage)
    wall_actions.add_postit(
        stage,
        participant=room.alice,
        text="Le ticket revient",
        column=stage.config["columns"][0]["key"],
        colour="red",
    )
    html = (
        log_in_participant(client, room.alice)
        .get(reverse("workshops:live", args=[room.workshop.pk]))
        .content.decode()
    )
    kind = re.search(r'<span class="postit-kind">(.*?)</span>\s*</?', html, re.S)
    assert kind, "the post-it does not say what its colour means"
    words = re.sub(r"<[^>]+>", "", kind.group(1)).replace("✖", "").strip()
    assert words, "the colour's symbol has no words"
