"""The Diagnostic template in real browsers: framing, then the three-circle map, then the PDF.

Its own server and workshop (the Diagnostic method, in French, as a room would
run it), a console (laptop 1366x768), a projector and three phones (390x844).
It reuses the session's Chromium (`browser`) and screenshots (`shots`) from
conftest.py. The tests run in order and share the room.
"""

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import NeverReloaded, daphne_server, join, log_in

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results" / "browser"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}
FACILITATOR = ("camille", "pw-camille-map-123")

SETUP = """
import json
from django.contrib.auth import get_user_model
from workshops import actions

user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(
    facilitator=user, method_key="diagnostic", language="fr",
    title="Diagnostic participatif : la DSI et ses services",
    observed_service="Direction des systèmes d’information",
    perimeter="Demandes d’intervention et support applicatif",
    intention="Clarifier ce que chacun attend de l’autre",
)
print("ROOM=" + json.dumps({{
    "workshop": workshop.pk,
    "stages": {{s.kind if s.kind != "wall" else f"wall-{{s.position}}": s.pk
               for s in workshop.stages.all()}},
}}))
"""


# The server and the room -----------------------------------------------------------------


@dataclass
class MapServer:
    url: str
    workshop: int
    stages: dict
    var_dir: Path


@pytest.fixture(scope="module")
def map_server():
    script = SETUP.format(username=FACILITATOR[0], password=FACILITATOR[1])
    with daphne_server("reciproque-map-", script, keep_log="daphne-map.log") as running:
        yield MapServer(
            url=running.url,
            workshop=running.room["workshop"],
            stages=running.room["stages"],
            var_dir=Path(running.env["RECIPROQUE_VAR_DIR"]),
        )


@dataclass(eq=False)
class Screen(NeverReloaded):
    name: str
    context: object
    page: object
    errors: list = field(default_factory=list)


class MapRoom:
    def __init__(self, server, browser):
        self.server = server
        self.url = server.url
        self.workshop = server.workshop
        self.map_pk = server.stages["map"]
        self.framing_pk = server.stages["framing"]
        self.browser = browser
        self.contexts = []
        self.console = self._screen("console", viewport=LAPTOP)
        page = self.console.page
        log_in(page, self.url, FACILITATOR)
        page.goto(f"{self.url}/workshops/{self.workshop}/")
        self.connected(self.console)
        self.projector = self._screen(
            "projector", viewport=PROJECTOR, storage_state=self.console.context.storage_state()
        )
        self.projector.page.goto(f"{self.url}/workshops/{self.workshop}/projector/")
        self.connected(self.projector)
        link = page.locator(".join-link a").inner_text().strip()
        self.phones = []
        for name, profile in (
            ("Alice", "internal_client"),
            ("Bruno", "supplier"),
            ("Chloé", "agent"),
        ):
            phone = self._screen(name.lower(), viewport=PHONE, is_mobile=True, has_touch=True)
            join(phone.page, link, name, profile)
            assert phone.page.url.endswith(f"/w/{self.workshop}/"), phone.page.url
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

    @property
    def screens(self):
        return [self.console, self.projector, *self.phones]

    @staticmethod
    def connected(screen):
        screen.page.wait_for_selector("body[data-connection=connected]", timeout=10_000)

    def move_everyone_to(self, stage_pk):
        self.console.page.locator(
            f"#stage-list form[action$='/stages/{stage_pk}/go/'] button"
        ).click()
        for screen in self.screens:
            expect(screen.page.locator(f"#board-{stage_pk}")).to_be_attached(timeout=8_000)

    def svg_actor(self, screen, name):
        return screen.page.locator(f"#map-svg-{self.map_pk} .map-actor").filter(has_text=name)

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def map_room(map_server, browser):
    room = MapRoom(map_server, browser)
    yield room
    room.close()


def add_actor(room, phone, name, circle, external=False):
    page = phone.page
    page.locator(f"#board-{room.map_pk} .map-tools a[href$='/actors/new/']").tap()
    form = page.locator(f"#actor-form-{room.map_pk}")
    expect(form).to_be_visible()
    form.locator("input[name=name]").fill(name)
    form.locator(f"input[name=circle][value={circle}]").check()
    if external:
        form.locator("input[name=scope][value=external]").check()
    form.locator("button[type=submit]").tap()
    expect(form).to_have_count(0)  # the slot empties once it is saved


