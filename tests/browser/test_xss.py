"""The XSS corpus in a real browser: full pages, htmx replies and websocket pushes run no script.

A workshop whose every typed field is hostile (tests/xss_corpus.py) is opened
by a console, a projector and a phone. The pages run with the Content
Security Policy bypassed, so that only escaping stands between the text and
the DOM: any payload that got through would set `window.__xss`, open a
dialog, or leave an element or attribute marked `rqxss`. Then the same is
checked with the policy on, where an attempt would also show as a CSP report.
Writes made in the browser (a name at the door, post-its, a theme, an edit, a
stage title, an actor) reach the other screens as pushes, and are checked there.
"""

import json
import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.xss_corpus import PAYLOADS, SHORT

from .conftest import FACILITATOR, LAPTOP, PHONE, PROJECTOR, ROOT, log_in

pytestmark = pytest.mark.browser

SETUP = """
import json
from django.contrib.auth import get_user_model
from journeys import actions as journeys
from mapping import actions as mapping
from tests.xss_corpus import PAYLOADS, SHORT
from workshops import actions
from workshops.models import Profile

user = get_user_model().objects.get(username={username!r})
workshop = actions.create_workshop(
    facilitator=user, method_key=None, language="en",
    title=PAYLOADS[6], observed_service=PAYLOADS[10], perimeter="\\n".join(PAYLOADS[:20]),
    intention=" ".join(PAYLOADS[20:40]),
)
people = [
    actions.join(
        workshop, display_name=p, profile=Profile.values[i % 6], organisation=SHORT[-1 - i]
    )
    for i, p in enumerate(SHORT[:24])
]
columns = [
    {{"key": f"c{{i}}", "label": p[:60], "colour": "yellow"}}
    for i, p in enumerate(PAYLOADS[40:44])
]
wall = actions.add_stage(
    workshop, kind="wall", title=PAYLOADS[0], instructions="\\n".join(PAYLOADS[40:]),
    config={{"columns": columns}},
)
secret = actions.add_stage(workshop, kind="wall", title=PAYLOADS[1], private_writing=True)
board = actions.add_stage(workshop, kind="map", title=PAYLOADS[2])
actors = [
    mapping.add_actor(board, participant=None, name=p, circle=("suppliers", "clients")[i % 2],
                      description=PAYLOADS[-1 - i][:300])
    for i, p in enumerate([p for p in PAYLOADS if len(p) <= 80][:16])
]
for i, p in enumerate(PAYLOADS[:10]):
    mapping.add_flow(board, participant=None, source=str(actors[i].pk), target="centre",
                     kind="request", label=p[:120], they_expect=p, we_expect=PAYLOADS[-1 - i])
actions.go_to_stage(workshop, wall)
for i, p in enumerate(PAYLOADS):
    journeys.add_postit(wall, participant=people[i % len(people)], text=p, column=f"c{{i % 4}}")
theme = journeys.add_cluster(wall, name=PAYLOADS[7])
print("XSS=" + json.dumps({{
    "workshop": workshop.pk, "token": workshop.join_token,
    "wall": wall.pk, "secret": secret.pk, "map": board.pk,
}}))
"""

# Probes run in every page after every step.
PROBE = """() => ({
    xss: window.__xss === undefined ? null : String(window.__xss),
    marked: document.querySelectorAll('[rqxss], [data-rqxss]').length,
    handlers: Array.from(document.querySelectorAll('*')).filter(
        el => Array.from(el.attributes).some(a => a.name.startsWith('on'))).length,
    scripts: Array.from(document.scripts).filter(s => !s.src).length,
    frames: document.querySelectorAll('iframe, object, embed, base, frame').length,
    hostile: document.querySelectorAll(
        'meta[http-equiv], style, mglyph, [href^="javascript:" i], [*|href^="javascript:" i]'
    ).length,
})"""
CLEAN = {"xss": None, "marked": 0, "handlers": 0, "scripts": 0, "frames": 0, "hostile": 0}


