"""The interaction journey: its cells, emotions, zones of rupture, mirror, drawings and views."""

import re

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from journeys.journey import actions as journey
from journeys.journey import grid
from journeys.journey.kind import rows
from journeys.journey.models import Emotion, JourneyPostIt, Situation, Step
from workshops import actions
from workshops.exports import report, transfer
from workshops.live.regions import render_live
from workshops.live.write import ActionError
from workshops.models import Event, Profile, Stage, Workshop
from workshops.registry import get_kind

from .base import log_in_participant

HTMX = {"HTTP_HX_REQUEST": "true"}


def french(message):
    with translation.override("fr"):
        return gettext(message)


def journey_stage(room):
    """The Diagnostic's step 3, made current: client, service and supplier lanes."""
    stage = next(s for s in room.workshop.stages.all() if s.kind == "journey")
    actions.go_to_stage(room.workshop, stage)
    return Stage.objects.get(pk=stage.pk)


@pytest.fixture
def walk(room):
    """A journey with one situation and three steps."""
    stage = journey_stage(room)
    situation = journey.add_situation(stage, participant=None, name="Alerte client")
    steps = [
        journey.add_step(stage, participant=None, name=name, phase=phase)
        for name, phase in (("Appel", "before"), ("Diagnostic", "during"), ("Clôture", "after"))
    ]
    return stage, situation, steps


def post(stage, participant, situation, step, perspective, colour, text="Un post-it"):
    return journey.add_postit(
        stage,
        participant=participant,
        situation=situation.pk,
        step=step.pk,
        perspective=perspective,
        colour=colour,
        text=text,
    )


def seq_of(room):
    return Workshop.objects.values_list("seq", flat=True).get(pk=room.workshop.pk)


# Models and actions -------------------------------------------------------------------------


def test_it_puts_a_post_it_in_its_cell(room, walk):
    stage, situation, (appel, diagnostic, _cloture) = walk
    postit = post(stage, room.alice, situation, diagnostic, "supplier", "red", "Pièces en retard")
    postit.refresh_from_db()
    assert (postit.situation, postit.step, postit.perspective, postit.colour) == (
        situation,
        diagnostic,
        "supplier",
        "red",
    )
    built = grid.build(stage)
    lanes = {row["key"]: row for row in built["boards"][0]["rows"]}
    assert [p.pk for p in lanes["supplier"]["cells"][1]["postits"]] == [postit.pk]
    assert lanes["supplier"]["cells"][0]["postits"] == []
    assert lanes["client"]["cells"][1]["postits"] == []
    with translation.override("fr"):
        assert postit.trace_label().startswith("Alerte client · étape 2 · Côté fournisseur")


def test_it_moves_a_post_it_to_another_step_and_perspective_by_tapping(room, walk):
    stage, situation, (appel, diagnostic, cloture) = walk
    postit = post(stage, room.alice, situation, appel, "client", "orange")
    seq = seq_of(room)
    journey.edit_postit(
        postit,
        participant=room.alice,
        text="Déplacé",
        colour="green",
        step=cloture.pk,
        perspective="service",
    )
    postit.refresh_from_db()
    assert (postit.step, postit.perspective, postit.colour, postit.text) == (
        cloture,
        "service",
        "green",
        "Déplacé",
    )
    assert seq_of(room) == seq + 1


def test_it_refuses_a_cell_that_is_not_on_the_journey(room, walk):
    stage, situation, (appel, *_rest) = walk
    proposed = journey.add_step(stage, participant=room.bruno, name="Relance")
    count, seq = JourneyPostIt.objects.count(), seq_of(room)
    for fields, message in (
        ({"perspective": "moon"}, "Choose a perspective."),
        ({"colour": "yellow"}, "Choose a colour: green, orange or red."),
        ({"step": proposed.pk}, "This step no longer exists."),
        ({"situation": 10**6}, "Choose a situation."),
    ):
        data = {
            "situation": situation.pk,
            "step": appel.pk,
            "perspective": "client",
            "colour": "red",
            "text": "x",
        } | fields
        with translation.override("fr"), pytest.raises(ActionError) as refused:
            journey.add_postit(stage, participant=room.alice, **data)
        assert str(refused.value.message) == french(message)
    assert (JourneyPostIt.objects.count(), seq_of(room)) == (count, seq)


