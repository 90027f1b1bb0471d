"""Action sheets in real browsers: two phones co-write a sheet, each signs on its own phone.

Its own server and workshop (the Diagnostic method, in French), a console
(1366x768), a projector (1280x720) and two phones (390x844 and 360x740). The
console sees "Co-signée" arrive without a reload; an edit afterwards marks
the signatures "À signer de nouveau" on every screen.
"""

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import NeverReloaded, daphne_server

pytestmark = pytest.mark.browser

RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "browser"

LAPTOP = {"width": 1366, "height": 768}
PROJECTOR = {"width": 1280, "height": 720}
PHONES = {"alice": {"width": 390, "height": 844}, "bruno": {"width": 360, "height": 740}}
FACILITATOR = ("camille", "pw-camille-sheets-123")

SETUP = """
import json
from django.contrib.auth import get_user_model
from workshops import actions

user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(
    facilitator=user, method_key="diagnostic", language="fr",
    title="Diagnostic participatif : la DSI et ses services",
    observed_service="Direction des systèmes d’information",
)
print("ROOM=" + json.dumps({{
    "workshop": workshop.pk,
    "sheets": next(s.pk for s in workshop.stages.all() if s.kind == "actions"),
}}))
"""


@dataclass
class SheetServer:
    url: str
    workshop: int
    stage: int
    var_dir: Path


@pytest.fixture(scope="module")
def sheet_server():
    script = SETUP.format(username=FACILITATOR[0], password=FACILITATOR[1])
    with daphne_server("reciproque-sheets-", script, keep_log="daphne-sheets.log") as running:
        yield SheetServer(
            url=running.url,
            workshop=running.room["workshop"],
            stage=running.room["sheets"],
            var_dir=Path(running.env["RECIPROQUE_VAR_DIR"]),
        )


@dataclass(eq=False)
class Screen(NeverReloaded):
    name: str
    context: object
    page: object
    errors: list = field(default_factory=list)


class SheetRoom:
    def __init__(self, server, browser):
        self.url, self.workshop, self.stage = server.url, server.workshop, server.stage
        self.browser = browser
        self.contexts = []
        self.console = self._screen("console", viewport=LAPTOP)
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
        self.phones = []
        for name, profile in (("Alice", "internal_client"), ("Bruno", "supplier")):
            phone = self._screen(
                name.lower(), viewport=PHONES[name.lower()], is_mobile=True, has_touch=True
            )
            phone.page.goto(link)
            phone.page.fill("#id_display_name", name)
            phone.page.locator(f"input[name=profile][value={profile}]").check()
            phone.page.locator("form button[type=submit]").last.tap()
            phone.page.wait_for_url(re.compile(rf"/w/{self.workshop}/$"))
            self.connected(phone)
            self.phones.append(phone)
        self.alice, self.bruno = self.phones

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
        return [self.console, self.projector, *self.phones]

    @staticmethod
    def connected(screen):
        screen.page.wait_for_selector("body[data-connection=connected]", timeout=10_000)

    def slot(self, screen):
        return screen.page.locator(f"#sheet-form-{self.stage}")

    def edit(self, phone, sheet, field, text):
        page = phone.page
        page.locator(f"#sheet-{sheet}-{field} a").tap()
        form = self.slot(phone).locator("form")
        expect(form).to_be_visible()
        form.locator("[name=value]").fill(text)
        form.locator("button[type=submit]").tap()
        expect(form).to_have_count(0)

    def sign(self, phone, sheet):
        page = phone.page
        page.locator(f"#sheet-{sheet} .sheet-actions a[href$='/sign/']").tap()
        form = self.slot(phone).locator("form.sign-form")
        expect(form).to_contain_text("Confirmez votre signature")
        form.locator("button[type=submit]").tap()
        expect(form).to_have_count(0)

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def sheet_room(sheet_server, browser):
    room = SheetRoom(sheet_server, browser)
    yield room
    room.close()