# 1. Framing ---------------------------------------------------------------------------------


def test_it_runs_the_framing_with_three_phones(map_room, shots):
    room = map_room
    expect(room.console.page.locator(f"#board-{room.framing_pk}")).to_be_visible()
    expectations = {
        room.alice: "Comprendre pourquoi nos demandes traînent",
        room.bruno: "Savoir ce que la DSI attend de ses fournisseurs",
        room.chloe: "Des priorités claires et partagées",
    }
    for phone, text in expectations.items():
        form = phone.page.locator("form.compose")
        form.locator("textarea[name=text]").fill(text)
        form.locator(".compose-send").tap()
    for screen in room.screens:
        for text in expectations.values():
            expect(
                screen.page.locator(".postit:not(.is-pending)").filter(has_text=text)
            ).to_have_count(1, timeout=8_000)
    shots.take(room.console, "map-framing")
    shots.take(room.alice, "map-framing")


# 2. The map, drawn from the phones ----------------------------------------------------------


def test_it_shows_a_phones_actors_and_flow_on_the_laptops_svg_without_a_reload(map_room, shots):
    room = map_room
    room.move_everyone_to(room.map_pk)
    markers = {screen: screen.marker() for screen in room.screens}
    console = room.console.page
    expect(console.locator(f"#map-svg-{room.map_pk}")).to_be_visible()
    # The seed's key questions, on every screen.
    for screen in room.screens:
        expect(screen.page.locator(f"#board-{room.map_pk} .map-questions")).to_contain_text(
            "Qui dépend de nous"
        )

    add_actor(room, room.alice, "Achats publics", "suppliers", external=True)
    add_actor(room, room.bruno, "Agence comptable", "clients")
    add_actor(room, room.chloe, '"><svg onload=alert(1)>', "clients")
    for name in ("Achats publics", "Agence comptable", '"><svg onload=alert(1)>'):
        expect(room.svg_actor(room.console, name)).to_have_count(1, timeout=8_000)
        expect(room.svg_actor(room.projector, name)).to_have_count(1)
    assert console.locator("svg[onload]").count() == 0

    # A flow, with from/to pickers, from a phone.
    page = room.alice.page
    page.locator(f"#board-{room.map_pk} .map-tools a[href$='/flows/new/']").tap()
    form = page.locator(f"#flow-form-{room.map_pk}")
    expect(form).to_be_visible()
    form.locator("select[name=source]").select_option(label="Achats publics")
    form.locator("select[name=target]").select_option(label="Direction des systèmes d’information")
    form.locator("input[name=kind][value=deliverable]").check()
    form.locator("input[name=label]").fill("Licences logicielles")
    form.locator("textarea[name=they_expect]").fill("Des besoins exprimés tôt")
    form.locator("textarea[name=we_expect]").fill("Des délais tenus")
    form.locator("textarea[name=mismatch]").fill("Les projets s’arrêtent")
    form.locator("button[type=submit]").tap()
    expect(form).to_have_count(0)

    flow = console.locator(f"#map-svg-{room.map_pk} path.map-flow.kind-deliverable")
    expect(flow).to_have_count(1, timeout=8_000)
    expect(console.locator(f"#map-svg-{room.map_pk} .map-flow-label")).to_contain_text("Licences")
    expect(
        room.projector.page.locator(f"#map-svg-{room.map_pk} path.map-flow.kind-deliverable")
    ).to_have_count(1)
    # The phones read it in the list, grouped by circle.
    for phone in room.phones:
        suppliers = phone.page.locator(f"#map-list-{room.map_pk} .map-circle.circle-suppliers")
        expect(suppliers).to_contain_text("Achats publics")
        expect(suppliers.locator(".map-flow-item")).to_contain_text("Licences logicielles")
        expect(phone.page.locator(f"#map-svg-{room.map_pk}")).to_be_hidden()  # 390 px: the list

    # A phone marks it in friction: icon and words, everywhere.
    room.chloe.page.locator(".map-flow-item .rate.rating-friction").first.tap()
    for screen in room.screens:
        expect(
            screen.page.locator(f"#map-svg-{room.map_pk} path.map-flow.rating-friction")
        ).to_have_count(1, timeout=8_000)
    expect(room.bruno.page.locator(".map-flow-item .flow-rating")).to_contain_text("✖")

    # More of the map, for the screenshots and the report.
    add_actor(room, room.bruno, "Éditeurs de logiciels", "suppliers", external=True)
    add_actor(room, room.chloe, "Usagers des guichets", "clients", external=True)
    for screen, marker in markers.items():
        assert screen.still(marker), f"{screen.name} reloaded"
    shots.take(room.console, "map")
    shots.take(room.projector, "map")
    shots.take(room.alice, "map")
    shots.take(room.alice, "map-list", full_page=True)


