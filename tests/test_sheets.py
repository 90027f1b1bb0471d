"""Action sheets: co-writing field by field, the double signature, the report, the calendar."""

import csv
import datetime
import hashlib
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from commitments.sheets import actions as sheets
from commitments.sheets import kinds
from commitments.sheets.models import ActionSheet, Signature
from journeys import actions as journeys
from journeys.kinds import colour_choices, columns_of
from tests.faults.model import Board
from workshops import actions
from workshops.exports import report, transfer
from workshops.live.write import AUDIENCES, ActionError
from workshops.models import Event, Profile, Trace, Workshop
from workshops.registry import Item
from workshops.trace import ref

from .base import action_wall, log_in_participant

HTMX = {"HTTP_HX_REQUEST": "true"}


def french(message):
    with translation.override("fr"):
        return gettext(message)


@pytest.fixture
def stage(room):
    stage = actions.add_stage(room.workshop, kind="actions", title="Fiches-actions")
    actions.go_to_stage(room.workshop, stage)
    return stage


@pytest.fixture
def carla(room):
    return actions.join(room.workshop, display_name="Carla", profile=Profile.EXTERNAL_CLIENT)


@pytest.fixture
def dora(room):
    return actions.join(
        room.workshop, display_name="Dora", profile=Profile.AGENT, organisation="DSI"
    )


def current(stage, sheet):
    [annotated] = kinds.sheets_of(stage, pk=sheet.pk)
    return annotated


def sign(stage, sheet, person, **options):
    return sheets.sign_sheet(
        sheet, participant=person, content_hash=current(stage, sheet).hash, **options
    )


def last_frames(room):
    return Event.objects.filter(workshop=room.workshop).order_by("-seq").first().frames


def phone(participant):
    return log_in_participant(Client(), participant)


# Co-writing ---------------------------------------------------------------------------------


def test_it_keeps_the_last_write_of_each_field_and_says_who_wrote_it(room, stage):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet unique")
    sheets.edit_sheet(sheet, participant=room.alice, field="test_what", value="Un guichet")
    sheets.edit_sheet(sheet, participant=room.bruno, field="resources", value="Deux agents")
    sheets.edit_sheet(sheet, participant=room.bruno, field="test_what", value="Un accueil")
    sheet.refresh_from_db()
    assert sheet.test_what == "Un accueil"
    assert sheet.resources == "Deux agents"
    assert sheet.edits["test_what"]["by"] == "Bruno"
    assert sheet.edits["title"]["by"] == "Alice"
    for audience in ("facilitator", "participant"):
        html = last_frames(room)[audience]
        assert "Modifié par Bruno" in html, audience


def test_it_shows_the_loser_of_a_crossing_edit_the_winners_text(room, stage):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet unique")
    alice, bruno = phone(room.alice), phone(room.bruno)
    url = reverse("sheets:edit", args=[room.workshop.pk, sheet.pk])
    # Both open the same field (each form has its own operation id)…
    forms = [c.get(url + "?field=description", **HTMX) for c in (alice, bruno)]
    assert all(f.status_code == 200 for f in forms)
    page = Board(f'<div id="sheets-view-{stage.pk}"></div>')
    # …and save one after the other: the server's order decides.
    for client, text, op in (
        (alice, "Texte d’Alice", "alice-op-0001"),
        (bruno, "Texte de Bruno", "bruno-op-0001"),
    ):
        response = client.post(url, {"field": "description", "value": text, "op_id": op}, **HTMX)
        assert response.status_code == 200
        page.apply(last_frames(room)["participant"])
    sheet.refresh_from_db()
    assert sheet.description == "Texte de Bruno"
    # Alice's phone, which saw both pushes in order, shows Bruno's text.
    view = page.by_id(f"sheet-{sheet.pk}-description").text()
    assert "Texte de Bruno" in view and "Texte d’Alice" not in view


def test_it_refuses_a_due_date_before_the_start_and_changes_nothing(room, stage):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet")
    sheets.edit_sheet(sheet, participant=room.alice, field="start_date", value="2027-01-10")
    with pytest.raises(ActionError) as refused:
        sheets.edit_sheet(sheet, participant=room.bruno, field="due_date", value="2027-01-01")
    assert refused.value.message == french("The due date comes after the start date.")
    sheet.refresh_from_db()
    assert sheet.due_date is None and "due_date" not in sheet.edits


