"""JSON export and import (round trip), the CSV, and their console buttons and commands."""

import csv
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from journeys import actions as journeys
from journeys.models import Cluster, PostIt
from mapping import actions as mapping
from mapping.models import Actor, Flow
from tests.base import log_in_participant
from workshops import actions
from workshops.exports import transfer
from workshops.models import Event, Participant, Stage, Workshop

pytestmark = pytest.mark.usefixtures("english_messages")

XSS = '"><svg onload=alert(1)>'


@pytest.fixture(autouse=True)
def _fast(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.VAR_DIR = tmp_path


def furnish(room):
    """Framing, themes, a private and an anonymous wall, a map with a nudge and ratings."""
    workshop = room.workshop
    framing, map_stage = list(workshop.stages.all())[:2]
    journeys.add_postit(framing, participant=room.alice, text="Comprendre\nles irritants")
    theme = journeys.add_cluster(framing, name="Délais")
    late = journeys.add_postit(framing, participant=room.bruno, text="=1+2 réponses lentes")
    journeys.add_cluster(framing, name="Thème vide")
    journeys.assign_cluster(framing, [late.pk], theme)
    journeys.add_postit(framing, participant=None, text="Note de l’animatrice")
    actions.go_to_stage(workshop, map_stage)
    achats = mapping.add_actor(
        map_stage, participant=room.alice, name="Achats", circle="suppliers", description="Marchés"
    )
    usagers = mapping.add_actor(
        map_stage, participant=room.bruno, name="Usagers", circle="clients", scope="external"
    )
    mapping.move_actor(map_stage, str(usagers.pk), x=900, y=150)
    mapping.edit_actor(map_stage, "centre", participant=None, name="", scope="internal")
    flow = mapping.add_flow(
        map_stage,
        participant=room.alice,
        source=str(achats.pk),
        target="centre",
        kind="deliverable",
        label="Licences",
        they_expect="Des besoins clairs",
        we_expect="Des délais",
        mismatch=XSS,
    )
    mapping.rate_flow(flow, participant=room.bruno, rating="unclear")
    mapping.add_flow(
        map_stage,
        participant=room.bruno,
        source="centre",
        target=str(usagers.pk),
        kind="information",
        label="Horaires",
    )
    # An anonymous wall whose authors pick the colour (picked explicitly: the methods'
    # journey stages are of the `journey` kind).
    secret = actions.add_stage(
        workshop,
        kind="wall",
        title="Irritants",
        anonymous=True,
        config={
            "columns": [{"key": "client_view", "label": "Côté client", "colour": "blue"}],
            "colours": ["green", "orange", "red"],
        },
    )
    actions.go_to_stage(workshop, secret)
    column = secret.config["columns"][0]["key"]
    colour = (secret.config.get("colours") or [None])[0]
    journeys.add_postit(
        secret, participant=room.alice, text="Sans nom", column=column, colour=colour
    )
    private = actions.add_stage(workshop, kind="wall", title="En secret", private_writing=True)
    actions.go_to_stage(workshop, private)
    journeys.add_postit(private, participant=room.bruno, text="Pas encore révélé")
    carol = actions.join(workshop, display_name="Carol", profile="partner")
    actions.remove_participant(workshop, carol)
    actions.go_to_stage(workshop, map_stage)
    return Workshop.objects.get(pk=workshop.pk)


def without_timestamps(value):
    if isinstance(value, dict):
        return {k: without_timestamps(v) for k, v in value.items() if not k.endswith("_at")}
    if isinstance(value, list):
        return [without_timestamps(v) for v in value]
    return value


def test_it_exports_and_reimports_the_same_document_into_an_empty_database(room):
    workshop = furnish(room)
    first = transfer.export_workshop(workshop)
    # Through JSON text, as a file would carry it.
    document = json.loads(json.dumps(first, ensure_ascii=False))

    # An empty database (but for the facilitator who imports it).
    Workshop.objects.all().delete()
    get_user_model().objects.exclude(username="camille").delete()
    assert not (PostIt.objects.exists() or Actor.objects.exists() or Event.objects.exists())

    imported = transfer.import_workshop(document, room.facilitator)
    second = transfer.export_workshop(imported)
    assert without_timestamps(second) == without_timestamps(first)

    # And it is a workshop that works: new join link, the same current stage, a live map.
    assert imported.join_token != workshop.join_token
    assert imported.current_stage.kind == "map"
    assert Actor.objects.filter(stage__workshop=imported).count() == 3
    assert Flow.objects.get(label="Licences").rating == "unclear"
    assert Actor.objects.get(name="Usagers").x == 900
    assert PostIt.objects.get(text="=1+2 réponses lentes").cluster.name == "Délais"
    assert Cluster.objects.filter(name="Thème vide").exists()
    assert Participant.objects.get(display_name="Carol").removed_at is not None
    assert PostIt.objects.get(text="Note de l’animatrice").author is None


def test_it_exports_what_each_stage_holds(room):
    document = transfer.export_workshop(furnish(room))
    assert document["format"] == "reciproque.workshop" and document["version"] == 1
    assert [p["display_name"] for p in document["participants"]] == ["Alice", "Bruno", "Carol"]
    assert "id" not in json.dumps(document["participants"][0])
    stages = document["stages"]
    assert [s["kind"] for s in stages][:2] == ["framing", "map"]
    assert sum(s["current"] for s in stages) == 1 and stages[1]["current"]
    wall = stages[0]["data"]
    assert [c["name"] for c in wall["clusters"]] == ["Délais", "Thème vide"]
    assert wall["postits"][0] == {
        **wall["postits"][0],
        "text": "Comprendre\nles irritants",
        "author": 1,
        "cluster": None,
    }
    the_map = stages[1]["data"]
    assert [a["circle"] for a in the_map["actors"]] == ["suppliers", "clients", "centre"]
    assert the_map["flows"][0]["mismatch"] == XSS and the_map["flows"][0]["rated_by"] == 2
    # Anonymous stages: no authorship, even in the backup.
    anonymous = next(s for s in stages if s["anonymous"])
    assert all(p["author"] is None for p in anonymous["data"]["postits"])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"hello": "world"}, "not a Réciproque workshop export"),
        ({"format": "reciproque.workshop", "version": 99}, "another version"),
        ({"format": "reciproque.workshop", "version": 1, "workshop": {}}, "damaged"),
    ],
)
def test_it_refuses_a_file_that_is_not_an_export_and_creates_nothing(room, document, message):
    before = Workshop.objects.count()
    with pytest.raises(transfer.ImportRefused, match=message):
        transfer.import_workshop(document, room.facilitator)
    assert Workshop.objects.count() == before


