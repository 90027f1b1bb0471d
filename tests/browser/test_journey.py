"""The Diagnostic's interaction journey in real browsers: three phones, the console, the projector.

Its own server and workshop (the Diagnostic method, in French), on its journey
stage with a situation and three steps. Three phones (390x844) write from
their own sides in different colours and rate their emotions; the console
(1366x768) and the projector (1280x720) see the grid, the zone of rupture, the
heat-map and the curves change without a reload.
"""

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect

from .conftest import NeverReloaded, daphne_server

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}
FACILITATOR = ("camille", "pw-camille-journey-123")

SETUP = """
import json
from django.contrib.auth import get_user_model
from journeys.journey import actions as journey
from workshops import actions

user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(
    facilitator=user, method_key="diagnostic", language="fr",
    title="Diagnostic participatif : la DSI et ses services",
    observed_service="Direction des systèmes d’information",
)
stage = next(s for s in workshop.stages.all() if s.kind == "journey")
actions.go_to_stage(workshop, stage)
journey.add_situation(stage, participant=None, name="Alerte client")
for name in ("Premier appel", "Diagnostic", "Clôture"):
    journey.add_step(stage, participant=None, name=name)
print("ROOM=" + json.dumps({{"workshop": workshop.pk, "stage": stage.pk}}))
"""


@dataclass(eq=False)
class Screen(NeverReloaded):
    name: str
    context: object
    page: object
    errors: list = field(default_factory=list)


@pytest.fixture(scope="module")
def journey_room(browser):
    script = SETUP.format(username=FACILITATOR[0], password=FACILITATOR[1])
    with daphne_server("reciproque-journey-", script, keep_log="daphne-journey.log") as running:
        room = JourneyRoom(running.url, running.room, browser)
        yield room
        room.close()


class JourneyRoom:
    def __init__(self, url, ids, browser):
        self.url, self.workshop, self.stage = url, ids["workshop"], ids["stage"]
        self.browser = browser
        self.contexts = []
        self.console = self._screen("console", viewport=LAPTOP)
        page = self.console.page
        page.goto(f"{url}/login/")
        page.fill("#id_username", FACILITATOR[0])
        page.fill("#id_password", FACILITATOR[1])
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(re.compile(r"/workshops/$"))
        page.goto(f"{url}/workshops/{self.workshop}/")
        self.connected(self.console)
        self.projector = self._screen(
            "projector", viewport=PROJECTOR, storage_state=self.console.context.storage_state()
        )
        self.projector.page.goto(f"{url}/workshops/{self.workshop}/projector/")
        self.connected(self.projector)
        link = page.locator(".join-link a").inner_text().strip()
        self.phones = []
        for name, profile in (
            ("Alice", "internal_client"),
            ("Bruno", "supplier"),
            ("Chloé", "agent"),
        ):
            phone = self._screen(name.lower(), viewport=PHONE, is_mobile=True, has_touch=True)
            phone.page.goto(link)
            phone.page.fill("#id_display_name", name)
            phone.page.locator(f"input[name=profile][value={profile}]").check()
            phone.page.locator("form button[type=submit]").last.tap()
            phone.page.wait_for_url(re.compile(rf"/w/{self.workshop}/$"))
            self.connected(phone)
            self.phones.append(phone)
        self.alice, self.bruno, self.chloe = self.phones

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

    def panel(self, phone):
        return phone.page.locator(f"#jphone-{self.stage} .jpanel")

    def close(self):
        for context in self.contexts:
            context.close()


def write(room, phone, colour, text):
    panel = room.panel(phone)
    form = panel.locator("form.jcompose")
    form.locator(f"input[name=colour][value={colour}]").check()
    form.locator("textarea[name=text]").fill(text)
    form.locator(".compose-send").tap()
    expect(panel.locator(".jpostit").filter(has_text=text)).to_have_count(1, timeout=8_000)
    # A fresh compose box after the post.
    expect(panel.locator("form.jcompose textarea[name=text]")).to_have_value("")


def rate(room, phone, value):
    """Tap a face (it says its value and its word); it shows as chosen."""
    panel = room.panel(phone)
    panel.locator(f'button.jface[value="{value}"]').tap()
    expect(panel.locator(f'button.jface.is-chosen[value="{value}"]')).to_have_count(
        1, timeout=8_000
    )