def test_it_sets_owner_and_co_owners_among_the_participants(room, stage):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet")
    sheets.edit_sheet(sheet, participant=room.alice, field="owner", value=str(room.bruno.pk))
    sheets.edit_sheet(sheet, participant=room.alice, field="co_owners", value=[str(room.alice.pk)])
    assert current(stage, sheet).owner_name == "Bruno"
    assert current(stage, sheet).co_owner_names == ["Alice"]
    with pytest.raises(ActionError):
        sheets.edit_sheet(sheet, participant=room.alice, field="owner", value=str(room.olga.pk))


# Signatures ---------------------------------------------------------------------------------


def test_it_co_signs_with_a_client_and_a_supplier_on_their_own_phones(room, stage):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet unique")
    url = reverse("sheets:sign", args=[room.workshop.pk, sheet.pk])
    alice = phone(room.alice)
    # "Je signe", then the confirmation, which carries what she read.
    confirm = alice.get(url, **HTMX)
    assert "Confirmez votre signature" in confirm.content.decode()
    fingerprint = current(stage, sheet).hash
    assert f'value="{fingerprint}"' in confirm.content.decode()
    response = alice.post(
        url, {"hash": fingerprint, "confirm": "1", "op_id": "alice-sign-01"}, **HTMX
    )
    assert response.status_code == 200
    assert current(stage, sheet).state["status"] == "signed_once"
    assert "Signée une fois" in last_frames(room)["projector"]
    bruno = phone(room.bruno)
    response = bruno.post(
        url, {"hash": fingerprint, "confirm": "1", "op_id": "bruno-sign-01"}, **HTMX
    )
    assert response.status_code == 200
    assert current(stage, sheet).state["status"] == "cosigned"
    for audience in AUDIENCES:
        assert "Co-signée" in last_frames(room)[audience], audience
    signatures = {s.display_name: s for s in Signature.objects.filter(sheet=sheet)}
    assert signatures["Alice"].side == "client" and signatures["Bruno"].side == "supplier"
    assert not any(s.entered_by_facilitator for s in signatures.values())


def test_it_records_profile_organisation_time_and_the_hash_of_the_content(room, stage, dora):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet unique")
    sheets.edit_sheet(sheet, participant=room.alice, field="test_who", value="Dora et Alice")
    annotated = current(stage, sheet)
    expected = hashlib.sha256(
        json.dumps(
            annotated.content([], "", []), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ).encode()
    ).hexdigest()
    assert annotated.hash == expected
    before = datetime.datetime.now(datetime.UTC)
    sign(stage, sheet, dora)
    signature = Signature.objects.get(sheet=sheet)
    assert (signature.display_name, signature.profile, signature.organisation) == (
        "Dora",
        Profile.AGENT,
        "DSI",
    )
    assert signature.content_hash == expected
    assert signature.signed_at >= before
    # The hash covers every field: any edit gives another one.
    sheets.edit_sheet(sheet, participant=room.alice, field="test_feedback", value="Un sondage")
    assert current(stage, sheet).hash != expected


def test_it_refuses_a_second_signature_from_the_same_side_with_a_clear_message(room, stage, carla):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet")
    sign(stage, sheet, room.alice)
    response = phone(carla).post(
        reverse("sheets:sign", args=[room.workshop.pk, sheet.pk]),
        {"hash": current(stage, sheet).hash, "confirm": "1", "op_id": "carla-sign-01"},
        **HTMX,
    )
    assert response.status_code == 409
    assert "a déjà signé" in response.content.decode()
    assert Signature.objects.filter(sheet=sheet).count() == 1


def test_it_refuses_a_profile_on_neither_side_when_the_pair_is_required(room, stage):
    pat = actions.join(room.workshop, display_name="Pat", profile=Profile.PARTNER)
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet")
    with pytest.raises(ActionError) as refused:
        sign(stage, sheet, pat)
    assert refused.value.status == 409
    assert "ni côté client ni côté fournisseur" in refused.value.message


def test_it_lets_any_two_co_sign_when_the_stage_says_so(room, carla):
    stage = actions.add_stage(
        room.workshop, kind="actions", title="Test", config={"signatures": "any_two"}
    )
    actions.go_to_stage(room.workshop, stage)
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet")
    sign(stage, sheet, room.alice)
    sign(stage, sheet, carla)  # two clients
    assert current(stage, sheet).state["status"] == "cosigned"
    with pytest.raises(ActionError) as refused:
        sign(stage, sheet, room.bruno)
    assert refused.value.message == french("This sheet is already co-signed.")