def test_it_keeps_one_emotion_per_participant_step_and_perspective(room, walk):
    stage, situation, (appel, diagnostic, _cloture) = walk
    rate = {"situation": situation.pk, "step": appel.pk, "perspective": "client"}
    journey.rate(stage, participant=room.alice, value=-2, **rate)
    journey.rate(stage, participant=room.alice, value=1, **rate)
    journey.rate(stage, participant=room.alice, value=2, **{**rate, "perspective": "service"})
    journey.rate(stage, participant=room.bruno, value=-1, **rate)
    ratings = Emotion.objects.filter(stage=stage, step=appel, perspective="client")
    assert sorted(ratings.values_list("participant__display_name", "value")) == [
        ("Alice", 1),
        ("Bruno", -1),
    ]
    # The server enforces it, not only the action.
    with pytest.raises(IntegrityError), transaction.atomic():
        Emotion.objects.create(
            stage=stage,
            situation=situation,
            step=appel,
            perspective="client",
            participant=room.alice,
            value=0,
        )
    journey.rate(stage, participant=room.alice, value="", **rate)
    assert not Emotion.objects.filter(participant=room.alice, perspective="client").exists()
    with pytest.raises(ActionError):
        journey.rate(stage, participant=room.alice, value=3, **rate)
    with pytest.raises(ActionError):
        journey.rate(stage, participant=None, value=1, **rate)


def test_it_finds_zones_of_rupture_from_the_counts(room, walk):
    stage, situation, (appel, diagnostic, cloture) = walk
    # Step 1: the client mostly green, the supplier mostly red: a rupture.
    for colour in ("green", "green", "red"):
        post(stage, room.alice, situation, appel, "client", colour)
    for colour in ("red", "red", "orange"):
        post(stage, room.bruno, situation, appel, "supplier", colour)
    # Step 2: both red: friction, but no rupture. Step 3: one side only.
    post(stage, room.alice, situation, diagnostic, "client", "red")
    post(stage, room.bruno, situation, diagnostic, "supplier", "red")
    post(stage, room.alice, situation, cloture, "client", "green")
    board = grid.build(stage)["boards"][0]
    assert [s.name for s in board["ruptures"]] == ["Appel"]
    assert [s["rupture"] for s in board["steps"]] == [True, False, False]
    # The threshold is the stage's: at 0.7, two greens in three are not "mostly".
    actions.update_stage(stage, config={**stage.config, "rupture_threshold": 0.7})
    stage.refresh_from_db()
    assert grid.build(stage)["boards"][0]["ruptures"] == []


def test_it_shades_the_heat_map_by_the_share_of_orange_and_red(room, walk):
    stage, situation, (appel, *_rest) = walk
    for colour in ("green", "orange", "red", "red"):
        post(stage, room.alice, situation, appel, "client", colour)
    heat = grid.build(stage)["boards"][0]["heatmap"]
    cell = heat["lanes"][0]["cells"][0]
    assert cell["counts"] == {"green": 1, "orange": 1, "red": 2}
    assert cell["percent"] == 75
    assert heat["lanes"][1]["cells"][0]["total"] == 0


def test_it_defaults_the_perspective_from_the_profile(room, walk):
    stage, *_ = walk
    agent = actions.join(room.workshop, display_name="Agnès", profile=Profile.AGENT)
    partner = actions.join(room.workshop, display_name="Paul", profile=Profile.PARTNER)
    other = actions.join(room.workshop, display_name="Olive", profile=Profile.OTHER)
    assert grid.default_perspective(stage, room.alice) == "client"  # internal client
    assert grid.default_perspective(stage, room.bruno) == "supplier"
    assert grid.default_perspective(stage, agent) == "service"
    assert grid.default_perspective(stage, partner) == "supplier"
    assert grid.default_perspective(stage, other) == "client"  # the first lane


def test_participants_propose_and_the_facilitator_adopts(room, walk):
    stage, situation, steps = walk
    step = journey.add_step(stage, participant=room.alice, name="Relance")
    proposal = journey.add_situation(stage, participant=room.alice, name="Livraison ratée")
    assert step.proposed and proposal.proposed
    built = grid.build(stage)
    assert [s.name for s in built["steps"]] == ["Appel", "Diagnostic", "Clôture"]
    assert [s.name for s in built["proposed_steps"]] == ["Relance"]
    journey.edit_step(step, name="Relance", adopt=True)
    journey.move_step(step, direction="up")
    journey.edit_situation(proposal, adopt=True)
    built = grid.build(stage)
    assert [s.name for s in built["steps"]] == ["Appel", "Diagnostic", "Relance", "Clôture"]
    assert [s.name for s in built["situations"]] == ["Alerte client", "Livraison ratée"]


# The mirror ---------------------------------------------------------------------------------


