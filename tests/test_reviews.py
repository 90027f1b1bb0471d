"""Reviews (reviews/, docs/reviews.md): then and now, who may record what, the calendar file."""

import datetime
import json
import zoneinfo

import pytest
from django.contrib.auth import get_user_model

from commitments.sheets import actions as sheets
from commitments.sheets.kinds import sheets_of
from commitments.sheets.models import ActionSheet
from commitments.tree import actions as tree
from commitments.tree.models import Commitment
from mapping import actions as mapping
from mapping.models import Flow
from reviews import actions as reviews
from reviews.kinds import build
from reviews.models import ReviewEntry
from workshops import actions
from workshops.exports import report, transfer
from workshops.live.write import ActionError
from workshops.models import Event
from workshops.trace import ref

from .base import HTMX, french, log_in_participant, url


@pytest.fixture
def furnished(room):
    """Two signed sheets, three commitments and a rated flow, as the workshop left them."""
    workshop = room.workshop
    stages = {s.kind: s for s in workshop.stages.all()}
    actions.go_to_stage(workshop, stages["actions"])
    signed = []
    for title in ("Guichet unique", "Charte d’accueil"):
        sheet = sheets.add_sheet(stages["actions"], participant=room.alice, title=title)
        sheets.edit_sheet(sheet, participant=None, field="indicators", value="Délai : 48 h")
        for person in (room.alice, room.bruno):
            [current] = sheets_of(stages["actions"], pk=sheet.pk)
            sheets.sign_sheet(sheet, participant=person, content_hash=current.hash)
        signed.append(sheet)
    actions.go_to_stage(workshop, stages["tree"])
    commitments = [
        tree.add_commitment(stages["tree"], participant=p, sentence="commit", text=t)
        for p, t in ((room.alice, "Répondre sous deux jours"), (room.bruno, "Prévenir"))
    ]
    commitments.append(
        tree.add_commitment(stages["tree"], participant=None, sentence="commit", text="Un point")
    )
    achats = mapping.add_actor(stages["map"], participant=None, name="Achats", circle="suppliers")
    flow = mapping.add_flow(
        stages["map"],
        participant=None,
        source=str(achats.pk),
        target="centre",
        kind="deliverable",
        label="Licences",
    )
    mapping.rate_flow(flow, participant=None, rating="friction")
    return signed, commitments, flow


def _opened(room, label="Bilan à 30 jours", day="2027-01-05"):
    stages = {s.kind: s for s in reviews.open_review(room.workshop, label=label, day=day)}
    return stages


def test_opening_a_review_adds_one_stage_per_kind_with_items_after_the_workshop(room, furnished):
    before = list(room.workshop.stages.values_list("pk", flat=True))
    last = max(room.workshop.stages.values_list("position", flat=True))
    stages = _opened(room)
    assert set(stages) == {"review_actions", "review_commitments", "review_flows"}
    assert all(s.position > last for s in stages.values())
    assert {s.config["review"] for s in stages.values()} == {"bilan-2027-01-05"}
    assert list(room.workshop.stages.values_list("pk", flat=True))[: len(before)] == before
    again = _opened(room, "Bilan à six mois", "2027-06-05")
    assert {s.config["review"] for s in again.values()} == {"bilan-2027-06-05"}


def test_nothing_to_review_is_refused_and_changes_nothing(room):
    count = room.workshop.stages.count()
    with pytest.raises(ActionError) as refused:
        reviews.open_review(room.workshop, label="Bilan", day="2027-01-05")
    assert refused.value.status == 409 and room.workshop.stages.count() == count


@pytest.mark.parametrize(
    "label, day", [("", "2027-01-05"), ("Bilan", "05/01/2027"), ("x" * 81, ""), ("\u202e", "")]
)
def test_a_bad_review_name_or_date_is_refused(room, furnished, label, day):
    count, seq = room.workshop.stages.count(), Event.objects.count()
    with pytest.raises(ActionError):
        reviews.open_review(room.workshop, label=label, day=day)
    assert room.workshop.stages.count() == count and Event.objects.count() == seq


