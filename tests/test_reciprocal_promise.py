"""The table of reciprocal commitments and the service promise (commitments/, seed 002).

A row taken from a map actor follows its renames and outlives its deletion,
text kept; the fourth column opens only when the service is in the room; a
pair holds a row and only its pair writes it; the after-workshop record opens
to phones with the follow-up; the promise is last-writer-wins per paragraph,
named; three to five ways of working; each signs on their own phone; the A3
poster shows the promise (pdftotext) and renders as A3 pages (pdftoppm).
"""

import json
import re
import shutil
import subprocess

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from commitments.models import Holder, Paragraph, PromiseSignature, Row
from commitments.promise import actions as promise
from commitments.promise import poster
from commitments.promise.kinds import promise_rows
from commitments.reciprocal import actions as reciprocal
from commitments.reciprocal.kinds import build_table, table_rows
from commitments.reciprocal.presence import in_room, words
from mapping import actions as mapping
from workshops import actions
from workshops.exports import transfer
from workshops.live.regions import render_live
from workshops.live.write import ActionError
from workshops.models import Profile, Workshop

from .base import log_in_participant
from .test_export import without_timestamps

HTMX = {"HTTP_HX_REQUEST": "true"}


def french(message):
    with translation.override("fr"):
        return gettext(message)


@pytest.fixture
def table(room):
    """A map with two client services, and the table that took them as rows."""
    map_stage = actions.add_stage(room.workshop, kind="map", title="Carte")
    compta = mapping.add_actor(map_stage, participant=None, name="Comptabilité", circle="clients")
    mapping.add_actor(map_stage, participant=None, name="Service RH", circle="clients")
    mapping.add_actor(map_stage, participant=None, name="Éditeur", circle="suppliers")
    stage = actions.add_stage(room.workshop, kind="reciprocal", title="Engagements")
    actions.go_to_stage(room.workshop, stage)
    rows = reciprocal.prefill_rows(stage, circle="clients")
    return {"stage": stage, "map": map_stage, "compta": compta, "rows": rows}


@pytest.fixture
def promise_stage(room):
    stage = actions.add_stage(room.workshop, kind="promise", title="Promesse")
    actions.go_to_stage(room.workshop, stage)
    return stage


def live(room):
    return Workshop.objects.select_related("current_stage").get(pk=room.workshop.pk)


def shown(stage, row):
    return next(r for r in build_table(stage)["rows"] if r.pk == row.pk)


# The table ------------------------------------------------------------------------------


def test_it_takes_one_row_per_actor_of_the_circle_once(room, table):
    assert [r.label for r in table["rows"]] == ["Comptabilité", "Service RH"]
    with pytest.raises(ActionError) as refused:
        reciprocal.prefill_rows(table["stage"], circle="clients")
    assert refused.value.status == 409
    assert [r.label for r in reciprocal.prefill_rows(table["stage"], circle="suppliers")] == [
        "Éditeur"
    ]


def test_it_follows_a_renamed_actor_and_keeps_a_deleted_ones_row_and_text(room, table):
    stage, row = table["stage"], table["rows"][0]
    reciprocal.write_cell(stage, participant=None, row=row.pk, field="we_commit", text="48 h")
    mapping.edit_actor(
        table["map"], str(table["compta"].pk), participant=None, name="DAF", scope="internal"
    )
    assert shown(stage, row).shown_label == "DAF"
    assert "DAF" in render_live(live(room), "projector")[0]

    mapping.delete_actor(table["map"], str(table["compta"].pk), participant=None)
    gone = shown(stage, row)
    assert gone.actor_deleted and gone.we_commit == "48 h"
    html = render_live(live(room), "facilitator")[0]
    assert french("deleted from the map") in html and "48 h" in html
    assert Row.objects.filter(pk=row.pk).exists()