def test_a_mirror_walks_its_sources_steps_and_compares_both(db):
    from .base import Room

    room = Room(method_key="symetrie")
    customer, staff = [s for s in room.workshop.stages.all() if s.kind == "journey"]
    assert staff.config["mirror"] == customer.config["key"]
    actions.go_to_stage(room.workshop, customer)
    situation = journey.add_situation(customer, participant=None, name="Prise de rendez-vous")
    appel = journey.add_step(customer, participant=None, name="Appel", moment_of_truth=True)
    journey.rate(
        customer,
        participant=room.alice,
        situation=situation.pk,
        step=appel.pk,
        perspective="client",
        value=2,
    )
    post(customer, room.alice, situation, appel, "client", "green")
    actions.go_to_stage(room.workshop, staff)
    staff = Stage.objects.get(pk=staff.pk)
    with pytest.raises(ActionError):  # its steps are edited on the source
        journey.add_step(staff, participant=None, name="Ailleurs")
    post(staff, room.bruno, situation, appel, "employee", "red")
    journey.rate(
        staff,
        participant=room.bruno,
        situation=situation.pk,
        step=appel.pk,
        perspective="employee",
        value=-2,
    )
    # A step added to the source shows in the mirror too.
    journey.add_step(customer, participant=None, name="Rappel")
    built = grid.build(staff)
    assert built["is_mirror"] and [s.name for s in built["steps"]] == ["Appel", "Rappel"]
    assert built["steps"][0].moment_of_truth
    comparison = grid.compare(staff, built)
    board = comparison["boards"][0]
    assert [s.name for s in board["ruptures"]] == ["Appel"]
    # The comparison's ruptures are its own: the mirror's grid (one side) has none.
    assert grid.build(staff)["boards"][0]["ruptures"] == []
    assert not any(c["rupture"] for r in built["boards"][0]["rows"] for c in r["cells"])
    lines = board["curve"]["lines"]
    assert [line["points"][0]["average"] for line in lines] == ["+2.0", "-2.0"]
    html = report.report_html(Workshop.objects.get(pk=room.workshop.pk))
    assert "Comparaison avec" in html and "Zones de rupture entre les deux parcours" in html


def test_a_mirror_survives_the_export_and_the_import(db):
    from django.contrib.auth import get_user_model

    from .base import Room
    from .test_export import without_timestamps

    room = Room(method_key="symetrie")
    customer, staff = [s for s in room.workshop.stages.all() if s.kind == "journey"]
    actions.go_to_stage(room.workshop, customer)
    situation = journey.add_situation(customer, participant=None, name="Accueil")
    step = journey.add_step(customer, participant=None, name="Arrivée")
    actions.go_to_stage(room.workshop, staff)
    post(Stage.objects.get(pk=staff.pk), room.bruno, situation, step, "employee", "orange")
    first = transfer.export_workshop(room.workshop)
    imported = transfer.import_workshop(first, get_user_model().objects.get(username="oscar"))
    assert without_timestamps(transfer.export_workshop(imported)) == without_timestamps(first)
    new_staff = next(s for s in imported.stages.all() if s.config.get("mirror"))
    postit = JourneyPostIt.objects.get(stage=new_staff)
    # Its cell is the new source's step, not the old workshop's.
    assert postit.step.stage.workshop_id == imported.pk
    assert grid.source_of(new_staff).workshop_id == imported.pk


# Drawings -----------------------------------------------------------------------------------


def _svg(stage, part, key):
    from django.template.loader import render_to_string

    built = grid.build(stage)
    board = built["boards"][0]
    with translation.override("fr"):
        return render_to_string(
            f"journeys/journey/journey.html#{part}",
            {"stage": stage, key: board["heatmap" if part == "heatmap_svg" else "curve"]},
        )


def test_it_draws_an_empty_journey(room, walk):
    stage, *_ = walk
    heat = _svg(stage, "heatmap_svg", "h")
    curve = _svg(stage, "curve_svg", "c")
    assert heat.count("<rect") == 9 and "—" in heat  # three lanes × three steps, no counts
    assert french("No emotion rated yet.") in curve
    assert "<path" not in curve and "<circle" not in curve


def test_it_draws_a_one_rating_journey(room, walk):
    stage, situation, (appel, *_rest) = walk
    journey.rate(
        stage,
        participant=room.alice,
        situation=situation.pk,
        step=appel.pk,
        perspective="client",
        value=-1,
    )
    curve = _svg(stage, "curve_svg", "c")
    assert curve.count("<circle") == 1
    assert "-1.0 (n=1)" in curve
    assert french("No emotion rated yet.") not in curve