def test_it_refuses_a_damaged_map_and_leaves_no_half_workshop(room):
    document = transfer.export_workshop(furnish(room))
    document["stages"][1]["data"]["flows"][0]["source"] = 42  # no such actor
    before = (Workshop.objects.count(), Stage.objects.count(), Actor.objects.count())
    with pytest.raises(transfer.ImportRefused, match="damaged"):
        transfer.import_workshop(document, room.facilitator)
    assert (Workshop.objects.count(), Stage.objects.count(), Actor.objects.count()) == before


def test_it_exports_and_imports_with_the_management_commands(room, tmp_path):
    workshop = furnish(room)
    path = tmp_path / "atelier.json"
    call_command("export_workshop", str(workshop.pk), "-o", str(path), stderr=io.StringIO())
    first = json.loads(path.read_text("utf-8"))
    out = io.StringIO()
    call_command("import_workshop", str(path), "--facilitator", "oscar", stdout=out)
    imported = Workshop.objects.get(facilitator__username="oscar", title="Atelier DSI")
    assert f"workshop {imported.pk}" in out.getvalue()
    stdout = io.StringIO()
    call_command("export_workshop", str(imported.pk), stdout=stdout)
    assert without_timestamps(json.loads(stdout.getvalue())) == without_timestamps(first)
    with pytest.raises(CommandError, match="No facilitator"):
        call_command("import_workshop", str(path), "--facilitator", "nobody")
    with pytest.raises(CommandError, match="No workshop"):
        call_command("export_workshop", "999999")


