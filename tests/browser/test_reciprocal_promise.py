"""Promesse de service interne: two pairs fill two interface rows, the room co-writes the
promise, and the A3 poster downloads.

Its own server and workshop (the Promesse method, in French), a console (laptop
1366x768), a projector (1280x720) and four phones (390x844). The tests run in
order and share the room.
"""

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import NeverReloaded, daphne_server
from .test_axe import audit

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}
SMALL_PHONE = {"width": 360, "height": 740}
FACILITATOR = ("camille", "pw-camille-promise-123")
SHOTS = Path("/tmp/reciprocal-shots")

SETUP = """
import json
from django.contrib.auth import get_user_model
from commitments.promise import actions as promise
from commitments.reciprocal import actions as reciprocal
from workshops import actions

user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(
    facilitator=user, method_key="promesse", language="fr",
    title="Promesse de service : la DSI", observed_service="DSI",
)
table = workshop.stages.get(kind="reciprocal")
stage = workshop.stages.get(kind="promise")
actions.go_to_stage(workshop, table)
for label in ("Service comptabilité", "Service RH", "Service logistique"):
    reciprocal.add_row(table, label=label)
whole = promise.add_promise(stage, client="")
print("ROOM=" + json.dumps({{"workshop": workshop.pk, "table": table.pk, "stage": stage.pk,
                            "promise": whole.pk}}))
"""


@dataclass(eq=False)
class Screen(NeverReloaded):
    name: str
    context: object
    page: object
    errors: list = field(default_factory=list)


