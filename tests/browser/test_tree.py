"""Diagnostic, the closing stage: five phones each add a commitment; the tree grows live.

Its own server and workshop (the Diagnostic method, in French, with two actors
on its map), a console (1366x768), a projector (1280x720) and five phones
(390x844). Each phone completes one of the two sentences; the projector's
tree gets a leaf per commitment without a reload, its boxes never overlap and
it needs no scrolling; a second commitment from the same phone is refused with
the server's French message; the console switches the projector to the
alliance map. The tests run in order and share the room.
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
FACILITATOR = ("camille", "pw-camille-tree-123")

SETUP = """
import json
from django.contrib.auth import get_user_model
from mapping import actions as mapping
from workshops import actions

user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(
    facilitator=user, method_key="diagnostic", language="fr",
    title="Diagnostic : le support applicatif", observed_service="Support applicatif",
)
the_map = workshop.stages.get(kind="map")
mapping.add_actor(the_map, participant=None, name="Achats", circle="suppliers")
mapping.add_actor(the_map, participant=None, name="Ressources humaines", circle="clients")
stage = workshop.stages.get(kind="tree")
actions.go_to_stage(workshop, stage)
print("ROOM=" + json.dumps({{"workshop": workshop.pk, "stage": stage.pk}}))
"""

# (name, profile, sentence, whom: an actor's name, "other:<typed name>" or None, text)
PEOPLE = [
    ("Alice", "internal_client", "commit", None, "Répondre aux tickets sous deux jours"),
    ("Bruno", "supplier", "relation", "Achats", "Envoyer les devis complets"),
    ("Chloé", "agent", "relation", "other:La comptabilité", "Un point chaque mois"),
    ("David", "external_client", "commit", None, "Dire quand je ne sais pas"),
    ("Emma", "partner", "relation", "Ressources humaines", "Prévenir des arrivées"),
]


@dataclass(eq=False)
class Screen(NeverReloaded):
    name: str
    context: object
    page: object
    errors: list = field(default_factory=list)


class TreeRoom:
    def __init__(self, running, browser):
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
        self.projector = self._screen(
            "projector", viewport=PROJECTOR, storage_state=self.console.context.storage_state()
        )
        self.projector.page.goto(f"{self.url}/workshops/{self.workshop}/projector/")
        self.connected(self.projector)
        link = page.locator(".join-link a").inner_text().strip()
        self.phones = {}
        for name, profile, *_rest in PEOPLE:
            phone = self._screen(name, viewport=PHONE, is_mobile=True, has_touch=True)
            phone.page.goto(link)
            phone.page.fill("#id_display_name", name)
            phone.page.locator(f"input[name=profile][value={profile}]").check()
            phone.page.locator("form button[type=submit]").last.tap()
            phone.page.wait_for_url(re.compile(rf"/w/{self.workshop}/$"))
            self.connected(phone)
            self.phones[name] = phone

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

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def tree_room(browser):
    script = SETUP.format(username=FACILITATOR[0], password=FACILITATOR[1])
    with daphne_server("reciproque-tree-", script, keep_log="daphne-tree.log") as running:
        room = TreeRoom(running, browser)
        yield room
        room.close()


def write(phone, sentence, whom, text):
    form = phone.page.locator("form.tree-compose")
    form.locator(f"input[name=sentence][value={sentence}]").check()
    if whom and whom.startswith("other:"):
        form.locator("select[name=target]").select_option("other")
        form.locator("input[name=target_name]").fill(whom.removeprefix("other:"))
    elif whom:
        form.locator("select[name=target]").select_option(label=whom)
    form.locator("textarea[name=text]").fill(text)
    form.locator(".compose-send").tap()


def boxes(page):
    return page.evaluate(
        """() => [...document.querySelectorAll(
                '.tree-svg .tree-leaf rect, .tree-svg .tree-branch rect')]
            .map(r => { const b = r.getBoundingClientRect();
                        return [b.left, b.top, b.right, b.bottom]; })"""
    )


def test_it_grows_the_projectors_tree_as_five_phones_commit(tree_room, shots):
    room = tree_room
    projector = room.projector.page
    before = room.projector.marker()
    expect(projector.locator(".tree-svg")).to_have_count(1)
    expect(projector.locator(".tree-leaf")).to_have_count(0)
    phone = room.phones["Alice"].page
    # The second sentence's "with whom?" shows only when it is picked.
    expect(phone.locator(".tree-target")).to_be_hidden()
    phone.locator("input[name=sentence][value=relation]").check()
    expect(phone.locator(".tree-target")).to_be_visible()
    # A map actor is picked first; the typed name is asked for only for another service.
    expect(phone.locator(".tree-target-name")).to_be_hidden()
    phone.locator("form.tree-compose select[name=target]").select_option("other")
    expect(phone.locator(".tree-target-name")).to_be_visible()
    # Emma picks her sentence and whom it is about, and types, before the others post:
    # their pushes redraw her form, and must leave her choices as she made them.
    emma = room.phones["Emma"].page.locator("form.tree-compose")
    emma.locator("input[name=sentence][value=relation]").check()
    emma.locator("select[name=target]").select_option(label="Ressources humaines")
    emma.locator("textarea[name=text]").fill("Prévenir des arrivées")
    for count, (name, _profile, sentence, whom, text) in enumerate(PEOPLE, 1):
        if name == "Emma":
            expect(emma.locator("input[name=sentence][value=relation]")).to_be_checked()
            chosen = emma.locator("select[name=target] option:checked")
            expect(chosen).to_have_text("Ressources humaines")
            expect(emma.locator("textarea[name=text]")).to_have_value("Prévenir des arrivées")
        write(room.phones[name], sentence, whom, text)
        expect(projector.locator(".tree-leaf")).to_have_count(count, timeout=8_000)
        expect(projector.locator(".tree-leaf").filter(has_text=text[:20])).to_have_count(1)
    assert room.projector.still(before), "the projector reloaded"
    branches = projector.locator(".tree-branch")
    expect(branches).to_have_count(4)  # moi-même, Achats, La comptabilité, Ressources humaines
    expect(branches.filter(has_text="moi-même")).to_contain_text("2 engagements")
    expect(projector.locator(".tree-leaf").filter(has_text="Envoyer les devis")).to_contain_text(
        "Bruno"
    )
    drawn = boxes(projector)
    for i, a in enumerate(drawn):
        for b in drawn[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    size = projector.evaluate(
        "() => [document.documentElement.scrollHeight, document.documentElement.scrollWidth]"
    )
    assert size[0] <= PROJECTOR["height"] and size[1] <= PROJECTOR["width"], size
    # The phone lists its own commitment, with a way to change it or take it back.
    own = phone.locator("li.commitment.is-own")
    expect(own).to_have_count(1)
    expect(own.locator(".commitment-actions")).to_be_visible()
    shots.take(room.projector, "tree-five")
    shots.take(room.console, "tree-five")
    shots.take(room.phones["Alice"], "tree-five")


def test_it_refuses_a_second_commitment_with_the_servers_french_message(tree_room):
    room = tree_room
    phone = room.phones["David"].page
    write(room.phones["David"], "commit", None, "Encore un")
    expect(
        phone.locator(".compose-error, .toast-msg").filter(has_text="modifiez-le")
    ).not_to_have_count(0, timeout=8_000)
    expect(room.projector.page.locator(".tree-leaf")).to_have_count(len(PEOPLE))


def test_it_switches_the_projector_to_the_alliance_map(tree_room, shots):
    room = tree_room
    room.console.page.locator(".tree-switch button[value=alliances]").click()
    projector = room.projector.page
    expect(projector.locator(".alliance-svg")).to_have_count(1, timeout=8_000)
    expect(projector.locator(".alliance-node.is-target")).to_have_count(3)
    expect(
        projector.locator(".alliance-node.is-source").filter(has_text="Fournisseur")
    ).to_have_count(1)
    shots.take(room.projector, "tree-alliances")
    room.console.page.locator(".tree-switch button[value=tree]").click()
    expect(projector.locator(".tree-svg")).to_have_count(1, timeout=8_000)


def test_it_passes_axe_on_the_tree(tree_room):
    room = tree_room
    problems = audit(room.console.page, "console, tree", [LAPTOP])
    problems += audit(room.projector.page, "projector, tree", [PROJECTOR])
    problems += audit(room.phones["Alice"].page, "phone, tree", [PHONE, SMALL_PHONE])
    room.phones["Alice"].page.set_viewport_size(PHONE)
    assert not problems, "\n".join(map(str, problems))
    for screen in room.screens:
        # David's refused second commitment is the one failed request expected.
        errors = [e for e in screen.errors if "status of 409" not in e or screen.name != "David"]
        assert not errors, (screen.name, errors)