def test_it_draws_an_eight_by_three_journey(room):
    stage = journey_stage(room)
    situation = journey.add_situation(stage, participant=None, name="Demande")
    steps = [journey.add_step(stage, participant=None, name=f"Étape {i}") for i in range(8)]
    for i in range(60):
        post(
            stage,
            (room.alice, room.bruno)[i % 2],
            situation,
            steps[i % 8],
            ("client", "service", "supplier")[i % 3],
            ("green", "orange", "red")[i % 3 if i % 8 else 0],
        )
    for i, step in enumerate(steps):
        for participant in (room.alice, room.bruno):
            journey.rate(
                stage,
                participant=participant,
                situation=situation.pk,
                step=step.pk,
                perspective=("client", "service", "supplier")[i % 3],
                value=i % 5 - 2,
            )
    heat = _svg(stage, "heatmap_svg", "h")
    curve = _svg(stage, "curve_svg", "c")
    width = int(re.search(r'viewBox="0 0 (\d+) ', heat).group(1))
    assert width == grid.LABEL_W + 8 * grid.CELL_W
    assert heat.count("% ◆✖") == 24  # every cell of 8 × 3 has post-its, with its share
    assert curve.count("(n=2)") == 8
    board = grid.build(stage)["boards"][0]
    assert sum(len(c["postits"]) for r in board["rows"] for c in r["cells"]) == 60


def _label_boxes(svg):
    """Each point label's box, as drawn: bold 12 px text, measured generously."""
    boxes = []
    pattern = (
        r'<text x="([\d.-]+)" y="([\d.-]+)"[^>]*font-size="(\d+)"[^>]*>([^<]*\(n=\d+\))</text>'
    )
    for x, y, size, text in re.findall(pattern, svg):
        x, y, size = float(x), float(y), float(size)
        # Wider than DejaVu Sans Bold's widest glyph used here ("+", "=": 0.84 em).
        boxes.append((x, y - size, x + len(text) * size * 0.85, y + size * 0.3, text))
    return boxes


def test_the_curves_labels_never_overlap_and_stay_inside_the_drawing(db):
    from types import SimpleNamespace

    from django.template.loader import render_to_string

    steps = [SimpleNamespace(number=i + 1, moment_of_truth=False) for i in range(4)]
    # Four perspectives: all very good at step 1, all very bad at step 2, all neutral at
    # step 3 with many ratings, and two pairs of lines crossing near zero at step 4.
    ratings = [
        [(2, 4), (-2, 1), (0, 123), (0.5, 2)],
        [(2, 4), (-2, 1), (0, 123), (-0.5, 2)],
        [(2, 4), (-2, 1), (0, 123), (0.0, 3)],
        [(2, 4), (-2, 1), (0, 123), (0.2, 5)],
    ]
    rows = [
        {
            "key": f"p{index}",
            "label": f"Côté {index}",
            "style": grid.LINE_STYLES[index],
            "cells": [{"average": value, "ratings": count} for value, count in row],
        }
        for index, row in enumerate(ratings)
    ]
    curve = grid.curve("t", steps, rows)
    with translation.override("fr"):
        svg = render_to_string("journeys/journey/journey.html#curve_svg", {"c": curve})
    width, height = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    boxes = _label_boxes(svg)
    assert len(boxes) == 16
    for left, top, right, bottom, text in boxes:
        assert left >= 0 and right <= width and top >= 0 and bottom <= height, text
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, f"{a[4]} at {a[:4]} overlaps {b[4]} at {b[:4]}"
    # Each label stays next to its own point, in the order of the points.
    for line in curve["lines"]:
        for point in line["points"]:
            assert abs(point["label_y"] - point["y"]) <= 4 * 16
    for column in range(4):
        points = [line["points"][column] for line in curve["lines"]]  # in the lines' order
        by_point = sorted(points, key=lambda p: p["y"])  # a stable sort: ties in that order
        assert [p["label_y"] for p in by_point] == sorted(p["label_y"] for p in points)


# Views --------------------------------------------------------------------------------------