def test_the_workshops_values_survive_any_number_of_reviews(room, furnished):
    signed, commitments, flow = furnished
    before = (
        list(ActionSheet.objects.values_list("pk", "title", "indicators", "updated_at")),
        list(Commitment.objects.values_list("pk", "text")),
        list(Flow.objects.values_list("pk", "rating", "updated_at")),
    )
    report_before = report.report_html(room.workshop)
    for n, (status, rating) in enumerate((("in_progress", "unclear"), ("done", "smooth"))):
        stages = _opened(room, f"Bilan {n}", f"2027-0{n + 1}-05")
        actions.go_to_stage(room.workshop, stages["review_actions"])
        reviews.record(
            stages["review_actions"],
            participant=room.alice,
            item=ref(signed[0]),
            status=status,
            texts={"learned": f"Leçon {n}"},
        )
        reviews.record(stages["review_flows"], participant=None, item=ref(flow), status=rating)
    after = (
        list(ActionSheet.objects.values_list("pk", "title", "indicators", "updated_at")),
        list(Commitment.objects.values_list("pk", "text")),
        list(Flow.objects.values_list("pk", "rating", "updated_at")),
    )
    assert after == before
    # The workshop's report leaves the reviews out (its generation time aside).
    strip = lambda html: html.split('class="generated"')[0]  # noqa: E731
    assert strip(report.report_html(room.workshop)) == strip(report_before)
    # The second review's board: then (friction), now (smooth, better), and the trend.
    flows = [s for s in room.workshop.stages.all() if s.kind == "review_flows"][-1]
    [row] = build(flows)["rows"]
    assert row["then"]["mark"] == "friction" and row["status"] == "smooth"
    assert row["change"][0] == "better"
    assert [h["status"] for h in row["history"]] == ["unclear", "smooth"]
    sheet_rows = build([s for s in room.workshop.stages.all() if s.kind == "review_actions"][-1])
    history = next(r for r in sheet_rows["rows"] if r["ref"] == ref(signed[0]))["history"]
    assert [h["status"] for h in history] == ["in_progress", "done"]


def test_only_its_author_records_a_commitment(room, furnished):
    _signed, commitments, _flow = furnished
    stage = _opened(room)["review_commitments"]
    actions.go_to_stage(room.workshop, stage)
    with pytest.raises(ActionError) as refused:
        reviews.record(stage, participant=room.bruno, item=ref(commitments[0]), status="kept")
    assert refused.value.status == 403 and not ReviewEntry.objects.exists()
    reviews.record(stage, participant=room.alice, item=ref(commitments[0]), status="kept")
    reviews.record(stage, participant=None, item=ref(commitments[2]), status="not_yet")
    assert dict(ReviewEntry.objects.values_list("item_ref", "status")) == {
        ref(commitments[0]): "kept",
        ref(commitments[2]): "not_yet",
    }


def test_only_a_signatory_confirms_and_a_change_takes_confirmations_back(room, furnished):
    signed, _c, _f = furnished
    stage = _opened(room)["review_actions"]
    actions.go_to_stage(room.workshop, stage)
    item = ref(signed[0])
    with pytest.raises(ActionError):  # nothing recorded yet
        reviews.confirm(stage, participant=room.alice, item=item)
    reviews.record(stage, participant=room.bruno, item=item, status="done")
    outsider = actions.join(room.workshop, display_name="Nora", profile="agent")
    for who in (outsider, None):
        with pytest.raises(ActionError) as refused:
            reviews.confirm(stage, participant=who, item=item)
        assert refused.value.status == 403
    reviews.confirm(stage, participant=room.alice, item=item)
    entry = ReviewEntry.objects.get(item_ref=item)
    assert [c.display_name for c in entry.confirmations.all()] == ["Alice"]
    reviews.record(stage, participant=room.bruno, item=item, texts={"measured": "52 h"})
    assert not entry.confirmations.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"item": "commitments.actionsheet:999999", "status": "done"},
        {"status": "kept"},  # not a status of a sheet's review
        {"status": "<script>"},
        {"learned": "x" * 1001},
        {"amendment": "Un amendement"},  # not a field of this kind
        {},
    ],
)
def test_bad_input_on_the_record_route_is_refused_in_french(room, furnished, camille, fields):
    signed, _c, _f = furnished
    stage = _opened(room)["review_actions"]
    data = {"item": ref(signed[0]), "op_id": "op-bad-input-1", **fields}
    seq = Event.objects.count()
    response = camille.post(url("reviews:record", room, stage_pk=stage.pk), data, **HTMX)
    assert response.status_code in (400, 403, 404, 409)
    assert french(response.content.decode())
    assert Event.objects.count() == seq and not ReviewEntry.objects.exists()