def test_it_marks_signatures_to_sign_again_on_every_screen_after_a_change(room, stage):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet")
    sign(stage, sheet, room.alice)
    sign(stage, sheet, room.bruno)
    sheets.edit_sheet(sheet, participant=room.bruno, field="resources", value="Un agent de plus")
    state = current(stage, sheet).state
    assert state["status"] == "draft" and len(state["stale"]) == 2
    for audience in AUDIENCES:
        assert "À signer de nouveau" in last_frames(room)[audience], audience
    assert "sheet-status status-cosigned" not in last_frames(room)["projector"]
    # Signing again gives a valid signature (the same row, the new hash).
    sign(stage, sheet, room.alice)
    state = current(stage, sheet).state
    assert state["status"] == "signed_once" and len(state["stale"]) == 1
    assert Signature.objects.filter(sheet=sheet).count() == 2
    with pytest.raises(ActionError) as refused:
        sign(stage, sheet, room.alice)
    assert refused.value.message == french("You have already signed this version of the sheet.")


def test_it_refuses_a_signature_of_content_that_changed_while_it_was_read(room, stage):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet")
    read = current(stage, sheet).hash
    sheets.edit_sheet(sheet, participant=room.bruno, field="resources", value="Rien")
    with pytest.raises(ActionError) as refused:
        sheets.sign_sheet(sheet, participant=room.alice, content_hash=read)
    assert refused.value.status == 409
    assert not Signature.objects.exists()


def test_it_lets_nobody_sign_for_someone_else_and_not_the_facilitator(room, stage):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet")
    with pytest.raises(ActionError) as refused:
        sheets.sign_sheet(sheet, participant=None, content_hash=current(stage, sheet).hash)
    assert refused.value.status == 403
    # A phone's "as_participant" is refused; the console cannot name a participant with a phone.
    response = phone(room.bruno).post(
        reverse("sheets:sign", args=[room.workshop.pk, sheet.pk]),
        {"hash": current(stage, sheet).hash, "confirm": "1", "as_participant": room.alice.pk},
        **HTMX,
    )
    assert response.status_code == 403
    camille = Client()
    camille.force_login(room.facilitator)
    response = camille.post(
        reverse("sheets:sign_for", args=[room.workshop.pk, sheet.pk]),
        {"hash": current(stage, sheet).hash, "confirm": "1", "as_participant": room.alice.pk},
        **HTMX,
    )
    assert response.status_code == 404
    assert not Signature.objects.exists()


def test_it_enters_the_signature_of_someone_without_a_phone_from_the_console(room, stage):
    paul = actions.add_participant(room.workshop, display_name="Paul", profile=Profile.SUPPLIER)
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet")
    sign(stage, sheet, room.alice)
    camille = Client()
    camille.force_login(room.facilitator)
    url = reverse("sheets:sign_for", args=[room.workshop.pk, sheet.pk])
    form = camille.get(url, **HTMX).content.decode()
    assert "Paul" in form and "Alice" not in form.split("as_participant")[-1]
    response = camille.post(
        url,
        {
            "hash": current(stage, sheet).hash,
            "confirm": "1",
            "as_participant": paul.pk,
            "op_id": "console-sign-01",
        },
        **HTMX,
    )
    assert response.status_code == 200
    signature = Signature.objects.get(sheet=sheet, participant=paul)
    assert signature.entered_by_facilitator
    assert current(stage, sheet).state["status"] == "cosigned"
    for audience in AUDIENCES:
        assert "saisi par l’animateur·rice" in last_frames(room)[audience], audience
    assert "saisi par l’animateur·rice" in report.report_html(
        Workshop.objects.get(pk=room.workshop.pk)
    )


# Origins, the report, the exports ----------------------------------------------------------


@pytest.fixture
def idea(room, monkeypatch):
    """An idea of the room (the ideas kind is another app's): a post-it offered as one."""
    wall = action_wall(room)
    actions.go_to_stage(room.workshop, wall)
    fields = {"column": columns_of(wall)[0]["key"]}
    if colour_choices(wall):
        fields["colour"] = colour_choices(wall)[0]["value"]
    postit = journeys.add_postit(wall, participant=room.alice, text="Un guichet unique", **fields)
    monkeypatch.setattr(
        kinds,
        "workshop_items",
        lambda workshop, type=None: [Item(ref(postit), "idea", postit.text, wall.pk, None, postit)],
    )
    return postit


def test_it_links_a_sheet_to_its_idea_and_prints_the_chain_on_its_own_page(room, idea):
    stage = actions.add_stage(room.workshop, kind="actions", title="Fiches-actions")
    actions.go_to_stage(room.workshop, stage)
    sheet = sheets.add_sheet(stage, participant=room.bruno, title="Guichet", origin=ref(idea))
    assert Trace.objects.filter(derived_id=sheet.pk, origin_id=idea.pk).exists()
    sheets.edit_sheet(sheet, participant=room.alice, field="test_what", value="Ouvrir le lundi")
    sign(stage, sheet, room.alice)
    html = report.report_html(Workshop.objects.get(pk=room.workshop.pk))
    section = html.split('class="report-sheets"')[-1]  # the method has its own sheets stage
    summary, page = section.split('class="sheet-page"', 1)
    assert "Guichet" in summary  # the summary table comes first
    assert "Un guichet unique" in page and "Ouvrir le lundi" in page
    assert "Alice" in page and "Client interne" in page
    # An origin that is not the workshop's is refused.
    with pytest.raises(ActionError):
        sheets.add_sheet(stage, participant=room.bruno, title="Autre", origin="journeys.postit:0")


