"""The PDF report: built with WeasyPrint, read back with poppler (pdftotext, pdftoppm).

The cover names the workshop and its people by profile; each stage has its
section, drawn by the app that owns its kind; user text is printed literally;
what was private or anonymous stays so. Generating never holds up the room.
"""

import re
import shutil
import subprocess
import threading
import time

import pytest
from django.urls import reverse

from journeys import actions as journeys
from mapping import actions as mapping
from tests.base import log_in_participant
from workshops import actions
from workshops.exports import report
from workshops.models import Profile

XSS = ["<script>alert(1)</script>", '"><svg onload=alert(1)>']

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")),
    reason="poppler-utils (pdftotext, pdftoppm) are needed to read the PDF",
)


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def furnish(room):
    """A workshop that went through framing and the map, with some of everything."""
    workshop = room.workshop
    chloe = actions.join(workshop, display_name="Chloé Lefèvre", profile=Profile.AGENT)
    actions.join(workshop, display_name=XSS[0], profile=Profile.PARTNER, organisation=XSS[1])
    framing, map_stage = list(workshop.stages.all())[:2]
    journeys.add_postit(framing, participant=room.alice, text="Comprendre les irritants")
    journeys.add_postit(framing, participant=chloe, text=XSS[1])
    theme = journeys.add_cluster(framing, name="Délais")
    delay = journeys.add_postit(framing, participant=room.bruno, text="Réponses trop lentes")
    journeys.assign_cluster(framing, [delay.pk], theme)
    actions.go_to_stage(workshop, map_stage)
    achats = mapping.add_actor(
        map_stage, participant=room.alice, name="Achats publics", circle="suppliers"
    )
    usagers = mapping.add_actor(
        map_stage,
        participant=chloe,
        name="Usagers des guichets",
        circle="clients",
        scope="external",
    )
    odd = mapping.add_actor(map_stage, participant=chloe, name=XSS[0], circle="clients")
    flow = mapping.add_flow(
        map_stage,
        participant=room.alice,
        source=str(achats.pk),
        target="centre",
        kind="deliverable",
        label="Licences logicielles",
        they_expect="Des besoins exprimés tôt",
        we_expect="Des délais tenus",
        mismatch="Les projets s’arrêtent",
    )
    mapping.rate_flow(flow, participant=room.bruno, rating="friction")
    mapping.add_flow(
        map_stage,
        participant=chloe,
        source="centre",
        target=str(usagers.pk),
        kind="information",
        label="Horaires d’ouverture",
    )
    mapping.add_flow(
        map_stage,
        participant=chloe,
        source=str(odd.pk),
        target="centre",
        kind="request",
        label=XSS[1],
    )
    return workshop


def pdf_text(path):
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def flat(text):
    return " ".join(text.split())


def test_it_prints_the_cover_the_stages_the_map_and_its_flows(room, tmp_path):
    workshop = furnish(room)
    path = report.write_pdf(workshop, tmp_path / "report.pdf")
    text = flat(pdf_text(path))
    # The cover: title, observed service, perimeter, facilitator, people by profile.
    for expected in ("Atelier DSI", "DSI", "Support applicatif", "camille", "Alice", "Bruno"):
        assert expected in text
    assert "Chloé Lefèvre" in text  # accents survive
    assert re.search(r"Client interne \(1\) • Alice", text)
    assert re.search(r"Fournisseur \(1\) • Bruno", text)
    # Framing: the framing text and the expectations, by column and theme.
    assert "Penser service par les interactions" in text or "interactions" in text
    assert "Comprendre les irritants" in text
    assert "Délais (1)" in text and "Réponses trop lentes" in text
    # The map: its actors, flows, expectations and ratings.
    for expected in (
        "Achats publics",
        "Usagers des guichets",
        "Licences logicielles",
        "Horaires d’ouverture",
        "Des besoins exprimés tôt",
        "Des délais tenus",
        "Les projets s’arrêtent",
        "Friction",
        "Qui dépend de nous",
    ):
        assert expected in text, expected
    # Page numbers on every page but the cover.
    pages = int(re.search(r"Pages:\s+(\d+)", _pdfinfo(path)).group(1))
    assert pages >= 7
    assert f"Page 2 / {pages}" in text and f"Page {pages} / {pages}" in text


def test_it_prints_user_text_literally(room, tmp_path):
    workshop = furnish(room)
    html = report.report_html(workshop)
    assert "<script>alert(1)</script>" not in html
    assert "<svg onload" not in html
    text = pdf_text(report.write_pdf(workshop, tmp_path / "report.pdf"))
    assert "<script>alert(1)</script>" in text
    assert '"><svg onload=alert(1)>' in text


def test_it_renders_every_page_as_an_image(room, tmp_path):
    workshop = furnish(room)
    path = report.write_pdf(workshop, tmp_path / "report.pdf")
    pages = int(re.search(r"Pages:\s+(\d+)", _pdfinfo(path)).group(1))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(path), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    assert all(image.stat().st_size > 1000 for image in images)