def test_the_calendar_file_parses_and_is_in_the_workshops_time_zone(room, furnished, client):
    import icalendar

    stage = _opened(room)["review_actions"]
    log_in_participant(client, room.alice)
    response = client.get(url("reviews:calendar", room, key=stage.config["review"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    start = event.decoded("DTSTART").astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
    assert (start.date(), start.time()) == (datetime.date(2027, 1, 5), datetime.time(9, 30))
    assert calendar["X-WR-TIMEZONE"] == "Europe/Paris"
    assert "Bilan à 30 jours" in str(event["SUMMARY"])


def test_the_review_report_has_its_summary(room, furnished, camille):
    signed, _c, flow = furnished
    stages = _opened(room)
    reviews.record(stages["review_actions"], participant=None, item=ref(signed[0]), status="done")
    reviews.record(stages["review_flows"], participant=None, item=ref(flow), status="smooth")
    from reviews.report import report_html

    html = report_html(room.workshop, list(stages.values()))
    assert "Synthèse" in html and "Mieux" in html and "Faite" in html
    response = camille.get(url("reviews:report", room, key="bilan-2027-01-05"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_a_workshop_with_two_reviews_round_trips_through_the_json_export(room, furnished):
    from tests.test_export import without_timestamps

    signed, commitments, flow = furnished
    first = _opened(room)
    second = _opened(room, "Bilan à six mois", "2027-06-05")
    actions.go_to_stage(room.workshop, first["review_actions"])
    reviews.record(
        first["review_actions"],
        participant=room.alice,
        item=ref(signed[0]),
        status="done",
        texts={"learned": "Tout vient des pièces manquantes"},
    )
    reviews.confirm(first["review_actions"], participant=room.bruno, item=ref(signed[0]))
    reviews.record(second["review_flows"], participant=None, item=ref(flow), status="smooth")
    reviews.record(
        first["review_commitments"], participant=None, item=ref(commitments[1]), status="partly"
    )
    document = json.loads(json.dumps(transfer.export_workshop(room.workshop)))
    oscar = get_user_model().objects.get(username="oscar")
    imported = transfer.import_workshop(json.loads(json.dumps(document)), oscar)
    again = transfer.export_workshop(imported)
    assert without_timestamps(again) == without_timestamps(document)
    assert ReviewEntry.objects.filter(stage__workshop=imported).count() == 3


def test_my_commitments_lists_ones_own_and_nobody_elses(room, furnished, client):
    signed, commitments, _flow = furnished
    stages = _opened(room)
    actions.go_to_stage(room.workshop, stages["review_commitments"])
    reviews.record(
        stages["review_commitments"],
        participant=room.alice,
        item=ref(commitments[0]),
        status="kept",
    )
    log_in_participant(client, room.alice)
    page = client.get(url("reviews:mine", room)).content.decode()
    assert "Répondre sous deux jours" in page and "Prévenir" not in page
    assert "Tenu" in page and "Guichet unique" in page and "calendar.ics" in page
    live = client.get(url("workshops:live", room)).content.decode()
    assert url("reviews:mine", room) in live