def test_it_opens_the_fourth_column_only_when_the_service_is_in_the_room(room, table):
    stage, row = table["stage"], table["rows"][0]
    reciprocal.take_row(stage, participant=room.alice, row=row.pk)
    with pytest.raises(ActionError) as refused:
        reciprocal.write_cell(
            stage, participant=room.alice, row=row.pk, field="they_commit", text="Payer à 30 j"
        )
    assert refused.value.status == 409
    assert refused.value.message == french(
        "This column opens when someone of that service is in the room."
    )
    assert len(shown(stage, row).cells) == 3

    actions.join(
        room.workshop,
        display_name="Dora",
        profile=Profile.INTERNAL_CLIENT,
        organisation="la comptabilite",
    )
    assert shown(stage, row).in_room and len(shown(stage, row).cells) == 4
    reciprocal.write_cell(
        stage, participant=room.alice, row=row.pk, field="they_commit", text="Payer à 30 j"
    )
    assert Row.objects.get(pk=row.pk).they_commit == "Payer à 30 j"
    # The other service's row stays on three columns.
    assert len(shown(stage, table["rows"][1]).cells) == 3


@pytest.mark.parametrize(
    ("label", "organisation", "match"),
    [
        ("Service comptabilité", "Comptabilité", True),
        ("Service RH", "rh", True),
        ("Service R & D", "R&D", True),
        ("Comptabilité fournisseurs", "Comptabilité", False),
        ("Service", "Service", False),
    ],
)
def test_it_matches_a_service_to_an_organisation_word_for_word(label, organisation, match):
    assert in_room(label, {words(organisation)}) is match


def test_it_lets_a_pair_hold_a_row_and_only_its_pair_write_it(room, table):
    stage, row = table["stage"], table["rows"][0]
    carol = actions.join(room.workshop, display_name="Carol", profile=Profile.AGENT)
    reciprocal.take_row(stage, participant=room.alice, row=row.pk)
    reciprocal.take_row(stage, participant=room.bruno, row=row.pk)
    with pytest.raises(ActionError) as full:
        reciprocal.take_row(stage, participant=carol, row=row.pk)
    assert full.value.status == 409
    with pytest.raises(ActionError) as not_hers:
        reciprocal.write_cell(stage, participant=carol, row=row.pk, field="acceptable", text="x")
    assert not_hers.value.status == 403
    assert Row.objects.get(pk=row.pk).acceptable == ""

    reciprocal.write_cell(
        stage, participant=room.bruno, row=row.pk, field="unacceptable", text="Aucun retour"
    )
    board = render_live(live(room), "facilitator")[0]
    assert "Alice" in board and "Bruno" in board and "Aucun retour" in board
    # Taking another row leaves the first.
    reciprocal.take_row(stage, participant=room.bruno, row=table["rows"][1].pk)
    assert [h.row_id for h in Holder.objects.filter(participant=room.bruno)] == [
        table["rows"][1].pk
    ]


def test_it_marks_the_empty_cells_with_an_icon_and_a_word(room, table):
    html = render_live(live(room), "projector")[0]
    assert html.count(french("To fill in")) == 6 and "⚠" in html