def test_it_keeps_private_and_anonymous_stages_so(room, tmp_path):
    workshop = room.workshop
    private = actions.add_stage(workshop, kind="wall", title="En secret", private_writing=True)
    anonymous = actions.add_stage(workshop, kind="wall", title="Sans nom", anonymous=True)
    actions.go_to_stage(workshop, private)
    journeys.add_postit(private, participant=room.alice, text="Mon chef ne répond jamais")
    journeys.add_postit(private, participant=room.bruno, text="Trop de réunions")
    actions.go_to_stage(workshop, anonymous)
    journeys.add_postit(anonymous, participant=room.bruno, text="Personne ne sait qui décide")
    text = flat(pdf_text(report.write_pdf(workshop, tmp_path / "report.pdf")))
    assert "Mon chef ne répond jamais" not in text and "Trop de réunions" not in text
    assert re.search(r"2 post-its .*(privé|private)", text)
    assert "Personne ne sait qui décide" in text
    section = text.split("Sans nom")[-1]
    assert "Bruno" not in section


def test_it_writes_the_workshops_language(room, tmp_path):
    html = report.report_html(room.workshop)
    assert '<html lang="fr">' in html
    room.workshop.language = "en"
    room.workshop.save()
    html = report.report_html(room.workshop)
    assert '<html lang="en">' in html and "Workshop report" in html


# The background job ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the job's thread reads committed data
def test_it_generates_in_the_background_and_says_so(room, monkeypatch):
    started, release = threading.Event(), threading.Event()

    def slow_pdf(workshop, path):
        started.set()
        release.wait(10)
        path.write_bytes(b"%PDF-1.7 test")
        return path

    jobs = []
    monkeypatch.setattr(report, "write_pdf", slow_pdf)
    monkeypatch.setattr(report, "spawn", lambda target, *args: jobs.append((target, args)))
    status = report.start_report(room.workshop)
    assert status["state"] == "running"
    # Asking again while it runs does not start a second job.
    assert report.start_report(room.workshop)["job"] == status["job"]
    assert len(jobs) == 1
    # The job runs on its own thread: the caller got its answer before the PDF exists.
    target, args = jobs[0]
    thread = threading.Thread(target=target, args=args)
    thread.start()
    assert started.wait(5)
    assert report.read_status(room.workshop.pk)["state"] == "running"
    assert report.ready_file(room.workshop.pk) is None
    release.set()
    thread.join(10)
    status = report.read_status(room.workshop.pk)
    assert status["state"] == "ready"
    assert report.ready_file(room.workshop.pk).read_bytes().startswith(b"%PDF")


def test_it_reports_a_failed_job_and_lets_it_start_again(room, monkeypatch):
    def broken(workshop, path):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(report, "write_pdf", broken)
    monkeypatch.setattr(report, "spawn", lambda target, *args: target(*args))
    report.start_report(room.workshop)
    assert report.read_status(room.workshop.pk)["state"] == "failed"
    monkeypatch.setattr(report, "spawn", lambda target, *args: None)
    assert report.start_report(room.workshop)["state"] == "running"


def test_it_lets_the_console_start_poll_and_download(room, client, monkeypatch):
    furnish(room)
    jobs = []
    monkeypatch.setattr(report, "spawn", lambda target, *args: jobs.append((target, args)))
    client.force_login(room.facilitator)
    client.defaults["HTTP_HX_REQUEST"] = "true"
    pk = room.workshop.pk
    console = client.get(reverse("workshops:console", args=[pk])).content.decode()
    assert reverse("exports:report_start", args=[pk]) in console
    download = reverse("exports:report_download", args=[pk])
    assert client.get(download).status_code == 404
    started = time.monotonic()
    response = client.post(reverse("exports:report_start", args=[pk]))
    assert time.monotonic() - started < 2  # the answer does not wait for the PDF
    body = response.content.decode()
    assert 'hx-trigger="every 1s"' in body and "is-running" in body
    target, args = jobs[0]
    target(*args)  # the job itself (a real WeasyPrint run)
    polled = client.get(reverse("exports:report_status", args=[pk])).content.decode()
    assert "every 1s" not in polled and download in polled
    pdf = client.get(download)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert "attachment" in pdf["Content-Disposition"]


def test_it_keeps_the_report_to_the_facilitator(room, client):
    pk = room.workshop.pk
    log_in_participant(client, room.alice)
    for name in ("report_status", "report_download", "json", "csv"):
        response = client.get(reverse(f"exports:{name}", args=[pk]))
        assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(room.other_facilitator)
    for name in ("report_status", "report_download", "json", "csv"):
        assert client.get(reverse(f"exports:{name}", args=[pk])).status_code == 404
    assert client.post(reverse("exports:report_start", args=[pk])).status_code == 404


def _pdfinfo(path):
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