@pytest.fixture(scope="module")
def xss_room(server):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "SECRET_KEY")
    }
    env.update(
        RECIPROQUE_VAR_DIR=str(server.log.parent),  # the browser server's own database
        DEBUG="0",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SETUP.format(username=FACILITATOR[0])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(re.search(r"^XSS=(.*)$", done.stdout, re.M).group(1))


class Screens:
    """The console, the projector and a phone, each with its dialogs recorded."""

    def __init__(self, server, browser, watch, xss_room, bypass_csp):
        self.url = server.url
        self.room = xss_room
        self.dialogs = []
        self.contexts = []
        suffix = "" if bypass_csp else "-csp"
        self.console = self._page(f"xss-console{suffix}", watch, browser, LAPTOP, bypass_csp)
        log_in(self.console, self.url)
        self.console.goto(f"{self.url}/workshops/{xss_room['workshop']}/")
        state = self.console.context.storage_state()
        self.projector = self._page(
            f"xss-projector{suffix}", watch, browser, PROJECTOR, bypass_csp, storage_state=state
        )
        self.projector.goto(f"{self.url}/workshops/{xss_room['workshop']}/projector/")
        self.phone = self._page(
            f"xss-phone{suffix}", watch, browser, PHONE, bypass_csp, is_mobile=True, has_touch=True
        )
        # The door: a hostile name and organisation, typed in.
        self.phone.goto(f"{self.url}/j/{xss_room['token']}/")
        self.phone.fill("#id_display_name", SHORT[9])
        self.phone.fill("#id_organisation", SHORT[12])
        self.phone.locator("input[name=profile][value=supplier]").check()
        self.phone.get_by_role("button", name="Enter the workshop").tap()
        self.phone.wait_for_url(re.compile(rf"/w/{xss_room['workshop']}/$"))
        for page in self.pages:
            page.wait_for_selector("body[data-connection=connected]", timeout=15_000)

    def _page(self, name, watch, browser, viewport, bypass_csp, **options):
        context = browser.new_context(viewport=viewport, bypass_csp=bypass_csp, **options)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        context.on("page", lambda page: watch.attach(name, page))
        page = context.new_page()
        page.on("dialog", lambda dialog: self._dialog(name, dialog))
        return page

    def _dialog(self, name, dialog):
        self.dialogs.append((name, dialog.type, dialog.message))
        dialog.dismiss()

    @property
    def pages(self):
        return [self.console, self.projector, self.phone]

    def assert_inert(self, moment):
        for page in self.pages:
            found = page.evaluate(PROBE)
            assert found == CLEAN, f"{moment}, {page.url}: {found}"
        assert not self.dialogs, f"{moment}: {self.dialogs}"

    def close(self):
        for context in self.contexts:
            context.close()


def _run_the_room(screens):
    """Writes from every screen; each one's push checked on the others."""
    room = screens.room
    console, projector, phone = screens.console, screens.projector, screens.phone
    screens.assert_inert("pages as loaded")
    expect(phone.locator(".postit").filter(has_text=PAYLOADS[3]).first).to_be_visible()
    expect(phone.locator(".stage-title")).to_have_text(PAYLOADS[0])

    # The phone writes post-its: pushed to the console and the projector.
    for payload in (PAYLOADS[8], PAYLOADS[19], PAYLOADS[45]):
        phone.locator("form.compose textarea[name=text]").fill(payload)
        phone.locator("form.compose .compose-send").tap()
        expect(projector.locator(".postit").filter(has_text=payload)).not_to_have_count(0)
    screens.assert_inert("post-its pushed")

    # The console adds a theme, and edits a post-it through its htmx form.
    console.locator("form.cluster-new input[name=name]").fill(PAYLOADS[44][:80])
    console.locator("form.cluster-new button[type=submit]").click()
    expect(phone.locator(".theme-name").filter(has_text=PAYLOADS[44][:80])).to_have_count(1)
    postit = console.locator(".postit:not(.is-pending)").filter(has_text=PAYLOADS[8]).first
    postit.get_by_role("link", name="Edit").click()
    console.locator("form.postit-editing textarea[name=text]").fill(PAYLOADS[48])
    console.locator("form.postit-editing button[type=submit]").click()
    expect(projector.locator(".postit").filter(has_text=PAYLOADS[48])).not_to_have_count(0)
    screens.assert_inert("theme and edit pushed")

    # The console renames the stage (a plain form): the others get the redrawn region.
    console.goto(f"{screens.url}/workshops/{room['workshop']}/stages/{room['wall']}/edit/")
    console.fill("#id_title", PAYLOADS[25])
    console.locator("form:has(#id_title) button[type=submit]").click()
    console.wait_for_url(re.compile(rf"/workshops/{room['workshop']}/$"))
    console.wait_for_selector("body[data-connection=connected]")
    expect(phone.locator(".stage-title")).to_have_text(PAYLOADS[25])
    screens.assert_inert("stage renamed")

    # Everyone to the map; the phone adds an actor through the map's own form.
    console.locator(f"form[action$='/stages/{room['map']}/go/'] button").click()
    expect(phone.locator(".stage-title")).to_have_text(PAYLOADS[2])
    phone.get_by_role("link", name="Add an actor").tap()
    phone.locator("form.map-form input[name=name]").fill(SHORT[20])
    phone.locator("form.map-form input[name=circle][value=clients]").check()
    phone.locator("form.map-form textarea[name=description]").fill(PAYLOADS[52])
    phone.locator("form.map-form button[type=submit]").tap()
    expect(console.locator(".actor-name").filter(has_text=SHORT[20])).not_to_have_count(0)
    screens.assert_inert("map pushed")

    # The private stage: the phone's own post-its come back in its author frame.
    console.locator(f"form[action$='/stages/{room['secret']}/go/'] button").click()
    expect(phone.locator(".stage-title")).to_have_text(PAYLOADS[1])
    phone.locator("form.compose textarea[name=text]").fill(PAYLOADS[30])
    phone.locator("form.compose .compose-send").tap()
    expect(phone.locator(".mine .postit").filter(has_text=PAYLOADS[30])).to_have_count(1)
    # A dropped socket catches up from the log (replay), as after a Wi-Fi cut.
    phone.evaluate("() => window.dispatchEvent(new Event('online'))")
    phone.wait_for_selector("body[data-connection=connected]")
    screens.assert_inert("private stage and replay")

    # The presence panel polls every 3 s with the hostile names in it.
    console.wait_for_timeout(3500)
    expect(console.locator(".presence-name").filter(has_text=SHORT[9])).not_to_have_count(0)
    screens.assert_inert("presence polled")


def test_it_runs_no_script_from_any_typed_text_with_the_policy_bypassed(
    server, browser, watch, xss_room
):
    screens = Screens(server, browser, watch, xss_room, bypass_csp=True)
    try:
        _run_the_room(screens)
    finally:
        screens.close()


def test_it_runs_no_script_and_trips_no_policy_with_the_policy_on(server, browser, watch, xss_room):
    screens = Screens(server, browser, watch, xss_room, bypass_csp=False)
    try:
        screens.assert_inert("pages as loaded, with the policy")
        screens.console.goto(f"{server.url}/workshops/{xss_room['workshop']}/stages/add/")
        screens.console.goto(f"{server.url}/workshops/{xss_room['workshop']}/")
        screens.console.wait_for_selector("body[data-connection=connected]")
        screens.assert_inert("console again, with the policy")
    finally:
        screens.close()
    mine = [e for e in watch.csp_errors() if e[0].startswith("xss-")]
    assert not mine, mine
    errors = [e for e in watch.page_errors if e[0].startswith("xss-")]
    assert not errors, errors