def test_it_keeps_sheets_signatures_and_links_through_export_and_import(room, idea):
    stage = actions.add_stage(room.workshop, kind="actions", title="Fiches-actions")
    actions.go_to_stage(room.workshop, stage)
    sheet = sheets.add_sheet(stage, participant=room.bruno, title="Guichet", origin=ref(idea))
    sign(stage, sheet, room.alice)
    document = json.loads(json.dumps(transfer.export_workshop(room.workshop)))
    copy = transfer.import_workshop(document, get_user_model().objects.get(username="oscar"))
    [imported] = ActionSheet.objects.filter(workshop=copy)
    assert Trace.objects.filter(workshop=copy, derived_id=imported.pk).count() == 1
    annotated = current(imported.stage, imported)
    assert annotated.state["status"] == "signed_once"  # the hash still matches its content
    assert [s.display_name for s in annotated.state["valid"]] == ["Alice"]


def test_it_writes_one_csv_row_per_sheet_with_its_status(room, stage):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet unique")
    sign(stage, sheet, room.alice)
    text = transfer.export_csv(room.workshop).lstrip("\ufeff")
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=";") if "Guichet unique" in row]
    assert len(rows) == 1 and "Signée une fois" in rows[0]


# The calendar -------------------------------------------------------------------------------


def unfold(body):
    assert body.endswith("\r\n")
    physical = body.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in physical)
    assert not any("\n" in line or "\r" in line for line in physical)
    lines = []
    for line in physical:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def unescape(value):
    out, chars = "", iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out += "\n" if following in "nN" else following
        else:
            out += char
    return out


def events(body):
    found, event = [], None
    for line in unfold(body):
        name, _sep, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            event = {}
        elif line == "END:VEVENT":
            found.append(event)
            event = None
        elif event is not None:
            event[name] = value
    return found


def test_it_gives_each_sheet_its_test_and_review_dates_as_ics(room, stage):
    title = "Guichet, accueil; suivi \\ bilan — un titre assez long pour être plié en deux lignes"
    sheet = sheets.add_sheet(stage, participant=room.alice, title=title)
    sheets.edit_sheet(sheet, participant=room.alice, field="start_date", value="2027-01-04")
    sheets.edit_sheet(sheet, participant=room.alice, field="due_date", value="2027-02-03")
    sheets.edit_sheet(sheet, participant=room.alice, field="test_what", value="Ligne 1\nLigne 2")
    response = phone(room.bruno).get(reverse("sheets:calendar", args=[room.workshop.pk, sheet.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode("utf-8")
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    test, review = events(body)
    assert test["DTSTART;VALUE=DATE"] == "20270104" and test["DTEND;VALUE=DATE"] == "20270105"
    assert review["DTSTART;VALUE=DATE"] == "20270203"
    assert unescape(test["SUMMARY"]) == f"Test : {title}"
    assert unescape(review["SUMMARY"]) == f"Bilan : {title}"
    assert "Quoi : Ligne 1\nLigne 2" in unescape(test["DESCRIPTION"])
    assert "\\;" in test["SUMMARY"] and "\\," in test["SUMMARY"] and "\\\\" in test["SUMMARY"]
    assert test["UID"] != review["UID"]


def test_it_gives_the_console_one_ics_for_all_the_sheets(room, stage):
    for n, day in enumerate(("2027-01-04", "2027-01-11")):
        sheet = sheets.add_sheet(stage, participant=room.alice, title=f"Fiche {n}")
        sheets.edit_sheet(sheet, participant=room.alice, field="start_date", value=day)
    sheets.add_sheet(stage, participant=room.alice, title="Sans date")
    camille = Client()
    camille.force_login(room.facilitator)
    body = camille.get(reverse("sheets:calendar_all", args=[room.workshop.pk])).content.decode()
    assert [e["DTSTART;VALUE=DATE"] for e in events(body)] == ["20270104", "20270111"]
    # Participants get their sheet's file, not the console's.
    assert (
        phone(room.alice).get(reverse("sheets:calendar_all", args=[room.workshop.pk])).status_code
        == 302
    )