def test_a_phone_walks_the_steps_and_writes_from_its_side(room, walk):
    stage, situation, (appel, diagnostic, _cloture) = walk
    phone = log_in_participant(Client(), room.bruno)
    panel = reverse("journeys:journey_panel", args=[room.workshop.pk, stage.pk])
    html = phone.get(panel, **HTMX).content.decode()
    assert "1. Appel" in html and french("Next step") in html
    assert 'value="supplier" checked' in html  # Bruno is a supplier
    html = phone.get(f"{panel}?step={diagnostic.pk}", **HTMX).content.decode()
    assert "<h3>2. Diagnostic</h3>" in html
    response = phone.post(
        reverse("journeys:journey_add_postit", args=[room.workshop.pk, stage.pk]),
        {
            "situation": situation.pk,
            "step": diagnostic.pk,
            "perspective": "supplier",
            "colour": "orange",
            "text": "Qui <b>valide</b> ?",
            "op_id": "phone-journey-0001",
        },
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert escape("Qui <b>valide</b> ?") in html and "<b>valide" not in html
    # The panel stays on the phone's step, and its compose box is a fresh one.
    assert "<h3>2. Diagnostic</h3>" in html
    event = Event.objects.get(op_id="phone-journey-0001")
    assert "Qui &lt;b&gt;valide" in event.frames["projector"]
    assert 'id="jtick-' in event.frames["participant"]


def test_a_phone_rates_and_changes_its_rating(room, walk):
    stage, situation, (appel, *_rest) = walk
    phone = log_in_participant(Client(), room.alice)
    url = reverse("journeys:journey_rate", args=[room.workshop.pk, stage.pk])
    fields = {"situation": situation.pk, "step": appel.pk, "perspective": "client"}
    phone.post(url, fields | {"value": "-2", "op_id": "rate-journey-0001"}, **HTMX)
    response = phone.post(url, fields | {"value": "1", "op_id": "rate-journey-0002"}, **HTMX)
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    assert list(Emotion.objects.values_list("value", flat=True)) == [1]


def test_it_refuses_bad_input_with_a_french_message_and_changes_nothing(room, walk):
    stage, situation, (appel, *_rest) = walk
    phone = log_in_participant(Client(), room.alice)
    seq = seq_of(room)
    response = phone.post(
        reverse("journeys:journey_add_postit", args=[room.workshop.pk, stage.pk]),
        {
            "situation": situation.pk,
            "step": appel.pk,
            "perspective": "client",
            "colour": "purple",
            "text": "x",
            "op_id": "bad-journey-0001",
        },
        **HTMX,
    )
    assert response.status_code == 400
    assert escape(french("Choose a colour: green, orange or red.")) in response.content.decode()
    assert (JourneyPostIt.objects.count(), seq_of(room)) == (0, seq)


def test_the_console_switches_between_grid_and_heat_map(room, walk):
    stage, situation, (appel, *_rest) = walk
    camille = Client()
    camille.force_login(room.facilitator)
    url = reverse("journeys:journey_view", args=[room.workshop.pk, stage.pk])
    camille.post(url, {"view": "heatmap", "op_id": "view-journey-0001"}, **HTMX)
    event = Event.objects.get(op_id="view-journey-0001")
    assert "journey-heatmap" in event.frames["projector"]
    assert "jlanes" not in event.frames["projector"]
    camille.post(url, {"view": "grid", "op_id": "view-journey-0002"}, **HTMX)
    assert "jlanes" in Event.objects.get(op_id="view-journey-0002").frames["projector"]


def _console_post(camille, room, stage, op_id, **fields):
    return camille.post(
        reverse("journeys:journey_add_postit", args=[room.workshop.pk, stage.pk]),
        {
            "perspective": "client",
            "colour": "red",
            "text": "Dit à voix haute",
            **fields,
            "op_id": op_id,
        },
        **HTMX,
    )


def test_the_console_writes_a_post_it_for_the_room(camille, room, walk):
    stage, situation, (appel, diagnostic, _cloture) = walk
    html, _own = render_live(Workshop.objects.get(pk=room.workshop.pk), "facilitator")
    form = re.search(r'<form id="jfcompose-.*?</form>', html, re.S).group(0)
    assert "data-queue" in form and 'name="text"' in form
    assert f'<option value="{situation.pk}" selected>Alerte client</option>' in form
    assert f'<option value="{diagnostic.pk}">2. Diagnostic</option>' in form
    # Each colour says itself with an icon and words, not its colour only.
    for icon, words in (("✔", "Smooth interaction"), ("✖", "Friction, blockage, tension")):
        assert f'<span aria-hidden="true">{icon}</span> {french(words)}' in form
    for key in ("client", "service", "supplier"):
        assert f'name="perspective" value="{key}"' in form
    for audience in ("projector", "participant"):
        assert "jfcompose" not in render_live(room.workshop, audience)[0]
    response = _console_post(
        camille,
        room,
        stage,
        "console-journey-0001",
        situation=situation.pk,
        step=diagnostic.pk,
        perspective="service",
        text="Il dit : <b>personne</b> ne rappelle",
    )
    assert response.status_code == 200
    postit = JourneyPostIt.objects.get()
    assert (postit.author, postit.step, postit.perspective, postit.colour) == (
        None,
        diagnostic,
        "service",
        "red",
    )
    frames = Event.objects.get(op_id="console-journey-0001").frames
    assert escape("Il dit : <b>personne</b>") in frames["facilitator"]
    assert "<b>personne" not in frames["facilitator"]
    assert "jfcompose" in frames["facilitator"] and "jfcompose" not in frames["projector"]


def test_the_console_form_follows_the_steps_and_refuses_a_removed_one(camille, room, walk):
    stage, situation, (appel, diagnostic, _cloture) = walk
    rappel = journey.add_step(stage, participant=None, name="Rappel", op_id="step-journey-0001")
    frame = Event.objects.get(op_id="step-journey-0001").frames["facilitator"]
    assert f'<option value="{rappel.pk}">4. Rappel</option>' in frame
    journey.delete_step(diagnostic, op_id="step-journey-0002")
    frame = Event.objects.get(op_id="step-journey-0002").frames["facilitator"]
    form = re.search(r'<form id="jfcompose-.*?</form>', frame, re.S).group(0)
    assert f'value="{diagnostic.pk}"' not in form and "3. Rappel" in form
    # A form drawn before the deletion still holds the step: refused, nothing changes.
    seq = seq_of(room)
    response = _console_post(
        camille, room, stage, "console-journey-0002", situation=situation.pk, step=diagnostic.pk
    )
    assert response.status_code == 404
    assert escape(french("This step no longer exists.")) in response.content.decode()
    assert 'id="jfcompose-error-' in response.content.decode()
    assert (JourneyPostIt.objects.count(), seq_of(room)) == (0, seq)
    journey.delete_situation(situation)
    seq = seq_of(room)
    response = _console_post(
        camille, room, stage, "console-journey-0003", situation=situation.pk, step=appel.pk
    )
    assert response.status_code == 404
    assert escape(french("Choose a situation.")) in response.content.decode()
    assert (JourneyPostIt.objects.count(), seq_of(room)) == (0, seq)


def test_private_writing_shows_a_phone_only_its_own_post_its(room, walk):
    stage, situation, (appel, *_rest) = walk
    actions.update_stage(stage, private_writing=True)
    stage.refresh_from_db()
    post(stage, room.alice, situation, appel, "client", "red", "Le secret d’Alice")
    post(stage, room.bruno, situation, appel, "supplier", "green", "Le secret de Bruno")
    panel = reverse("journeys:journey_panel", args=[room.workshop.pk, stage.pk])
    html = log_in_participant(Client(), room.alice).get(panel, **HTMX).content.decode()
    assert "Le secret d’Alice" in html and "Le secret de Bruno" not in html
    frames = Event.objects.filter(workshop=room.workshop).order_by("-seq").first().frames
    assert all("Le secret" not in html for html in frames.values())


def test_it_writes_csv_rows_with_the_cell_and_the_colour(room, walk):
    stage, situation, (appel, diagnostic, _cloture) = walk
    post(stage, room.alice, situation, diagnostic, "supplier", "red", "Pièces")
    (row,) = rows(stage)
    assert (row["situation"], row["step"], row["perspective"], row["colour"]) == (
        "Alerte client",
        "Diagnostic",
        "Côté fournisseur",
        "red",
    )
    csv = transfer.export_csv(room.workshop)
    assert "Alerte client" in csv and "Côté fournisseur" in csv


def test_it_offers_its_post_its_for_promotion_with_their_colour(room, walk):
    stage, situation, (appel, *_rest) = walk
    post(stage, room.alice, situation, appel, "client", "red", "Bloqué")
    (item,) = get_kind("journey").items(stage)
    assert (item.type, item.mark, item.text) == ("postit", "red", "Bloqué")


def test_it_leaves_no_situation_or_step_behind_a_deleted_stage(room, walk):
    stage, *_ = walk
    actions.delete_stage(stage)
    assert not Situation.objects.exists() and not Step.objects.exists()


def test_a_phone_keeps_its_open_edit_form_across_the_rooms_redraws(room, walk):
    stage, situation, (appel, *_rest) = walk
    postit = post(stage, room.alice, situation, appel, "client", "orange", "À reformuler")
    phone = log_in_participant(Client(), room.alice)
    w = room.workshop.pk
    edit = reverse("journeys:journey_edit_postit", args=[w, postit.pk])
    panel = reverse("journeys:journey_panel", args=[w, stage.pk])
    assert 'class="jpostit jpostit-editing' in phone.get(edit, **HTMX).content.decode()
    post(stage, room.bruno, situation, appel, "supplier", "green", "Pendant ce temps")
    # The tick's refetch draws the form again, its text box kept by hx-preserve.
    html = phone.get(panel, **HTMX).content.decode()
    assert 'class="jpostit jpostit-editing' in html and "hx-preserve" in html
    phone.post(
        edit,
        {"text": "Reformulé", "colour": "red", "op_id": "edit-journey-0001"},
        **HTMX,
    )
    html = phone.get(panel, **HTMX).content.decode()
    assert "jpostit-editing" not in html and "Reformulé" in html
    phone.get(edit, **HTMX)
    assert "jpostit-editing" not in phone.get(f"{panel}?cancel=1", **HTMX).content.decode()


# The journey's settings in the stage editor ---------------------------------------------------


def _edit(camille, room, stage, **fields):
    from .base import url

    data = {
        "title": stage.title,
        "kind": "journey",
        "instructions": stage.instructions,
        "duration_minutes": stage.duration_minutes,
        **fields,
    }
    return camille.post(url("workshops:stage_edit", room, stage_pk=stage.pk), data)


def test_the_stage_editor_sets_the_journeys_perspectives_and_threshold(camille, room, walk):
    from .base import url

    stage, situation, (appel, _diagnostic, _cloture) = walk
    postit = post(stage, room.bruno, situation, appel, "supplier", "red", "Pièces en retard")
    page = camille.get(url("workshops:stage_edit", room, stage_pk=stage.pk)).content.decode()
    assert "Côté client\nCôté service\nCôté fournisseur" in page and 'value="60"' in page
    lines = "Côté usager\nCôté agent d’accueil\nCôté prestataire\nCôté DSI"
    response = _edit(camille, room, stage, journey_perspectives=lines, journey_threshold=75)
    assert response.status_code == 302, response.content.decode()[:400]
    stage.refresh_from_db()
    perspectives = stage.config["perspectives"]
    # Line i keeps the key of perspective i: the supplier's post-it is on the third lane still.
    assert [p["key"] for p in perspectives[:3]] == ["client", "service", "supplier"]
    assert [p["label"] for p in perspectives] == lines.split("\n")
    assert perspectives[3]["key"] == "cote-dsi" and stage.config["rupture_threshold"] == 0.75
    assert grid.perspective_label(stage, JourneyPostIt.objects.get(pk=postit.pk).perspective) == (
        "Côté prestataire"
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"journey_perspectives": "A\nB\nC\nD\nE"}, "A journey has one to four perspectives."),
        ({"journey_threshold": 40}, None),
        ({"journey_threshold": "beaucoup"}, None),
    ],
)
def test_the_stage_editor_refuses_bad_journey_settings_and_changes_nothing(
    camille, room, walk, fields, message
):
    stage = walk[0]
    before = dict(stage.config)
    response = _edit(camille, room, stage, **fields)
    assert response.status_code == 200  # the form again, with its message
    if message:
        assert escape(french(message)) in response.content.decode()
    stage.refresh_from_db()
    assert stage.config == before