def test_it_writes_one_csv_of_post_its_and_flows(room):
    workshop = furnish(room)
    text = transfer.export_csv(workshop)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    types = [r["Type"] for r in rows]
    assert types.count("post-it") == 5 and types.count("flow") == 2
    flow = next(r for r in rows if r["Text"] == "Licences")
    assert (flow["From"], flow["To"], flow["Colour or rating"]) == ("Achats", "DSI", "Unclear")
    assert flow["When it goes wrong"] == XSS
    # A cell a spreadsheet would compute is kept as text.
    assert any(r["Text"] == "'=1+2 réponses lentes" for r in rows)
    assert next(r for r in rows if r["Text"] == "Délais" or r["Theme"] == "Délais")
    # Private and unrevealed: counted, not printed. Anonymous: no name.
    assert "Pas encore révélé" not in text
    anonymous = next(r for r in rows if r["Text"] == "Sans nom")
    assert anonymous["Author"] == ""


def test_it_offers_the_exports_and_the_import_on_the_console(room, client):
    workshop = furnish(room)
    client.force_login(room.facilitator)
    console = client.get(reverse("workshops:console", args=[workshop.pk])).content.decode()
    for name in ("json", "csv"):
        assert reverse(f"exports:{name}", args=[workshop.pk]) in console
    assert reverse("exports:import") in console
    response = client.get(reverse("exports:json", args=[workshop.pk]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    response = client.get(reverse("exports:csv", args=[workshop.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert "Licences" in response.content.decode("utf-8")

    upload = SimpleUploadedFile(
        "atelier.json", json.dumps(document).encode(), content_type="application/json"
    )
    response = client.post(reverse("exports:import"), {"file": upload})
    imported = Workshop.objects.exclude(pk=workshop.pk).get(facilitator=room.facilitator)
    assert response.status_code == 302
    assert response["Location"] == reverse("workshops:console", args=[imported.pk])
    bad = SimpleUploadedFile("x.json", b"not json", content_type="application/json")
    response = client.post(
        reverse("exports:import"), {"file": bad, "back": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("workshops:dashboard")


def test_it_keeps_the_import_to_facilitators(room, client):
    log_in_participant(client, room.alice)
    upload = SimpleUploadedFile("a.json", b"{}", content_type="application/json")
    response = client.post(reverse("exports:import"), {"file": upload})
    assert response.status_code == 302 and "/login/" in response["Location"]


# Hostile documents: refused with a message, or cleaned; never stored as they came ------

MARKUP_KEY = 'k"><img src=x onerror=alert(1)>'


def _counts():
    return tuple(
        model.objects.count() for model in (Workshop, Stage, Participant, PostIt, Cluster, Actor)
    )


def _wall(document):
    return next(s for s in document["stages"] if s["data"] and "postits" in s["data"])


def _map(document):
    return next(s for s in document["stages"] if s["kind"] == "map")


def _long_postit(document):
    _wall(document)["data"]["postits"][0]["text"] = "x" * 10_002


def _long_title(document):
    document["workshop"]["title"] = "T" * 201


def _markup_column_key(document):
    _wall(document)["config"]["columns"][0]["key"] = MARKUP_KEY


def _markup_postit_column(document):
    _wall(document)["data"]["postits"][0]["column"] = MARKUP_KEY


def _unknown_colour(document):
    _wall(document)["config"]["columns"][0]["colour"] = "red;background:url(x)"


def _markup_config_key(document):
    _map(document)["config"] = {"circles": {"<script>": "x"}}


def _unknown_kind(document):
    document["stages"][0]["kind"] = "<b>evil</b>"


def _absent_kind(document):
    document["stages"][0]["kind"] = "no_such_kind"


def _long_answer(document):
    _map(document)["data"]["flows"][0]["mismatch"] = "m" * 501


def _long_timer(document):
    document["stages"][0]["duration_minutes"] = 601


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_long_postit, "Too long: 10002 characters, 500 at most"),
        (_long_title, "Too long: 201 characters, 200 at most"),
        (_markup_column_key, "lowercase letters"),
        (_markup_postit_column, "lowercase letters"),
        (_unknown_colour, "Unknown colour"),
        (_markup_config_key, "settings are damaged"),
        (_unknown_kind, "unknown kind: <b>evil</b>"),
        (_absent_kind, "unknown kind: no_such_kind"),
        (_long_answer, "Too long: 501 characters, 500 at most"),
        (_long_timer, "600"),
    ],
)
def test_it_refuses_a_hostile_document_with_a_message_and_stores_nothing(room, spoil, message):
    document = json.loads(json.dumps(transfer.export_workshop(furnish(room))))
    spoil(document)
    before = _counts()
    with pytest.raises(transfer.ImportRefused, match="refused|unknown kind") as refused:
        transfer.import_workshop(document, room.facilitator)
    assert message in str(refused.value)
    assert _counts() == before


def test_it_cleans_invisible_characters_out_of_an_imported_document(room):
    document = json.loads(json.dumps(transfer.export_workshop(furnish(room))))
    document["workshop"]["title"] = "Atelier\u202e DSI\x07"
    document["participants"][0]["display_name"] = "Ali\u2066ce"
    _wall(document)["data"]["postits"][0]["text"] = "Comprendre\u202e\r\nles irritants\x1b"
    # A French no-break space is text, not a control character: it stays.
    _wall(document)["data"]["clusters"][0]["name"] = "Délais\u00a0!"
    imported = transfer.import_workshop(document, room.facilitator)
    assert imported.title == "Atelier DSI"
    assert imported.participants.first().display_name == "Alice"
    assert PostIt.objects.filter(
        stage__workshop=imported, text="Comprendre\nles irritants"
    ).exists()
    assert Cluster.objects.filter(stage__workshop=imported, name="Délais\u00a0!").exists()


FORMULAS = [
    "x;=1+1;",
    "y;=cmd|' /C calc'!A0;",
    "a,=2+3,b",
    'q;"=HYPERLINK(""http://evil"")";',
    "p\n@SUM(A1:A9)",
    "r\r\n-2+3",
    "t;\t=1",
    " =1+1",
    "s, ;  +1",
    '=1;"=2",+3',
]


def _formula_cells(cells):
    return [c for c in cells if c.lstrip(' "')[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_it_writes_a_csv_no_spreadsheet_reads_a_formula_from_either_way(room):
    """French Excel splits on ";", others on ","; neither finds a formula in a post-it."""
    workshop = room.workshop
    stage = workshop.stages.first()
    for text in FORMULAS:
        journeys.add_postit(stage, participant=room.alice, text=text)
    body = transfer.export_csv(workshop)
    assert body.startswith("\ufeff")
    body = body[1:]

    # Read as written (";"): every post-it comes back whole, only made inert.
    rows = list(csv.DictReader(io.StringIO(body, newline=""), delimiter=";"))
    texts = [r["Text"] for r in rows if r["Type"] == "post-it"]
    assert len(texts) == len(FORMULAS)
    for typed, cell in zip(FORMULAS, texts, strict=True):
        assert cell.replace("'", "") == typed.replace("\r\n", "\n").strip().replace("'", "")
    problems = []
    for delimiter in (";", ","):
        for cells in csv.reader(io.StringIO(body, newline=""), delimiter=delimiter):
            problems += [(delimiter, c) for c in _formula_cells(cells)]
        # And a reader that ignores quoting altogether, line by line.
        for line in body.splitlines():
            problems += [(delimiter + " naive", c) for c in _formula_cells(line.split(delimiter))]
    assert not problems, problems
