"""The 30-day review, in a real browser, with the phones that ran the workshop.

Three phones join the Diagnostic workshop and the workshop's outcome is written
on its own database as the room left it: two action sheets signed by Alice and
Bruno, three commitments (one each), a map flow rated "friction". Then the
facilitator opens the 30-day review from the console; the same three browser
contexts (the same phones: same session) and a newcomer follow it without a
reload; a phone records a sheet's status, its signatory confirms, each author
says whether their commitment was kept (and only theirs), the flow is rated
again and the projector shows then and now, with the change as an icon and a
word. The review's PDF has its summary. The tests run in order and share the room.
"""

import re
import subprocess
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect

from .conftest import NeverReloaded, daphne_server, shell
from .test_axe import audit

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}
SMALL_PHONE = {"width": 360, "height": 740}
FACILITATOR = ("camille", "pw-camille-review-123")

SETUP = """
import json
from django.contrib.auth import get_user_model
from workshops import actions

user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(
    facilitator=user, method_key="diagnostic", language="fr",
    title="Diagnostic : le support applicatif", observed_service="Support applicatif",
)
print("ROOM=" + json.dumps({{"workshop": workshop.pk}}))
"""

# What the workshop left, written by the phones that joined (found by name).
OUTCOME = """
from commitments.sheets import actions as sheets
from commitments.sheets.kinds import sheets_of
from commitments.tree import actions as tree
from mapping import actions as mapping
from workshops import actions
from workshops.models import Workshop

workshop = Workshop.objects.get(pk={workshop})
people = {{p.display_name: p for p in workshop.participants.all()}}
stages = {{s.kind: s for s in workshop.stages.all()}}
the_map = stages["map"]
achats = mapping.add_actor(the_map, participant=None, name="Achats", circle="suppliers")
flow = mapping.add_flow(the_map, participant=None, source=str(achats.pk), target="centre",
                        kind="deliverable", label="Licences")
mapping.rate_flow(flow, participant=None, rating="friction")
actions.go_to_stage(workshop, stages["actions"])
for title in ("Guichet unique des demandes", "Charte d’accueil commune"):
    sheet = sheets.add_sheet(stages["actions"], participant=people["Alice"], title=title)
    sheets.edit_sheet(sheet, participant=None, field="indicators", value="Délai : 48 h")
    for name in ("Alice", "Bruno"):
        [current] = sheets_of(stages["actions"], pk=sheet.pk)
        sheets.sign_sheet(sheet, participant=people[name], content_hash=current.hash)
actions.go_to_stage(workshop, stages["tree"])
for name, text in (("Alice", "Répondre sous deux jours"), ("Bruno", "Prévenir avant une coupure"),
                   ("Chloé", "Un point chaque mois")):
    tree.add_commitment(stages["tree"], participant=people[name], sentence="commit", text=text)
print("DONE")
"""

PEOPLE = [("Alice", "internal_client"), ("Bruno", "supplier"), ("Chloé", "agent")]


@dataclass(eq=False)
class Screen(NeverReloaded):
    name: str
    context: object
    page: object
    errors: list = field(default_factory=list)


class ReviewRoom:
    def __init__(self, running, browser):
        self.running = running
        self.url = running.url
        self.workshop = running.room["workshop"]
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
        self.link = page.locator(".join-link a").inner_text().strip()
        self.phones = {name: self.join(name, profile) for name, profile in PEOPLE}
        self.projector = self._screen(
            "projector", viewport=PROJECTOR, storage_state=self.console.context.storage_state()
        )

    def join(self, name, profile):
        phone = self._screen(name, viewport=PHONE, is_mobile=True, has_touch=True)
        phone.page.goto(self.link)
        phone.page.fill("#id_display_name", name)
        phone.page.locator(f"input[name=profile][value={profile}]").check()
        phone.page.locator("form button[type=submit]").last.tap()
        phone.page.wait_for_url(re.compile(rf"/w/{self.workshop}/$"))
        self.connected(phone)
        return phone

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

    def move_to(self, title):
        stage = self.console.page.locator(".stage-item").filter(has_text=title)
        stage.get_by_role("button", name="Amener tout le monde ici").click()
        expect(self.projector.page.locator("h1, h2").filter(has_text=title).first).to_be_visible(
            timeout=8_000
        )

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def review_room(browser):
    script = SETUP.format(username=FACILITATOR[0], password=FACILITATOR[1])
    with daphne_server("reciproque-review-", script, keep_log="daphne-review.log") as running:
        room = ReviewRoom(running, browser)
        assert "DONE" in shell(running, OUTCOME.format(workshop=room.workshop))
        # Weeks later: the same phones (same contexts, same sessions) open the workshop again.
        for screen in (room.console, *room.phones.values()):
            screen.page.reload()
            room.connected(screen)
        room.projector.page.goto(f"{room.url}/workshops/{room.workshop}/projector/")
        room.connected(room.projector)
        yield room
        room.close()


def test_it_opens_the_review_and_the_same_phones_follow_without_a_reload(review_room, shots):
    room = review_room
    console = room.console.page
    markers = {phone.name: phone.marker() for phone in room.phones.values()}
    tool = console.locator(".review-tool")
    expect(tool.locator("#review-label")).to_have_value("Bilan à 30 jours")
    tool.get_by_role("button", name="Ajouter les étapes du bilan").click()
    expect(console.locator(".stage-item").filter(has_text="Bilan à 30 jours")).to_have_count(
        3, timeout=8_000
    )
    room.move_to("Bilan à 30 jours · Fiches-actions")
    for name, phone in room.phones.items():
        expect(phone.page.locator(".rv-card")).to_have_count(2, timeout=8_000)
        assert phone.still(markers[name]), f"{name} reloaded"
    # A newcomer joins the review.
    room.phones["David"] = room.join("David", "external_client")
    expect(room.phones["David"].page.locator(".rv-card")).to_have_count(2)