class PromiseRoom:
    def __init__(self, running, browser):
        self.url = running.url
        self.room = running.room
        self.workshop = running.room["workshop"]
        self.browser = browser
        self.contexts = []
        self.console = self._screen("console", viewport=LAPTOP, accept_downloads=True)
        page = self.console.page
        page.goto(f"{self.url}/login/")
        page.fill("#id_username", FACILITATOR[0])
        page.fill("#id_password", FACILITATOR[1])
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(re.compile(r"/workshops/$"))
        page.goto(f"{self.url}/workshops/{self.workshop}/")
        self.connected(self.console)
        self.projector = self._screen(
            "projector", viewport=PROJECTOR, storage_state=self.console.context.storage_state()
        )
        self.projector.page.goto(f"{self.url}/workshops/{self.workshop}/projector/")
        self.connected(self.projector)
        link = page.locator(".join-link a").inner_text().strip()
        self.phones = {}
        for name, profile, organisation in (
            ("Alice", "agent", ""),
            ("Bruno", "agent", ""),
            ("Chloé", "agent", ""),
            ("David", "internal_client", "RH"),
        ):
            key = name.lower().replace("é", "e")
            phone = self._screen(key, viewport=PHONE, is_mobile=True, has_touch=True)
            phone.page.goto(link)
            phone.page.fill("#id_display_name", name)
            phone.page.locator(f"input[name=profile][value={profile}]").check()
            if organisation:
                phone.page.fill("#id_organisation", organisation)
            phone.page.locator("form button[type=submit]").last.tap()
            phone.page.wait_for_url(re.compile(rf"/w/{self.workshop}/$"))
            self.connected(phone)
            self.phones[key] = phone

    def _screen(self, name, **options):
        context = self.browser.new_context(**options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        screen = Screen(name=name, context=context, page=page)
        page.on(
            "console",
            lambda message: screen.errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: screen.errors.append(str(error)))
        return screen

    @property
    def screens(self):
        return [self.console, self.projector, *self.phones.values()]

    @staticmethod
    def connected(screen):
        screen.page.wait_for_selector("body[data-connection=connected]", timeout=10_000)

    def shot(self, screen, name, viewport=None):
        SHOTS.mkdir(parents=True, exist_ok=True)
        if viewport:
            screen.page.set_viewport_size(viewport)
        screen.page.screenshot(path=str(SHOTS / f"{name}.png"))

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def promise_room(browser):
    script = SETUP.format(username=FACILITATOR[0], password=FACILITATOR[1])
    with daphne_server("reciproque-promise-", script, keep_log="daphne-promise.log") as running:
        room = PromiseRoom(running, browser)
        yield room
        room.close()


def _row(page, service):
    return page.locator("article.rrow").filter(has_text=service)


def test_two_pairs_fill_two_interface_rows(promise_room):
    room = promise_room
    pairs = {"Service comptabilité": ("alice", "bruno"), "Service RH": ("chloe", "david")}
    for service, people in pairs.items():
        for key in people:
            row = _row(room.phones[key].page, service)
            row.locator(".rrow-take button").tap()
            expect(row.locator(".pair-member.is-own")).to_have_count(1, timeout=8_000)
    # The pair list is the same everywhere, and the table on the console shows who holds what.
    console = room.console.page
    expect(console.locator("tr.reciprocal-row").filter(has_text="Service RH")).to_contain_text(
        "Chloé"
    )
    writes = {
        ("alice", "Service comptabilité", "acceptable"): "Une réponse sous 48 h",
        ("bruno", "Service comptabilité", "we_commit"): "Prévenir avant chaque clôture",
        ("chloe", "Service RH", "unacceptable"): "Un dossier perdu sans nouvelles",
        ("david", "Service RH", "they_commit"): "Envoyer les entrées un mois avant",
    }
    for (key, service, field_name), text in writes.items():
        form = _row(room.phones[key].page, service).locator(
            f"form.rrow-cell:has(input[name=field][value={field_name}])"
        )
        form.locator("textarea").fill(text)
        form.locator("button").tap()
    for text in writes.values():
        expect(console.locator(".reciprocal-table")).to_contain_text(text, timeout=8_000)
    # David is from the HR service: its row opens the fourth column, on the projector too.
    projector = room.projector.page
    expect(projector.locator(".reciprocal-table thead")).to_contain_text("X s’engage à")
    expect(projector.locator(".row-present")).to_have_count(1)
    expect(projector.locator(".cell-missing").first).to_contain_text("À remplir")
    room.shot(room.console, "table-console-1366")
    room.shot(room.projector, "table-projector-1280")
    room.shot(room.phones["alice"], "table-phone-390")
    room.shot(room.phones["alice"], "table-phone-360", SMALL_PHONE)
    room.phones["alice"].page.set_viewport_size(PHONE)
    problems = audit(console, "console, table", [LAPTOP])
    problems += audit(projector, "projector, table", [PROJECTOR])
    problems += audit(room.phones["alice"].page, "phone, table", [PHONE, SMALL_PHONE])
    room.phones["alice"].page.set_viewport_size(PHONE)
    assert not problems, "\n".join(map(str, problems))


def test_the_room_co_writes_the_promise(promise_room):
    room = promise_room
    console = room.console.page
    console.locator(".stage-item").filter(has_text="Notre promesse de service").locator(
        "form button"
    ).first.click()
    for phone in room.phones.values():
        expect(phone.page.locator(".board-promise")).to_have_count(1, timeout=8_000)
    alice, bruno = room.phones["alice"].page, room.phones["bruno"].page
    first = alice.locator("form.promise-edit").last
    first.locator("textarea").fill("Nous répondons à chaque demande, et nous disons quand.")
    first.locator("button").tap()
    expect(bruno.locator(".promise-para-text")).to_contain_text("Nous répondons", timeout=8_000)
    second = bruno.locator("form.promise-edit").last
    second.locator("textarea").fill("Un interlocuteur suit votre demande jusqu’au bout.")
    second.locator("button").tap()
    expect(alice.locator(".promise-para-text")).to_have_count(2, timeout=8_000)
    expect(room.projector.page.locator(".promise-edited")).to_contain_text(["Alice", "Bruno"])
    for key, text in (
        ("chloe", "Répondre sous 48 heures"),
        ("david", "Nommer un interlocuteur"),
        ("alice", "Prévenir avant chaque changement"),
    ):
        form = room.phones[key].page.locator("form.promise-add")
        form.locator("input[name=text]").fill(text)
        form.locator("button").tap()
        expect(console.locator(".promise-commitments")).to_contain_text(text, timeout=8_000)
    for key in ("alice", "david"):
        room.phones[key].page.locator(".promise-sign button").tap()
        expect(room.phones[key].page.locator(".signatory.is-own")).to_have_count(1)
        expect(room.phones[key].page.locator(".promise-sign")).to_be_hidden()
    expect(room.projector.page.locator(".promise-signatories")).to_contain_text("David")
    room.shot(room.console, "promise-console-1366")
    room.shot(room.projector, "promise-projector-1280")
    room.shot(room.phones["alice"], "promise-phone-390")
    room.shot(room.phones["alice"], "promise-phone-360", SMALL_PHONE)
    room.phones["alice"].page.set_viewport_size(PHONE)
    problems = audit(console, "console, promise", [LAPTOP])
    problems += audit(room.phones["bruno"].page, "phone, promise", [PHONE, SMALL_PHONE])
    room.phones["bruno"].page.set_viewport_size(PHONE)
    assert not problems, "\n".join(map(str, problems))


def test_the_poster_pdf_downloads(promise_room):
    room = promise_room
    console = room.console.page
    with console.expect_download() as download:
        console.locator("a[href$='poster.pdf']").first.click()
    path = Path(tempfile.mkdtemp()) / "poster.pdf"
    download.value.save_as(path)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    assert "Nous répondons à chaque demande" in flat and "David" in flat
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "poster-browser.pdf").write_bytes(path.read_bytes())
    for screen in room.screens:
        assert not screen.errors, f"{screen.name}: {screen.errors}"