def _configs(workshop):
    return {s.pk: dict(s.config) for s in Stage.objects.filter(workshop=workshop)}


def test_the_stage_editor_sets_which_journey_a_stage_mirrors(camille, room, walk):
    from .base import url

    assert walk[0].config["key"] == "parcours"  # Diagnostic's journey
    source = actions.add_stage(room.workshop, kind="journey", title="Parcours")
    assert "key" not in source.config
    staff = actions.add_stage(room.workshop, kind="journey", title="Parcours des agents")
    page = camille.get(url("workshops:stage_edit", room, stage_pk=staff.pk)).content.decode()
    assert f'<option value="{source.pk}">{escape(source.title)}</option>' in page
    wall = next(s for s in room.workshop.stages.all() if s.kind != "journey")
    assert f'<option value="{wall.pk}">' not in page  # only journeys are offered
    before = _configs(room.workshop)
    seq = seq_of(room)
    response = _edit(camille, room, staff, journey_mirror=str(source.pk))
    assert response.status_code == 302, response.content.decode()[:400]
    source.refresh_from_db()
    staff.refresh_from_db()
    # The source gets a key (a slug of its title, free in the workshop), in the same write.
    assert source.config == {**before[source.pk], "key": "parcours-2"}
    assert staff.config == {**before[staff.pk], "mirror": source.config["key"]}
    assert grid.source_of(staff).pk == source.pk and seq_of(room) == seq + 1
    # Shown again, the editor says what it mirrors; saved as is, nothing changes.
    page = camille.get(url("workshops:stage_edit", room, stage_pk=staff.pk)).content.decode()
    assert f'<option value="{source.pk}" selected>' in page
    _edit(camille, room, staff, journey_mirror=str(source.pk))
    assert _configs(room.workshop)[staff.pk] == staff.config
    # None: its own steps again; the source keeps its key.
    _edit(camille, room, staff, journey_mirror="")
    staff.refresh_from_db()
    assert "mirror" not in staff.config and grid.source_of(staff).pk == staff.pk
    assert Stage.objects.get(pk=source.pk).config["key"] == source.config["key"]


