"""Real-browser fixtures: one Daphne server, Debian's Chromium, and the room's actors.

The server is the embedded setup (SQLite in a temp dir, in-memory channel
layer, one Daphne process), started once per session. The actors are a
facilitator console (laptop, 1366x768), a projector, and three phones
(390x844, touch). Every page is watched from its first navigation: console
errors, uncaught exceptions and the websocket frames it received.

Playwright is driven through its plain sync API (no pytest-playwright
plugin), because the browser tests run without pytest-asyncio.
"""

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import RESULTS, ROOT, daphne_server, manage  # noqa: F401 (for the tests)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}
FACILITATOR = ("camille", "pw-camille-browser-123")

# Stages of the browser room, in order; the first one comes with a blank workshop.
FRAMING = "Framing and intention"
IDEAS = "Ideas wall"
JOURNEYS = "Interaction journeys"
OFFLINE = "Offline wall"
SECRET = "Secret round"

SETUP_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from workshops import actions

user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(
    facilitator=user, method_key=None, title="Browser room", language="en",
    observed_service="IT support", perimeter="Requests and incidents",
    intention="Understand each other",
)
journeys = {{
    "columns": [
        {{"key": "client_view", "label": "Client's view", "colour": "blue"}},
        {{"key": "service_view", "label": "Service's view", "colour": "yellow"}},
        {{"key": "supplier_view", "label": "Supplier's view", "colour": "purple"}},
    ],
    "colours": ["green", "orange", "red"],
}}
actions.add_stage(workshop, kind="wall", title={ideas!r},
                  instructions="One idea per post-it.", duration_minutes=10)
actions.add_stage(workshop, kind="wall", title={journeys!r}, duration_minutes=20,
                  instructions="Green: it works. Orange: it grates. Red: it breaks.",
                  config=journeys)
actions.add_stage(workshop, kind="wall", title={offline!r}, duration_minutes=10)
actions.add_stage(workshop, kind="wall", title={secret!r}, duration_minutes=10,
                  instructions="Write what you would not say out loud.")
print("ROOM=" + json.dumps({{
    "workshop": workshop.pk,
    "stages": {{s.title: s.pk for s in workshop.stages.all()}},
}}))
"""


# The server (tests/servers.py starts every Daphne of the tests) ---------------------------


@dataclass
class Server:
    url: str
    workshop_id: int
    stages: dict
    log: Path
    env: dict


def shell(running, script):
    """Run `script` in `manage.py shell` against a running server's own database (its
    var dir); its stdout. `running` is a `Server` or a `daphne_server()`'s `Running`."""
    return manage(running.env, "shell", "-c", script)


@pytest.fixture(scope="session")
def server():
    script = SETUP_SCRIPT.format(
        username=FACILITATOR[0],
        password=FACILITATOR[1],
        ideas=IDEAS,
        journeys=JOURNEYS,
        offline=OFFLINE,
        secret=SECRET,
    )
    with daphne_server("reciproque-browser-", script) as running:
        yield Server(
            url=running.url,
            workshop_id=running.room["workshop"],
            stages=running.room["stages"],
            log=running.log,
            env=running.env,
        )


# The browser and its pages ------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What every page of the session said: errors, exceptions, websocket frames."""

    console_errors: list = field(default_factory=list)  # (actor, url, text)
    page_errors: list = field(default_factory=list)  # (actor, url, text)

    def attach(self, actor_name, page, frames=None):
        def on_console(message):
            if message.type == "error":
                self.console_errors.append((actor_name, page.url, message.text))

        def on_websocket(ws):
            if frames is not None:
                ws.on("framereceived", lambda payload: frames.append(_text(payload)))

        page.on("console", on_console)
        page.on(
            "pageerror", lambda error: self.page_errors.append((actor_name, page.url, str(error)))
        )
        page.on("websocket", on_websocket)

    def csp_errors(self):
        return [e for e in self.console_errors if "Content Security Policy" in e[2]]


def _text(payload):
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload


class NeverReloaded:
    """marker() tags the document; still(tag) later means the page was never reloaded."""

    def marker(self):
        token = f"{self.name}-{time.monotonic_ns()}"
        self.page.evaluate("t => { window.__rqMarker = t; }", token)
        return token

    def still(self, token):
        return self.page.evaluate("() => window.__rqMarker") == token


@dataclass
class Actor(NeverReloaded):
    name: str
    context: object
    page: object
    frames: list = field(default_factory=list)


class Shots:
    """Screenshots for a human to look at, listed at the end of the run."""

    def __init__(self):
        self.paths = []
        RESULTS.mkdir(parents=True, exist_ok=True)
        for old in RESULTS.glob("*.png"):
            old.unlink()

    def path(self, moment, name):
        path = RESULTS / f"{len(self.paths) + 1:02d}-{moment}-{name}.png"
        self.paths.append(path)
        return path

    def take(self, actor, moment, full_page=False):
        path = self.path(moment, actor.name)
        actor.page.screenshot(path=str(path), full_page=full_page)
        return path

    def everyone(self, room, moment):
        for actor in room.screens:
            self.take(actor, moment)


_shots = None


@pytest.fixture(scope="session")
def shots():
    global _shots
    _shots = Shots()
    return _shots


def pytest_terminal_summary(terminalreporter):
    if _shots and _shots.paths:
        terminalreporter.section("browser screenshots")
        for path in _shots.paths:
            terminalreporter.write_line(str(path.relative_to(ROOT)))