def test_it_opens_the_meeting_record_to_phones_after_the_workshop(room, table, client):
    stage, row = table["stage"], table["rows"][0]
    reciprocal.take_row(stage, participant=room.alice, row=row.pk)
    actions.go_to_stage(room.workshop, table["map"])
    with pytest.raises(ActionError) as closed:
        reciprocal.record_meeting(stage, participant=room.alice, row=row.pk, met="1")
    assert closed.value.status == 409

    reciprocal.set_follow_up(stage, open=True)
    log_in_participant(client, room.alice)
    page = client.get(reverse("commitments:follow_up_page", args=[room.workshop.pk, stage.pk]))
    assert page.status_code == 200 and "Comptabilité" in page.content.decode()
    assert "Service RH" not in page.content.decode()  # not her row
    response = client.post(
        reverse("commitments:record_meeting", args=[room.workshop.pk, stage.pk]),
        {"row": row.pk, "met": "1", "met_on": "2026-01-15", "feedback": "Ils veulent un SLA"},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.met and str(row.met_on) == "2026-01-15" and row.feedback == "Ils veulent un SLA"


def test_it_refuses_a_meeting_date_without_the_meeting_in_french(room, table):
    with pytest.raises(ActionError) as refused:
        reciprocal.record_meeting(
            table["stage"], participant=None, row=table["rows"][0].pk, met="", met_on="2026-01-02"
        )
    assert refused.value.message == french("Tick that you met the interface before giving a date.")


def test_it_writes_the_table_as_csv_rows(room, table):
    stage, row = table["stage"], table["rows"][0]
    reciprocal.write_cell(stage, participant=None, row=row.pk, field="expects_from_us", text="Vite")
    with translation.override("fr"):
        rows = table_rows(stage)
    assert rows[0]["category"] == "Comptabilité" and rows[0]["they_expect"] == "Vite"


# The promise ----------------------------------------------------------------------------


def test_it_keeps_the_last_writer_per_paragraph_with_their_name(room, promise_stage):
    whole = promise.add_promise(promise_stage, client="")
    promise.write_paragraph(
        promise_stage, participant=room.alice, promise=whole.pk, position=0, text="A1"
    )
    promise.write_paragraph(
        promise_stage, participant=room.bruno, promise=whole.pk, position=1, text="B2"
    )
    # Bruno rewrites the first: his text wins there, Alice's second paragraph is untouched.
    promise.write_paragraph(
        promise_stage, participant=room.bruno, promise=whole.pk, position=0, text="B1"
    )
    paragraphs = list(Paragraph.objects.filter(promise=whole))
    assert [(p.text, p.edited_by.display_name) for p in paragraphs] == [
        ("B1", "Bruno"),
        ("B2", "Bruno"),
    ]
    promise.write_paragraph(
        promise_stage, participant=room.alice, promise=whole.pk, position=1, text="A2"
    )
    html = render_live(live(room), "projector")[0]
    assert "B1" in html and "A2" in html and "Alice" in html


def test_it_holds_five_ways_of_working_at_most(room, promise_stage):
    whole = promise.add_promise(promise_stage, client="")
    for n in range(5):
        promise.add_commitment(
            promise_stage, participant=room.alice, promise=whole.pk, text=f"M{n}"
        )
    with pytest.raises(ActionError) as refused:
        promise.add_commitment(promise_stage, participant=room.alice, promise=whole.pk, text="M6")
    assert refused.value.status == 409 and "5" in refused.value.message


def test_it_lets_each_person_sign_on_their_own_phone_only(room, promise_stage):
    whole = promise.add_promise(promise_stage, client="")
    with pytest.raises(ActionError) as refused:
        promise.sign(promise_stage, participant=None, promise=whole.pk)
    assert refused.value.status == 403
    promise.sign(promise_stage, participant=room.alice, promise=whole.pk)
    promise.sign(promise_stage, participant=room.alice, promise=whole.pk)
    assert PromiseSignature.objects.filter(promise=whole).count() == 1
    promise.sign(promise_stage, participant=room.alice, promise=whole.pk, signed=False)
    assert not PromiseSignature.objects.filter(promise=whole).exists()


LONG_SERVICE = "Direction des systèmes d’information et du numérique régional"[:60]


def _long_promise(room, stage):
    Workshop.objects.filter(pk=room.workshop.pk).update(observed_service=LONG_SERVICE)
    whole = promise.add_promise(stage, client="Service des ressources humaines et de la paie")
    for position in range(4):
        text = ("Nous répondons à chaque demande avec soin et dans les délais annoncés. " * 5)[:300]
        promise.write_paragraph(
            stage, participant=room.alice, promise=whole.pk, position=position, text=text
        )
    for n in range(5):
        promise.add_commitment(
            stage,
            participant=room.bruno,
            promise=whole.pk,
            text=(f"{n + 1}. Un interlocuteur nommé, joignable, qui rappelle sous 24 h " * 3)[:160],
        )
    promise.sign(stage, participant=room.alice, promise=whole.pk)
    promise.sign(stage, participant=room.bruno, promise=whole.pk)
    return whole


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils")
def test_the_poster_shows_the_promise_on_one_a3_page(room, promise_stage, client, tmp_path):
    whole = promise.add_promise(promise_stage, client="Service RH")
    promise.write_paragraph(
        promise_stage,
        participant=room.alice,
        promise=whole.pk,
        position=0,
        text="Nous répondons <vite> & bien.",
    )
    promise.add_commitment(promise_stage, participant=room.bruno, promise=whole.pk, text="Un SLA")
    promise.sign(promise_stage, participant=room.alice, promise=whole.pk)
    client.force_login(room.facilitator)
    response = client.get(
        reverse("commitments:poster", args=[room.workshop.pk, promise_stage.pk, whole.pk])
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Nous répondons <vite> & bien." in text
    assert "DSI" in text and "Un SLA" in text and "Alice" in text and "Service RH" in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+1\n", info) and "841.89 x 1190.55" in info  # A3 portrait, points


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils")
def test_the_poster_keeps_a_long_name_and_the_longest_promise_on_one_page(
    room, promise_stage, tmp_path
):
    whole = _long_promise(room, promise_stage)
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(poster.render_pdf(promise_stage, whole))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+1\n", info)
    subprocess.run(["pdftoppm", "-png", "-r", "20", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p*.png"))
    assert len(pages) == 1
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Bruno" in text.replace("\n", " ")


def test_only_the_facilitator_downloads_the_poster(room, promise_stage, client):
    whole = promise.add_promise(promise_stage, client="")
    url = reverse("commitments:poster", args=[room.workshop.pk, promise_stage.pk, whole.pk])
    log_in_participant(client, room.alice)
    assert client.get(url).status_code in (302, 403, 404)


def test_it_writes_the_promise_as_csv_rows(room, promise_stage):
    whole = promise.add_promise(promise_stage, client="")
    promise.write_paragraph(promise_stage, participant=None, promise=whole.pk, position=0, text="P")
    promise.add_commitment(promise_stage, participant=None, promise=whole.pk, text="C")
    with translation.override("fr"):
        rows = promise_rows(promise_stage)
    assert [r["text"] for r in rows] == ["P", "C"]


# The backup -----------------------------------------------------------------------------


def test_it_brings_back_rows_pairs_links_meetings_paragraphs_and_signatures(
    room, table, promise_stage
):
    stage, row = table["stage"], table["rows"][0]
    actions.go_to_stage(room.workshop, stage)
    reciprocal.take_row(stage, participant=room.alice, row=row.pk)
    reciprocal.write_cell(stage, participant=room.alice, row=row.pk, field="acceptable", text="OK")
    actions.go_to_stage(room.workshop, promise_stage)
    reciprocal.record_meeting(stage, participant=None, row=row.pk, met="1", met_on="2026-01-02")
    whole = promise.add_promise(promise_stage, client="")
    promise.write_paragraph(
        promise_stage, participant=room.bruno, promise=whole.pk, position=0, text="Promis"
    )
    promise.sign(promise_stage, participant=room.alice, promise=whole.pk)
    first = transfer.export_workshop(room.workshop)
    document = json.loads(json.dumps(first, ensure_ascii=False))
    imported = transfer.import_workshop(document, room.facilitator)
    again = transfer.export_workshop(imported)
    assert without_timestamps(again["stages"]) == without_timestamps(first["stages"])

    new_stage = imported.stages.get(kind="reciprocal")
    new_row = Row.objects.get(stage=new_stage, label="Comptabilité")
    assert new_row.acceptable == "OK" and new_row.met and str(new_row.met_on) == "2026-01-02"
    assert [h.participant.display_name for h in new_row.holders.all()] == ["Alice"]
    # The link to its actor came back: a rename of the imported actor renames the row.
    new_map = imported.stages.get(kind="map", title="Carte")
    actor = new_map.actors.get(name="Comptabilité")
    mapping.edit_actor(new_map, str(actor.pk), participant=None, name="DAF", scope="internal")
    assert shown(new_stage, new_row).shown_label == "DAF"
    new_promise = imported.stages.get(kind="promise").promises.get()
    assert new_promise.paragraphs.get().edited_by.display_name == "Bruno"
    assert [s.participant.display_name for s in new_promise.signatures.all()] == ["Alice"]
    assert Workshop.objects.count() == 3


@pytest.mark.parametrize(
    "public_url, link",
    [("", None), ("https://atelier.example.fr", "https://atelier.example.fr/workshops/")],
)
def test_the_report_links_the_poster_only_by_its_whole_address(
    room, promise_stage, settings, public_url, link
):
    # A relative link in a PDF leads nowhere: without PUBLIC_URL the report says where to
    # find the poster in words.
    from workshops.exports.report import report_context

    settings.PUBLIC_URL = public_url
    promise.add_promise(promise_stage, client="Service RH")
    section = next(
        s for s in report_context(room.workshop)["sections"] if s["stage"].pk == promise_stage.pk
    )
    hrefs = re.findall(r'href="([^"]*)"', section["body"])
    if link is None:
        assert hrefs == [] and "à cette étape" in section["body"]
    else:
        assert len(hrefs) == 1 and hrefs[0].startswith(link) and hrefs[0].endswith("poster.pdf")