def test_the_stage_editor_keeps_a_method_set_mirror(db):
    from .base import Room, url

    room = Room(method_key="symetrie")
    customer, staff = [s for s in room.workshop.stages.all() if s.kind == "journey"]
    client = Client()
    client.force_login(room.facilitator)
    page = client.get(url("workshops:stage_edit", room, stage_pk=staff.pk)).content.decode()
    assert f'<option value="{customer.pk}" selected>' in page
    before = _configs(room.workshop)
    response = _edit(client, room, staff, journey_mirror=str(customer.pk))
    assert response.status_code == 302
    assert _configs(room.workshop) == before


def _mirror_refused(client, room, stage, value, message, **params):
    before, seq = _configs(room.workshop), seq_of(room)
    response = _edit(client, room, stage, journey_mirror=value)
    assert response.status_code == 200  # the form again, with its message
    with translation.override("fr"):
        refusal = gettext(message) % params if params else gettext(message)
    assert escape(refusal) in response.content.decode(), refusal
    assert (_configs(room.workshop), seq_of(room)) == (before, seq)


def test_the_stage_editor_refuses_a_mirror_that_cannot_be(db):
    from .base import Room

    room = Room(method_key="symetrie")
    client = Client()
    client.force_login(room.facilitator)
    customer, staff = [s for s in room.workshop.stages.all() if s.kind == "journey"]
    other = next(s for s in room.workshop.stages.all() if s.kind != "journey")
    third = actions.add_stage(room.workshop, kind="journey", title="Troisième parcours")
    _mirror_refused(client, room, third, str(third.pk), "A journey cannot mirror itself.")
    _mirror_refused(
        client,
        room,
        third,
        str(other.pk),
        "« %(title)s » is not a journey: only a journey can be mirrored.",
        title=other.title,
    )
    _mirror_refused(client, room, third, "999999", "This stage is not in this workshop any more.")
    # A chain: the staff's journey is itself a mirror.
    _mirror_refused(
        client,
        room,
        third,
        str(staff.pk),
        "« %(title)s » is itself a mirror: choose the journey it mirrors.",
        title=staff.title,
    )
    # A later journey.
    _mirror_refused(
        client,
        room,
        customer,
        str(third.pk),
        "« %(title)s » comes later: a journey mirrors an earlier one.",
        title=third.title,
    )
    # A cycle: the customer's journey mirroring its own mirror (moved before it).
    while Stage.objects.get(pk=staff.pk).position > Stage.objects.get(pk=customer.pk).position:
        actions.move_stage(Stage.objects.get(pk=staff.pk), -1)
    _mirror_refused(
        client,
        room,
        Stage.objects.get(pk=customer.pk),
        str(staff.pk),
        "« %(title)s » mirrors this journey: they would mirror each other.",
        title=staff.title,
    )