# 3. The facilitator nudges an actor --------------------------------------------------------------


def _position(screen, room, name):
    transform = room.svg_actor(screen, name).get_attribute("transform")
    x, y = re.match(r"translate\(([-\d.]+) ([-\d.]+)\)", transform).groups()
    return float(x), float(y)


def test_it_moves_an_actor_with_the_keyboard_and_the_projector_follows(map_room, shots):
    room = map_room
    console = room.console.page
    moves = []
    console.on("request", lambda r: moves.append(r.url) if r.url.endswith("/move/") else None)
    marker = room.projector.marker()
    x, y = _position(room.projector, room, "Agence comptable")
    actor = room.svg_actor(room.console, "Agence comptable")
    actor.focus()
    for _ in range(3):
        console.keyboard.press("ArrowLeft")
    console.keyboard.press("Shift+ArrowUp")
    # Locally at once; then saved once, a moment after the last key.
    assert _position(room.console, room, "Agence comptable") == (x - 30, y - 50)
    expect(room.svg_actor(room.projector, "Agence comptable")).to_have_attribute(
        "transform", f"translate({x - 30:g} {y - 50:g})", timeout=8_000
    )
    assert len(moves) == 1
    assert room.projector.still(marker)
    # The console kept the focus on the actor through the redraw.
    assert console.evaluate("() => document.activeElement.id") == actor.get_attribute("id")
    shots.take(room.projector, "map-moved")


def test_it_moves_an_actor_by_drag_and_posts_only_the_final_position(map_room):
    room = map_room
    console = room.console.page
    moves = []
    console.on("request", lambda r: moves.append(r.url) if r.url.endswith("/move/") else None)
    x, y = _position(room.projector, room, "Achats publics")
    box = room.svg_actor(room.console, "Achats publics").bounding_box()
    console.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    console.mouse.down()
    console.mouse.move(
        box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 + 60, steps=12
    )
    console.mouse.up()
    deadline = time.monotonic() + 8
    while _position(room.projector, room, "Achats publics") == (x, y):
        assert time.monotonic() < deadline, "the projector did not follow the drag"
        time.sleep(0.1)
    new_x, new_y = _position(room.projector, room, "Achats publics")
    assert new_x > x and new_y > y
    assert len(moves) == 1


# 4. The report ----------------------------------------------------------------------------------


def test_it_exports_the_pdf_while_the_room_goes_on(map_room, shots):
    room = map_room
    console = room.console.page
    console.locator("#export-panel form[action$='/report/'] button").click()
    status = console.locator("#report-status")
    expect(status).to_have_class(re.compile(r"is-(running|ready)"))
    # The room is live meanwhile: a phone's rating reaches the console.
    room.bruno.page.locator(".map-flow-item .rate.rating-unclear").first.tap()
    expect(console.locator(f"#map-svg-{room.map_pk} path.map-flow.rating-unclear")).to_have_count(
        1, timeout=8_000
    )
    link = console.locator("#report-status a[href$='/report/download/']")
    expect(link).to_be_visible(timeout=90_000)
    shots.take(room.console, "map-report-ready")
    with console.expect_download() as download:
        link.click()
    RESULTS.mkdir(parents=True, exist_ok=True)
    pdf = RESULTS / "report.pdf"
    download.value.save_as(str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    for expected in ("Achats publics", "Licences logicielles", "Alice", "Bruno", "Chloé"):
        assert expected in text
    assert '"><svg onload=alert(1)>' in text
    for old in RESULTS.glob("report-page-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(RESULTS / "report-page")], check=True
    )
    assert list(RESULTS.glob("report-page-*.png"))


def test_it_raised_no_errors_in_any_page(map_room):
    for screen in map_room.screens:
        assert screen.errors == [], (screen.name, screen.errors)