def test_a_phone_records_a_sheet_and_its_signatory_confirms(review_room, shots):
    room = review_room
    bruno = room.phones["Bruno"].page
    card = bruno.locator(".rv-card").filter(has_text="Guichet unique")
    card.get_by_role("button", name="Faite").tap()
    projector = room.projector.page
    row = projector.locator("tr.rv-row").filter(has_text="Guichet unique")
    expect(row.locator(".rv-status")).to_contain_text("Faite", timeout=8_000)
    # Alice signed it: her phone offers the confirmation; David's (no signature) does not.
    alice = room.phones["Alice"].page.locator(".rv-card").filter(has_text="Guichet unique")
    expect(room.phones["David"].page.locator(".rv-confirm").first).to_be_hidden()
    alice.locator(".rv-confirm button").tap()
    expect(row.locator(".rv-confirmed")).to_contain_text("Alice", timeout=8_000)
    expect(alice.locator(".rv-confirm")).to_be_hidden()
    shots.take(room.projector, "review-actions")
    shots.take(room.phones["Alice"], "review-actions", full_page=True)


def test_each_author_says_whether_their_commitment_was_kept(review_room, shots):
    room = review_room
    room.move_to("Bilan à 30 jours · Nos engagements")
    alice = room.phones["Alice"].page
    own = alice.locator(".rv-card.is-own")
    expect(own).to_have_count(1, timeout=8_000)
    expect(own).to_contain_text("Répondre sous deux jours")
    # Bruno's commitment is shown to Alice without its buttons.
    other = alice.locator(".rv-card").filter(has_text="Prévenir avant")
    expect(other.get_by_role("button", name="Tenu")).to_be_hidden()
    own.get_by_role("button", name="Tenu", exact=True).tap()
    row = room.projector.page.locator("tr.rv-row").filter(has_text="Répondre sous deux jours")
    expect(row.locator(".rv-status")).to_contain_text("Tenu", timeout=8_000)
    shots.take(room.phones["Alice"], "review-commitments", full_page=True)


def test_a_new_phone_takes_chloes_place_back_once_the_facilitator_confirms(review_room, shots):
    room = review_room
    phone = room._screen("Chloé (new phone)", viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.page
    page.goto(room.link)
    page.locator("details.reclaim summary").tap()
    page.get_by_label("Chloé").check()
    page.get_by_role("button", name="C’est moi : demander à l’animateur").tap()
    expect(page.locator("#reclaim-wait")).to_contain_text("redevenir Chloé")
    shots.take(phone, "reclaim-wait")
    # Not Chloé yet: the facilitator confirms from the console's participant panel.
    ask = room.console.page.locator(".reclaim-ask").filter(has_text="Chloé")
    expect(ask).to_have_count(1, timeout=8_000)
    shots.take(room.console, "reclaim-ask")
    ask.get_by_role("button", name="Oui, c’est Chloé").click()
    page.wait_for_url(re.compile(rf"/w/{room.workshop}/$"), timeout=10_000)
    room.connected(phone)
    expect(page.locator(".livefoot .me")).to_contain_text("Chloé")
    own = page.locator(".rv-card.is-own")
    expect(own).to_have_count(1)
    expect(own).to_contain_text("Un point chaque mois")
    room.phones["Chloé (new phone)"] = phone


def test_the_projector_shows_then_and_now_for_the_flows(review_room, shots):
    room = review_room
    room.move_to("Bilan à 30 jours · Les flux de la carte, à nouveau")
    console = room.console.page
    console.locator("tr.rv-row").filter(has_text="Licences").get_by_role(
        "button", name="Fluide"
    ).click()
    # The projector redraws the map: the flow in its new rating, the change under its label.
    note = room.projector.page.locator(".rv-map .map-flow-note")
    expect(note).to_contain_text("Mieux", timeout=8_000)
    expect(room.projector.page.locator(".rv-map .map-flow.rating-smooth")).to_have_count(1)
    # The console's table: then and now side by side.
    row = console.locator("tr.rv-row").filter(has_text="Licences")
    expect(row.locator(".rv-then")).to_contain_text("Friction")
    expect(row.locator(".rv-change")).to_contain_text("Mieux")
    size = room.projector.page.evaluate(
        "() => [document.documentElement.scrollHeight, document.documentElement.scrollWidth]"
    )
    assert size[0] <= PROJECTOR["height"] and size[1] <= PROJECTOR["width"], size
    shots.take(room.projector, "review-flows")
    shots.take(room.console, "review-flows")


def test_the_review_pdf_has_its_summary(review_room, tmp_path):
    room = review_room
    href = room.console.page.locator(".review-tool a").filter(has_text="PDF").get_attribute("href")
    response = room.console.page.request.get(room.url + href)
    assert response.status == 200 and response.body().startswith(b"%PDF")
    pdf = tmp_path / "bilan.pdf"
    pdf.write_bytes(response.body())
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Synthèse" in text and "Mieux" in text and "Faite" in text and "Tenu" in text


def test_it_passes_axe_on_the_review(review_room):
    room = review_room
    problems = audit(room.console.page, "console, review", [LAPTOP])
    problems += audit(room.projector.page, "projector, review", [PROJECTOR])
    problems += audit(room.phones["Alice"].page, "phone, review", [PHONE, SMALL_PHONE])
    room.phones["Alice"].page.set_viewport_size(PHONE)
    assert not problems, "\n".join(map(str, problems))
    for screen in room.screens:
        assert not screen.errors, (screen.name, screen.errors)
