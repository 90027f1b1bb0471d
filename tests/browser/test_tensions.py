"""The tension matrix in real browsers (Diagnostic participatif, in French).

A phone writes a red post-it on the journey; the console promotes it to a
tension (the post-it shows what it led to); everyone moves to the matrix; a
phone adds a cause, another says "me too"; the projector's matrix follows
without a reload. Its own server and workshop; the session's Chromium.
"""

import re

import pytest
from playwright.sync_api import expect

from .conftest import NeverReloaded, daphne_server
from .test_map import FACILITATOR, LAPTOP, PHONE, PROJECTOR, Screen

pytestmark = pytest.mark.browser


# Diagnostic participatif, and a wall of green / orange / red post-its of its own (the
# journey stage may become a kind of its own: the promotion is tested from a wall here).
SETUP = """
import json
from django.contrib.auth import get_user_model
from workshops import actions

user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(
    facilitator=user, method_key="diagnostic", language="fr",
    title="Diagnostic participatif : la DSI et ses services",
)
wall = actions.add_stage(workshop, kind="wall", title="Irritants", config={{
    "columns": [{{"key": "client_view", "label": "Côté client", "colour": "blue"}},
                {{"key": "service_view", "label": "Côté service", "colour": "yellow"}}],
    "colours": ["green", "orange", "red"],
}})
matrix = next(s for s in workshop.stages.all() if s.kind == "tensions")
print("ROOM=" + json.dumps({{"workshop": workshop.pk, "stages": {{
    "wall": wall.pk, "tensions": matrix.pk}}}}))
"""


class MatrixRoom:
    def __init__(self, running, browser):
        self.url = running.url
        self.workshop = running.room["workshop"]
        self.stages = running.room["stages"]
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
            phone = self._screen(name.lower(), viewport=PHONE, is_mobile=True, has_touch=True)
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

    @staticmethod
    def connected(screen):
        screen.page.wait_for_selector("body[data-connection=connected]", timeout=10_000)

    def go(self, stage_pk):
        self.console.page.locator(f"form[action$='/stages/{stage_pk}/go/'] button").first.click()
        for screen in (self.console, self.projector, *self.phones):
            expect(screen.page.locator(f"#board-{stage_pk}")).to_be_visible()

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def matrix_room(browser):
    script = SETUP.format(username=FACILITATOR[0], password=FACILITATOR[1])
    with daphne_server("reciproque-matrix-", script, keep_log="daphne-matrix.log") as running:
        room = MatrixRoom(running, browser)
        yield room
        room.close()


def test_a_red_post_it_becomes_a_tension_a_phone_adds_a_cause_and_the_projector_follows(
    matrix_room, shots
):
    room = matrix_room
    journey = room.stages["wall"]
    tensions = room.stages["tensions"]
    room.go(journey)

    # Alice writes a red post-it on the journey, from her phone.
    alice = room.alice.page
    alice.fill(f"#compose-text-{journey}", "Alerte client : personne ne rappelle")
    alice.locator("input[name=column][value=client_view]").check()
    alice.locator("input[name=colour][value=red]").check()
    alice.get_by_role("button", name="Envoyer").tap()
    console = room.console.page
    postit = console.locator("article.postit", has_text="personne ne rappelle")
    expect(postit).to_be_visible()
    # The console offers "→ Tension" on it; a phone does not.
    expect(alice.locator("article.postit .promote")).to_be_hidden()
    before = room.console.marker()
    postit.get_by_role("button", name="Tension").click()
    expect(console.locator("article.postit .trace-to", has_text="Tension")).to_be_visible()
    assert room.console.still(before), "the console reloaded"
    shots.take(room.console, "promoted", full_page=True)

    # Everyone moves to the matrix: the tension is there, with where it came from.
    room.go(tensions)
    projector = room.projector.page
    row = projector.locator("tr.tension-row", has_text="personne ne rappelle")
    expect(row).to_be_visible()
    expect(row.locator(".trace-from")).to_contain_text("Irritants")
    on_screen = NeverReloaded.marker(room.projector)

    # Bruno adds a cause from his phone.
    bruno = room.bruno.page
    phone_row = bruno.locator("tr.tension-row", has_text="personne ne rappelle")
    phone_row.locator("details.matrix-add summary", has_text="Ajouter une cause").tap()
    phone_row.locator("input[name=kind][value=implicit]").check()
    phone_row.locator("textarea[name=text]").first.fill("Le délai de rappel n’est écrit nulle part")
    phone_row.get_by_role("button", name="Ajouter la cause").tap()
    cause = row.locator("li.cause", has_text="nulle part")
    expect(cause).to_be_visible()
    expect(cause).to_contain_text("Attente implicite")
    expect(projector.locator(".cause-chart .bar.k-implicit .bar-count")).to_have_text("1")

    # Alice says "me too": counted once, on the projector.
    alice_cause = alice.locator("li.cause", has_text="nulle part")
    with alice.expect_response(re.compile(r"/me-too/$")) as accepted:
        alice_cause.get_by_role("button", name="Moi aussi").tap()
    assert accepted.value.status == 200
    expect(cause.locator(".me-too-count")).to_contain_text("1")
    expect(alice_cause.locator(".me-too-count")).to_contain_text("1")  # her page has it too
    with alice.expect_response(re.compile(r"/me-too/$")) as refused:
        alice_cause.get_by_role("button", name="Moi aussi").tap()
    assert refused.value.status == 409
    expect(alice.locator("#toast")).to_contain_text("déjà")
    expect(cause.locator(".me-too-count")).to_contain_text("1")
    assert room.projector.still(on_screen), "the projector reloaded"

    for screen in (room.console, room.projector, *room.phones):
        shots.take(screen, "matrix")
    errors = {s.name: s.errors for s in (room.console, room.projector, *room.phones) if s.errors}
    # The refused second "me too" is a 409 the page shows as a toast: the browser logs it.
    errors = {name: [e for e in found if "409" not in e] for name, found in errors.items()}
    assert not any(errors.values()), errors
