"""Symétrie des attentions, ideation: four phones write ideas and vote with a double budget.

Its own server and workshop (the Symétrie method, in French), a console (laptop
1366x768), a projector (1280x720) and four phones (390x844). The console
opens a double vote; the phones tap dots on and off; the console's counts move
live; a tap the page should not have allowed is refused by the server; on close
the chart appears on the projector and the ranking on the phones. The tests run
in order and share the room.
"""

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect

from .conftest import NeverReloaded, daphne_server
from .test_axe import audit

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}
SMALL_PHONE = {"width": 360, "height": 740}
FACILITATOR = ("camille", "pw-camille-votes-123")

SETUP = """
import json
from django.contrib.auth import get_user_model
from commitments.ideas import actions as ideas
from workshops import actions

user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(
    facilitator=user, method_key="symetrie", language="fr",
    title="Symétrie des attentions : l’accueil", observed_service="Accueil",
)
stage = workshop.stages.get(kind="ideas")
actions.go_to_stage(workshop, stage)
challenge = ideas.add_challenge(stage, participant=None, text="répondre en moins de 48 h ?")
print("ROOM=" + json.dumps({{"workshop": workshop.pk, "stage": stage.pk,
                            "challenge": challenge.pk}}))
"""

IDEAS = {
    "alice": "Un accusé de réception immédiat",
    "bruno": "Un créneau de rappel choisi",
    "chloe": "Un tableau de suivi partagé",
    "david": "Un référent par dossier",
}


@dataclass(eq=False)
class Screen(NeverReloaded):
    name: str
    context: object
    page: object
    errors: list = field(default_factory=list)


class VoteRoom:
    def __init__(self, running, browser):
        self.url = running.url
        self.workshop = running.room["workshop"]
        self.stage = running.room["stage"]
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
        self.phones = {}
        for name, profile in (
            ("Alice", "internal_client"),
            ("Bruno", "supplier"),
            ("Chloé", "agent"),
            ("David", "external_client"),
        ):
            key = name.lower().replace("é", "e")
            phone = self._screen(key, viewport=PHONE, is_mobile=True, has_touch=True)
            phone.page.goto(link)
            phone.page.fill("#id_display_name", name)
            phone.page.locator(f"input[name=profile][value={profile}]").check()
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

    def tap_dot(self, phone, idea_text, budget="first", take_back=False):
        row = phone.page.locator(".ballot-item").filter(has_text=idea_text)
        button = ".dot-remove" if take_back else ".dot-add"
        row.locator(f".ballot-cell.budget-{budget} {button}").tap()

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def vote_room(browser):
    script = SETUP.format(username=FACILITATOR[0], password=FACILITATOR[1])
    with daphne_server("reciproque-votes-", script, keep_log="daphne-votes.log") as running:
        room = VoteRoom(running, browser)
        yield room
        room.close()


def test_it_collects_an_idea_from_each_of_four_phones(vote_room, shots):
    room = vote_room
    for key, text in IDEAS.items():
        form = room.phones[key].page.locator("form.idea-compose")
        expect(form.locator("input[name=challenge]").first).to_be_checked()
        form.locator("textarea[name=text]").fill(text)
        form.locator(".compose-send").tap()
    for screen in room.screens:
        for text in IDEAS.values():
            expect(screen.page.locator("li.idea").filter(has_text=text)).to_have_count(
                1, timeout=8_000
            )
    shots.take(room.phones["alice"], "votes-ideas")