def test_the_stage_editor_keeps_the_mirror_of_a_journey_written_on(camille, room, walk):
    stage, situation, (appel, *_rest) = walk
    source = actions.add_stage(room.workshop, kind="journey", title="Autre parcours")
    while Stage.objects.get(pk=source.pk).position > Stage.objects.get(pk=stage.pk).position:
        actions.move_stage(source, -1)
    post(stage, room.alice, situation, appel, "client", "green")
    _mirror_refused(
        camille,
        room,
        Stage.objects.get(pk=stage.pk),
        str(source.pk),
        "This journey already has post-its or ratings on its steps: "
        "which journey it mirrors can no longer change.",
    )


def test_a_new_stage_can_mirror_a_journey_from_the_start(camille, room, walk):
    from .base import url

    source = actions.add_stage(room.workshop, kind="journey", title="Parcours des usagers")
    seq = seq_of(room)
    response = camille.post(
        url("workshops:stage_add", room),
        {
            "title": "Parcours des agents",
            "kind": "journey",
            "instructions": "",
            "duration_minutes": 30,
            "journey_mirror": str(source.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:400]
    new = Stage.objects.get(workshop=room.workshop, title="Parcours des agents")
    source.refresh_from_db()
    assert source.config["key"] == "parcours-des-usagers"
    assert new.config["mirror"] == "parcours-des-usagers" and seq_of(room) == seq + 1
    assert grid.source_of(new).pk == source.pk