@pytest.fixture(scope="session")
def watch():
    return Watch()


# Logging in and joining: the one way every browser test does them --------------------------


def log_in(page, base_url, credentials=FACILITATOR):
    """The facilitator logs in from the login page; ends on the dashboard."""
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", credentials[0])
    page.fill("#id_password", credentials[1])
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/workshops/$"))


def join(page, join_url, name, profile="agent", tap=True):
    """A person joins from the join link (the QR code's address) with a name and a
    profile; ends on their live page, its socket connected."""
    page.goto(join_url)
    page.fill("#id_display_name", name)
    page.locator(f"input[name=profile][value={profile}]").check()
    button = page.locator("form button[type=submit]").last
    if tap:
        button.tap()
    else:
        button.click()
    page.wait_for_url(re.compile(r"/w/\d+/$"))
    page.wait_for_selector("body[data-connection=connected]")


def new_actor(browser, watch, name, **options):
    """A browser context and its page, watched from its first navigation."""
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    frames = []
    context.on("page", lambda page: watch.attach(name, page, frames))
    return Actor(name=name, context=context, page=context.new_page(), frames=frames)


class Room:
    """The facilitator, the projector and three phones, in one workshop."""

    def __init__(self, server, browser, watch):
        self.server = server
        self.browser = browser
        self.watch = watch
        self.url = server.url
        self.workshop_id = server.workshop_id
        self.stages = server.stages
        self.joined = False
        self.contexts = []

        self.console = self._actor("console", viewport=LAPTOP)
        self.log_in(self.console.page)
        self.console.page.goto(f"{self.url}/workshops/{self.workshop_id}/")
        self.wait_connected(self.console)

        self.projector = self._actor(
            "projector", viewport=PROJECTOR, storage_state=self.console.context.storage_state()
        )
        self.projector.page.goto(f"{self.url}/workshops/{self.workshop_id}/projector/")
        self.wait_connected(self.projector)

        # Listeners exist before the first navigation of each phone.
        self.phones = [
            self._actor(name, viewport=PHONE, is_mobile=True, has_touch=True)
            for name in ("alice", "bruno", "chloe")
        ]
        self.alice, self.bruno, self.chloe = self.phones

    # Building --------------------------------------------------------------------

    def _actor(self, name, **options):
        context = self.browser.new_context(**options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        frames = []
        context.on("page", lambda page: self.watch.attach(name, page, frames))
        page = context.new_page()
        return Actor(name=name, context=context, page=page, frames=frames)

    def new_context(self, name, **options):
        """A context for a one-off visit, watched like the others."""
        context = self.browser.new_context(**options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        context.on("page", lambda page: self.watch.attach(name, page))
        return context

    def log_in(self, page):
        log_in(page, self.url)

    def close(self):
        for context in self.contexts:
            context.close()

    # Helpers the tests share ----------------------------------------------------------

    @property
    def screens(self):
        """Everyone who looks at the board."""
        return [self.console, self.projector, *self.phones]

    @staticmethod
    def wait_connected(actor, timeout=10_000):
        actor.page.wait_for_selector("body[data-connection=connected]", timeout=timeout)

    def join_link(self):
        return self.console.page.locator(".join-link a").inner_text().strip()

    def join(self, phone, join_url, name, profile):
        join(phone.page, join_url, name, profile)
        assert re.search(rf"/w/{self.workshop_id}/$", phone.page.url), phone.page.url

    def ensure_joined(self):
        """Tests after the first need three phones in the room; join them if needed."""
        if self.joined:
            return
        link = self.join_link()
        for phone, profile in zip(
            self.phones, ("internal_client", "supplier", "agent"), strict=True
        ):
            if not re.search(rf"/w/{self.workshop_id}/$", phone.page.url):
                self.join(phone, link, phone.name.capitalize(), profile)
        self.joined = True

    def stage_item(self, title):
        return self.console.page.locator("#stage-list li.stage-item").filter(
            has=self.console.page.locator(
                ".stage-item-title", has_text=re.compile(rf"^{re.escape(title)}$")
            )
        )

    def move_everyone_to(self, title, timeout=5_000):
        """Click "Move everyone here" on the console; wait for every screen to follow."""
        from playwright.sync_api import expect

        item = self.stage_item(title)
        button = item.get_by_role("button", name="Move everyone here")
        if button.count():
            button.click()
        for actor in self.screens:
            expect(actor.page.locator("#stage-head .stage-title")).to_have_text(
                title, timeout=timeout
            )

    @staticmethod
    def write(actor, text, colour=None, column=None):
        """Post a post-it from the live page's compose form, as a person would."""
        page = actor.page
        form = page.locator("form.compose")
        form.locator("textarea[name=text]").fill(text)
        if column:
            form.locator(f"input[name=column][value={column}]").check()
        if colour:
            form.locator(f"input[name=colour][value={colour}]").check()
        button = form.locator(".compose-send")
        if actor.name in ("console", "projector"):
            button.click()
        else:
            button.tap()

    @staticmethod
    def postits(actor, text):
        """The sent (not pending) post-its on this screen carrying `text`."""
        return actor.page.locator(".postit:not(.is-pending)").filter(has_text=text)

    @staticmethod
    def pending(actor, text=None):
        locator = actor.page.locator(".postit.is-pending")
        return locator.filter(has_text=text) if text else locator


@pytest.fixture(scope="session")
def room(server, browser, watch):
    room = Room(server, browser, watch)
    yield room
    room.close()