def test_three_phones_write_and_rate_and_every_screen_follows_live(journey_room, shots):
    room = journey_room
    markers = {screen: screen.marker() for screen in (room.console, room.projector, *room.phones)}
    for phone, side in ((room.alice, "client"), (room.bruno, "supplier"), (room.chloe, "service")):
        expect(room.panel(phone)).to_be_visible(timeout=8_000)
        # Each phone's side comes from its profile.
        compose = room.panel(phone).locator("form.jcompose")
        expect(compose.locator(f"input[name=perspective][value={side}]")).to_be_checked()
    shots.take(room.alice, "journey-phone-start")

    # Step 1: the client's side red, the supplier's green: a zone of rupture.
    write(room, room.alice, "red", "Personne ne répond au standard")
    write(room, room.bruno, "green", "La demande arrive complète")
    # Step 2, from the service's side, orange.
    room.panel(room.chloe).get_by_role("link", name=re.compile("Étape suivante")).tap()
    expect(room.panel(room.chloe).locator("h3")).to_have_text("2. Diagnostic", timeout=8_000)
    write(room, room.chloe, "orange", "Qui valide le diagnostic ?")
    rate(room, room.alice, -2)
    rate(room, room.alice, -1)  # changed: still one rating
    rate(room, room.bruno, 2)
    rate(room, room.chloe, 0)
    shots.take(room.chloe, "journey-phone-written")

    texts = ("Personne ne répond au standard", "La demande arrive complète", "Qui valide")
    for screen in (room.console, room.projector):
        grid = screen.page.locator(f"#jboard-{room.stage} table.jlanes")
        for text in texts:
            expect(grid.locator(".jpostit").filter(has_text=text)).to_have_count(1, timeout=8_000)
        expect(grid.locator("th.jstep.is-rupture")).to_have_text(
            re.compile("Premier appel.*Zone de rupture", re.S)
        )
        red = grid.locator(".jpostit.c-red").filter(has_text="Personne ne répond")
        expect(red).to_have_count(1)
    expect(room.projector.page.locator(".journey-ruptures")).to_contain_text("1. Premier appel")
    # The console's ✎ on each card is a 44 px target, with no text under it, and the
    # grid still fits the console's width.
    geometry = room.console.page.locator(f"#jboard-{room.stage}").evaluate(
        """board => {
            const meet = (a, b) => a.left < b.right && b.left < a.right
                && a.top < b.bottom && b.top < a.bottom;
            const links = [...board.querySelectorAll("table.jlanes a.jpostit-edit")];
            return {
                links: links.map(link => {
                    const box = link.getBoundingClientRect();
                    const text = link.closest(".jpostit").querySelector(".jpostit-text");
                    const under = [...text.getClientRects()].some(r => meet(r, box));
                    return {width: box.width, height: box.height, under: under};
                }),
                fits: board.querySelector("table.jlanes").getBoundingClientRect().right
                    <= board.getBoundingClientRect().right + 1,
            };
        }"""
    )
    assert len(geometry["links"]) == 3 and geometry["fits"], geometry
    for link in geometry["links"]:
        assert link["width"] >= 44 and link["height"] >= 44 and not link["under"], geometry
    shots.take(room.console, "journey-console-grid")
    shots.take(room.projector, "journey-projector-grid")
    # A phone sees the others' post-its of its step, by side.
    expect(room.panel(room.bruno).locator(".jlane").filter(has_text="Côté client")).to_contain_text(
        "Personne ne répond au standard"
    )

    # The console switches to the heat-map and the curves; the projector follows.
    room.console.page.get_by_role("button", name=re.compile("Carte de chaleur")).click()
    for screen in (room.console, room.projector):
        heat = screen.page.locator(f"#jboard-{room.stage} svg.journey-heatmap")
        expect(heat).to_be_visible(timeout=8_000)
        expect(heat).to_contain_text("✔1 ◆0 ✖0")  # the supplier's step 1
        expect(heat).to_contain_text("Rupture")
        curve = screen.page.locator(f"#jboard-{room.stage} svg.journey-curve")
        expect(curve).to_contain_text("-1.0 (n=1)")  # Alice's changed rating
        expect(curve).to_contain_text("+2.0 (n=1)")
    # A new rating redraws the curve live.
    rate(room, room.bruno, 1)
    expect(room.projector.page.locator("svg.journey-curve")).to_contain_text(
        "+1.0 (n=1)", timeout=8_000
    )
    shots.take(room.projector, "journey-projector-heatmap")
    shots.take(room.console, "journey-console-heatmap")

    for screen, token in markers.items():
        assert screen.still(token), f"{screen.name} reloaded"
        assert not screen.errors, f"{screen.name}: {screen.errors}"