def test_two_phones_co_write_and_co_sign_a_sheet_and_an_edit_asks_to_sign_again(sheet_room, shots):
    room = sheet_room
    room.console.page.locator(
        f"#stage-list form[action$='/stages/{room.stage}/go/'] button"
    ).click()
    for screen in room.screens:
        expect(screen.page.locator(f"#board-{room.stage}")).to_be_attached(timeout=8_000)
    markers = {screen: screen.marker() for screen in room.screens}

    # Alice opens a sheet from her phone; everyone sees it.
    page = room.alice.page
    page.locator(f"#board-{room.stage} .sheet-tools a[href$='/sheets/new/']").tap()
    form = room.slot(room.alice).locator("form")
    form.locator("input[name=title]").fill("Un guichet unique pour les demandes")
    form.locator("button[type=submit]").tap()
    expect(form).to_have_count(0)
    card = room.console.page.locator(".sheet-card").filter(has_text="Un guichet unique")
    expect(card).to_have_count(1, timeout=8_000)
    sheet = card.get_attribute("id").removeprefix("sheet-")
    for screen in room.screens:
        expect(screen.page.locator(f"#sheets-view-{room.stage}")).to_contain_text(
            "Un guichet unique"
        )

    # Both phones write at once, each its own fields.
    room.edit(room.alice, sheet, "test_what", "Un accueil commun aux deux équipes")
    room.edit(room.bruno, sheet, "resources", "Deux agents du support, un créneau par semaine")
    room.edit(room.bruno, sheet, "indicators", "Délai de réponse : 48 h\nDemandes relancées : 0")
    for screen in (room.console, *room.phones):
        view = screen.page.locator(f"#sheet-{sheet}")
        expect(view).to_contain_text("Un accueil commun aux deux équipes", timeout=8_000)
        expect(view).to_contain_text("Deux agents du support")
        expect(view.locator(f"#sheet-{sheet}-resources")).to_contain_text("Modifié par Bruno")
    shots.take(room.alice, "sheets-cowritten")

    # Each signs on their own phone; the console sees "Co-signée" arrive.
    room.sign(room.alice, sheet)
    expect(room.console.page.locator(f"#sheet-{sheet} .sheet-status")).to_contain_text(
        "Signée une fois", timeout=8_000
    )
    room.sign(room.bruno, sheet)
    for screen in (room.console, room.projector):
        expect(screen.page.locator(f"#sheets-view-{room.stage} .sheet-status")).to_contain_text(
            "Co-signée", timeout=8_000
        )
    expect(room.console.page.locator(f"#sheet-{sheet} .signature.is-valid")).to_have_count(2)
    shots.everyone(room, "sheets-cosigned")

    # An edit afterwards: both signatures are to be given again, on every screen.
    room.edit(room.alice, sheet, "test_feedback", "Un questionnaire de trois questions")
    for screen in room.screens:
        expect(screen.page.locator(f"#sheets-view-{room.stage}")).to_contain_text(
            "À signer de nouveau", timeout=8_000
        )
        expect(screen.page.locator(f"#sheets-view-{room.stage} .sheet-status")).not_to_contain_text(
            "Co-signée"
        )
    shots.everyone(room, "sheets-to-sign-again")

    for screen in room.screens:
        assert screen.still(markers[screen]), f"{screen.name} reloaded"
        assert not screen.errors, f"{screen.name}: {screen.errors}"


def test_it_prints_the_signed_sheet_on_a_page_of_its_own(sheet_room, shots):
    room = sheet_room
    card = room.console.page.locator(".sheet-card").filter(has_text="Un guichet unique")
    sheet = card.get_attribute("id").removeprefix("sheet-")
    # Both sign again the sheet as it reads now.
    for phone in room.phones:
        room.sign(phone, sheet)
    expect(room.projector.page.locator(f"#sheet-row-{sheet} .sheet-status")).to_contain_text(
        "Co-signée", timeout=8_000
    )
    # The phone's calendar file.
    ics = room.alice.page.request.get(f"{room.url}/w/{room.workshop}/sheets/{sheet}/calendar.ics")
    assert ics.ok and ics.headers["content-type"].startswith("text/calendar")
    assert ics.text().startswith("BEGIN:VCALENDAR\r\n")

    console = room.console.page
    console.locator("#export-panel form[action$='/report/'] button").click()
    link = console.locator("#report-status a[href$='/report/download/']")
    expect(link).to_be_visible(timeout=90_000)
    with console.expect_download() as download:
        link.click()
    RESULTS.mkdir(parents=True, exist_ok=True)
    pdf = RESULTS / "sheets-report.pdf"
    download.value.save_as(str(pdf))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    page = text.split("FICHE-ACTION 1 / 1")[-1]
    for expected in (
        "Un guichet unique pour les demandes",
        "Co-signée",
        "Alice",
        "Client interne",
        "Bruno",
        "Fournisseur",
        "Un accueil commun aux deux équipes",
        "Délai de réponse",
        "48 h",
        "Un questionnaire de trois questions",
    ):
        assert expected in page, expected
    assert "À signer de nouveau" not in page
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(RESULTS / "sheets-report-page")],
        check=True,
    )