def test_it_opens_a_double_vote_and_counts_the_voters_live(vote_room, shots):
    room = vote_room
    page = room.console.page
    expect(page.locator(".idea-tools")).to_have_attribute("open", "")
    form = page.locator("form.vote-open")
    form.locator("input[name=budget]").fill("3")
    form.locator("input[name=cap]").fill("2")
    expect(form.locator("input[name=double]")).to_be_checked()
    form.locator("button[type=submit]").click()
    for phone in room.phones.values():
        expect(phone.page.locator(".vote-left")).to_contain_text("reste 3 sur 3 (impact client)")
        expect(phone.page.locator(".vote-left")).to_contain_text("(impact collaborateur)")
    count = page.locator(".vote-count")
    expect(count).to_contain_text("0 participant sur 4 a voté")
    room.tap_dot(room.phones["alice"], IDEAS["bruno"])
    expect(count).to_contain_text("1 participant sur 4 a voté")
    expect(room.projector.page.locator(".vote-count")).to_contain_text("1 participant sur 4")
    room.tap_dot(room.phones["bruno"], IDEAS["alice"], "second")
    room.tap_dot(room.phones["chloe"], IDEAS["bruno"])
    room.tap_dot(room.phones["david"], IDEAS["bruno"], "second")
    expect(count).to_contain_text("4 participants sur 4 ont voté")
    expect(count).to_contain_text("20 gommettes restantes au total")
    alice = room.phones["alice"].page
    expect(alice.locator(".vote-left")).to_contain_text("reste 2 sur 3 (impact client)")
    # Tap to take back.
    room.tap_dot(room.phones["alice"], IDEAS["bruno"], take_back=True)
    expect(alice.locator(".vote-left")).to_contain_text("reste 3 sur 3 (impact client)")
    expect(count).to_contain_text("3 participants sur 4 ont voté")
    # The results stay hidden: no ranking on any screen yet.
    for screen in room.screens:
        expect(screen.page.locator(".vote-ranking")).to_have_count(0)
        expect(screen.page.locator(".vote-hidden")).to_have_count(1)
    problems = audit(room.console.page, "console, vote open", [LAPTOP])
    problems += audit(room.projector.page, "projector, vote open", [PROJECTOR])
    problems += audit(room.phones["alice"].page, "phone, vote open", [PHONE, SMALL_PHONE])
    room.phones["alice"].page.set_viewport_size(PHONE)
    assert not problems, "\n".join(map(str, problems))
    shots.take(room.console, "votes-open")
    shots.take(room.projector, "votes-open")
    shots.take(room.phones["alice"], "votes-open")


def test_it_refuses_a_dot_over_the_cap_even_when_the_page_offers_it(vote_room):
    room = vote_room
    chloe = room.phones["chloe"].page
    room.tap_dot(room.phones["chloe"], IDEAS["bruno"])
    row = chloe.locator(".ballot-item").filter(has_text=IDEAS["bruno"])
    button = row.locator(".ballot-cell.budget-first .dot-add")
    # live.js turns a form's buttons off while it sends: wait for the answer, so that what
    # is off is the server's cap, not the send in flight.
    expect(chloe.locator("[data-sending]")).to_have_count(0)
    expect(button).to_be_disabled()  # two dots: the cap
    button.evaluate("b => b.removeAttribute('disabled')")
    button.tap()
    expect(chloe.locator("#toast")).to_contain_text("Au plus 2 gommettes sur un même élément.")
    expect(row.locator(".ballot-cell.budget-first .ballot-dots")).to_have_attribute(
        "aria-label", re.compile(r"^2 ")
    )
    # The browser logs the refusal it was sent; nothing else may be in the log.
    errors = room.phones["chloe"].errors
    assert all("409" in e for e in errors), errors
    errors.clear()


def test_it_draws_the_chart_on_the_projector_when_the_vote_closes(vote_room, shots):
    room = vote_room
    room.tap_dot(room.phones["alice"], IDEAS["david"], "second")
    room.tap_dot(room.phones["alice"], IDEAS["david"])
    room.console.page.locator(".vote-close").click()
    chart = room.projector.page.locator(".vote-chart-svg")
    expect(chart).to_be_visible()
    expect(chart.locator(".vote-point")).to_have_count(4)
    expect(chart.locator(".quadrant-both")).to_have_text("★ Les deux y gagnent")
    box = chart.bounding_box()
    assert box["y"] + box["height"] <= PROJECTOR["height"]  # no scrolling on the projector
    first = room.phones["bruno"].page.locator(".vote-rank").first
    expect(first).to_contain_text(IDEAS["bruno"])  # 3 dots, the most
    for phone in room.phones.values():
        expect(phone.page.locator(".dot-add:not([disabled])")).to_have_count(0)
    problems = audit(room.projector.page, "projector, vote closed", [PROJECTOR])
    problems += audit(room.phones["bruno"].page, "phone, vote closed", [PHONE, SMALL_PHONE])
    problems += audit(room.console.page, "console, vote closed", [LAPTOP])
    room.phones["bruno"].page.set_viewport_size(PHONE)
    assert not problems, "\n".join(map(str, problems))
    shots.take(room.projector, "votes-closed")
    shots.take(room.phones["bruno"], "votes-closed", full_page=True)
    shots.take(room.console, "votes-closed")
    for screen in room.screens:
        assert screen.errors == [], (screen.name, screen.errors)