def test_a_phone_moves_its_post_it_by_tapping(journey_room):
    room = journey_room
    panel = room.panel(room.chloe)
    card = panel.locator(".jpostit").filter(has_text="Qui valide")
    card.get_by_role("link", name=re.compile("Modifier ou déplacer")).tap()
    form = panel.locator("form.jpostit-editing")
    form.locator("select[name=step]").select_option(label="3. Clôture")
    form.locator("input[name=perspective][value=supplier]").check()
    form.locator("button[type=submit]").first.tap()
    room.console.page.get_by_role("button", name=re.compile("Grille")).click()
    grid = room.projector.page.locator(f"#jboard-{room.stage} table.jlanes")
    supplier_row = grid.locator("tbody tr").nth(2)
    expect(supplier_row.locator("td").nth(2)).to_contain_text("Qui valide", timeout=8_000)
    assert not room.chloe.errors and not room.projector.errors


def test_a_phone_keeps_its_colour_and_text_while_another_phone_posts(journey_room):
    # Every post in the room has each phone fetch its panel again: what Bruno has picked
    # and typed, not yet sent, must survive it (else "Publier" stops on an unpicked colour).
    room = journey_room
    panel = room.panel(room.bruno)
    form = panel.locator("form.jcompose")
    form.locator("input[name=colour][value=orange]").check()
    form.locator("textarea[name=text]").fill("Le devis arrive sans le bon numéro")
    write(room, room.alice, "green", "On me rappelle dans l'heure")
    expect(panel.locator(".jlane").filter(has_text="Côté client")).to_contain_text(
        "On me rappelle dans l'heure", timeout=8_000
    )
    expect(form.locator("input[name=colour][value=orange]")).to_be_checked()
    expect(form.locator("textarea[name=text]")).to_have_value("Le devis arrive sans le bon numéro")
    form.locator(".compose-send").tap()
    card = panel.locator(".jpostit.c-orange").filter(has_text="Le devis arrive sans le bon numéro")
    expect(card).to_have_count(1, timeout=8_000)
    expect(form.locator("input[name=colour]:checked")).to_have_count(0)  # a fresh box


def test_the_console_writes_for_the_room_and_keeps_its_choices_across_pushes(journey_room, shots):
    # The facilitator writes what someone says aloud. The board, and the form in it, is
    # redrawn at every write in the room: the step, side, colour and text picked stay.
    room = journey_room
    page = room.console.page
    board = page.locator(f"#jboard-{room.stage}")
    form = board.locator("form.jfcompose")
    expect(form).to_be_visible()
    form.locator("select[name=step]").select_option(label="2. Diagnostic")
    form.locator("input[name=perspective][value=supplier]").check()
    form.locator("input[name=colour][value=red]").check()
    form.locator("textarea[name=text]").fill("Il dit : le bon de commande se perd")
    write(room, room.chloe, "green", "Le technicien rappelle vite")
    expect(board.locator(".jpostit").filter(has_text="rappelle vite")).to_have_count(1)
    # The facilitator adds a step: the form's select lists it, the choices stay.
    tools = board.locator("details.journey-tools")
    tools.locator("summary").click()
    tools.locator(f"#jstep-new-{room.stage}").fill("Rappel")
    tools.get_by_role("button", name=re.compile("Ajouter une étape")).click()
    expect(form.locator("select[name=step] option")).to_have_count(4, timeout=8_000)
    expect(form.locator("select[name=step] option:checked")).to_have_text("2. Diagnostic")
    expect(form.locator("input[name=perspective][value=supplier]")).to_be_checked()
    expect(form.locator("input[name=colour][value=red]")).to_be_checked()
    expect(form.locator("textarea[name=text]")).to_have_value("Il dit : le bon de commande se perd")
    # Every control is a 44 px target, and each has its words.
    sizes = form.evaluate(
        """form => [...form.querySelectorAll("select, label.chip, textarea, .compose-send")]
            .map(el => ({name: el.textContent.trim().slice(0, 30) || el.name,
                         height: el.getBoundingClientRect().height}))"""
    )
    assert all(size["height"] >= 44 for size in sizes), sizes
    for words in ("✔ Interaction fluide", "◆ Malentendu", "✖ Friction"):
        expect(form.locator("label.chip").filter(has_text=words)).to_have_count(1)
    form.scroll_into_view_if_needed()
    shots.take(room.console, "journey-console-compose")
    # Sent from the keyboard.
    form.locator(".compose-send").focus()
    page.keyboard.press("Enter")
    for screen in (room.console, room.projector):
        supplier_row = screen.page.locator(f"#jboard-{room.stage} table.jlanes tbody tr").nth(2)
        cell = supplier_row.locator("td").nth(1)
        expect(cell.locator(".jpostit.c-red")).to_contain_text("le bon de commande", timeout=8_000)
    expect(form.locator("textarea[name=text]")).to_have_value("")
    shots.take(room.console, "journey-console-compose-sent")
    assert not room.console.errors and not room.projector.errors, room.console.errors
