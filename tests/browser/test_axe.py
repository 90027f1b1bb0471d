"""WCAG 2.1 AA on every screen, as axe-core sees it, in French and in English.

Its own server (nobody has an account yet, so the first-run page can be
checked), one facilitator, and per language: a workshop made from the
Diagnostic method through the forms, a laptop context for the facilitator
(console, projector, forms, exports) and a phone context for a participant.
Every screen is visited once and audited at the laptop size and at two
phone sizes by resizing the same page, so nobody logs in twice.

axe is injected with page.evaluate, which runs through the DevTools protocol
and so is not subject to the page's CSP (script-src 'self' would refuse an
inline <script> from add_script_tag): the pages keep their real CSP.

A failure lists every violation: screen, size, rule id, impact, element,
and axe's summary of what to fix. AXE_SHOTS=1 also saves a screenshot of
every audited screen and size under test-results/browser/axe/.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import ROOT, daphne_server, manage

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SHOTS = ROOT / "test-results" / "browser" / "axe"
LANGS = ["fr", "en"]
FACILITATOR = ("camille", "pw-camille-axe-123")

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}
PROJECTOR = {"width": 1280, "height": 720}
SIZES = [LAPTOP, PHONE, SMALL_PHONE]

# The words each language's pages use, where the test clicks or waits on them.
WORDS = {
    "fr": {
        "log_in": "Se connecter",
        "move": "Amener tout le monde ici",
        "lock": "Verrouiller l’écriture",
        "unlock": "Déverrouiller l’écriture",
        "enter": "Entrer dans l’atelier",
        "export": "Exporter en PDF",
    },
    "en": {
        "log_in": "Log in",
        "move": "Move everyone here",
        "lock": "Lock writing",
        "unlock": "Unlock writing",
        "enter": "Enter the workshop",
        "export": "Export PDF",
    },
}


PROFILE = {"fr": "Client interne", "en": "Internal client"}


# Auditing ---------------------------------------------------------------------------------


def audit(page, screen, sizes=SIZES):
    """axe on this page at each size: a list of (screen, size, rule, impact, element, summary)."""
    found = []
    for size in sizes:
        page.set_viewport_size(size)
        page.wait_for_timeout(50)  # let the layout and the media queries settle
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(AXE + "\n;true")
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => ({target: n.target.join(' '),"
            " summary: (n.failureSummary || '').replace(/\\s+/g, ' ')}))})))",
            AXE_TAGS,
        )
        where = f"{size['width']}x{size['height']}"
        if os.environ.get("AXE_SHOTS"):
            SHOTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w-]+", "-", f"{screen}-{where}").strip("-")
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        for violation in result:
            for node in violation["nodes"]:
                found.append(
                    (
                        screen,
                        where,
                        violation["id"],
                        violation["impact"],
                        node["target"],
                        f"{violation['help']}: {node['summary'][:300]}",
                    )
                )
    return found


def no_horizontal_scroll(page):
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


class Findings:
    """Violations gathered over one test; the test fails at its end if there are any."""

    def __init__(self):
        self.found = []

    def check(self, page, screen, sizes=SIZES):
        self.found += audit(page, screen, sizes)

    def report(self):
        """One entry per screen, rule and element, with the sizes where axe saw it."""
        grouped = {}
        for screen, size, rule, impact, target, summary in self.found:
            key = (screen, rule, impact, target, summary)
            grouped.setdefault(key, []).append(size)
        return [
            f"{screen} @ {', '.join(sizes)}: {rule} ({impact}) {target}\n    {summary}"
            for (screen, rule, impact, target, summary), sizes in grouped.items()
        ]

    def assert_none(self):
        assert not self.found, f"{len(self.found)} axe violation(s):\n" + "\n".join(self.report())


@pytest.fixture
def findings():
    return Findings()


# The server, and one room per language ------------------------------------------------------


@pytest.fixture(scope="module")
def axe_server():
    # No account yet: the first test sees the setup page.
    with daphne_server("reciproque-axe-", keep_log="daphne-axe.log") as running:
        yield {"url": running.url, "env": running.env}


@pytest.fixture(scope="module")
def facilitator(axe_server):
    """The account, made after the first-run test has seen the setup page; a spare
    workshop per language (its pk by language) lets the error pages run alone."""
    script = (
        "from django.contrib.auth import get_user_model\n"
        "from workshops import actions\n"
        f"user = get_user_model().objects.create_user({FACILITATOR[0]!r}, "
        f"password={FACILITATOR[1]!r})\n"
        "for lang in ('fr', 'en'):\n"
        "    spare = actions.create_workshop(facilitator=user, method_key='diagnostic', "
        "title='Spare', language=lang)\n"
        "    print(f'SPARE {lang}={spare.pk}')"
    )
    out = manage(axe_server["env"], "shell", "-c", script)
    return {lang: int(pk) for lang, pk in re.findall(r"^SPARE (\w+)=(\d+)$", out, re.M)}


class LangRoom:
    """One language: a facilitator's laptop, its workshop, and a participant's phone."""

    def __init__(self, url, browser, lang):
        self.url = url
        self.lang = lang
        self.words = WORDS[lang]
        self.contexts = []
        self.laptop = self._context(browser, viewport=LAPTOP)
        self.page = self.laptop.new_page()
        self.phone_context = self._context(browser, viewport=PHONE, is_mobile=True, has_touch=True)
        self.phone = self.phone_context.new_page()
        self.workshop = None  # the console's URL, once the workshop form made it

    def _context(self, browser, **options):
        locale = "fr-FR" if self.lang == "fr" else "en-GB"
        # Reduced motion: the connection dot's blink must not make contrast a matter of timing.
        context = browser.new_context(locale=locale, reduced_motion="reduce", **options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context

    def close(self):
        for context in self.contexts:
            context.close()

    def stage_item(self, title_part):
        return self.page.locator("#stage-list li.stage-item").filter(has_text=title_part)

    def move_everyone_to(self, index):
        """The index-th stage (0-based) of the console's list; waits for the phone to follow."""
        item = self.page.locator("#stage-list li.stage-item").nth(index)
        title = item.locator(".stage-item-title").inner_text().strip()
        button = item.get_by_role("button", name=self.words["move"])
        if button.count():
            button.click()
        for page in (self.page, self.phone):
            expect(page.locator("#stage-head .stage-title")).to_have_text(title)
        return title


@pytest.fixture(scope="module")
def rooms(axe_server, browser, facilitator):
    made = {}
    yield lambda lang: made.setdefault(lang, LangRoom(axe_server["url"], browser, lang))
    for room in made.values():
        room.close()


def without_browser_checks(page, form_selector):
    """Let an incomplete form reach the server, so its error messages can be audited."""
    page.locator(form_selector).evaluate("form => { form.noValidate = true; }")


# The tests, in the order a first room lives them ---------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_it_passes_on_the_first_run_pages(axe_server, browser, findings, lang):
    context = browser.new_context(locale="fr-FR" if lang == "fr" else "en-GB", viewport=LAPTOP)
    try:
        page = context.new_page()
        page.goto(axe_server["url"] + "/")
        page.wait_for_url(re.compile(r"/setup/$"))  # no account yet: home leads to setup
        findings.check(page, f"[{lang}] setup")
        without_browser_checks(page, "main form")
        page.locator("main form button[type=submit]").click()
        expect(page.locator(".invalid-feedback, .errorlist").first).to_be_visible()
        findings.check(page, f"[{lang}] setup with errors")
    finally:
        context.close()
    findings.assert_none()


@pytest.mark.parametrize("lang", LANGS)
def test_it_passes_on_the_facilitator_pages(rooms, axe_server, findings, lang):
    room = rooms(lang)
    page = room.page
    url = axe_server["url"]

    page.goto(url + "/")  # an account exists now: home is the join-by-code page
    findings.check(page, f"[{lang}] home")
    page.set_viewport_size(PHONE)
    box = page.locator("main a[href$='/login/']").bounding_box()
    assert box["height"] >= 44, f"'Facilitator? Log in' is {box['height']} px high"

    page.goto(url + "/login/")
    findings.check(page, f"[{lang}] login")
    page.fill("#id_username", FACILITATOR[0])
    page.fill("#id_password", "not the password")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".alert-danger, .invalid-feedback, .errorlist").first).to_be_visible()
    findings.check(page, f"[{lang}] login with errors")
    page.fill("#id_username", FACILITATOR[0])
    page.fill("#id_password", FACILITATOR[1])
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/workshops/$"))
    findings.check(page, f"[{lang}] dashboard")

    page.goto(url + "/workshops/new/?method=diagnostic")
    findings.check(page, f"[{lang}] workshop form")
    page.fill("#id_title", "")
    without_browser_checks(page, "main form")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    findings.check(page, f"[{lang}] workshop form with errors")
    page.fill("#id_title", f"Diagnostic ({lang})")
    page.fill("#id_observed_service", "Direction des systèmes d’information")
    page.fill("#id_perimeter", "Demandes d’intervention et support applicatif")
    page.fill("#id_intention", "Clarifier ce que chacun attend de l’autre")
    page.select_option("#id_language", lang)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/workshops/\d+/$"))
    room.workshop = page.url
    page.wait_for_selector("body[data-connection=connected]")

    page.goto(room.workshop + "stages/add/")
    findings.check(page, f"[{lang}] stage form")
    without_browser_checks(page, "main form")
    page.fill("#id_title", "")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    findings.check(page, f"[{lang}] stage form with errors")

    page.goto(room.workshop + "edit/")
    findings.check(page, f"[{lang}] workshop details form")
    findings.assert_none()


def join_url(room):
    room.page.goto(room.workshop)
    room.page.wait_for_selector("body[data-connection=connected]")
    return room.page.locator(".join-link a").inner_text().strip()


@pytest.mark.parametrize("lang", LANGS)
def test_it_passes_on_the_join_pages(rooms, axe_server, findings, lang):
    room = rooms(lang)
    phone = room.phone
    link = join_url(room)

    phone.goto(axe_server["url"] + "/join/")
    findings.check(phone, f"[{lang}] join by code")
    phone.fill("input[name=code]", "ZZZZZZ")
    phone.locator("main form button[type=submit]").tap()
    expect(phone.locator(".invalid-feedback, .errorlist, .alert").first).to_be_visible()
    findings.check(phone, f"[{lang}] join by code with errors")

    phone.goto(link)
    findings.check(phone, f"[{lang}] join")
    without_browser_checks(phone, "main form")
    phone.locator("main form button[type=submit]").tap()
    expect(phone.locator(".invalid-feedback").first).to_be_visible()
    findings.check(phone, f"[{lang}] join with errors")
    # WCAG 2.5.5: each profile is a whole row one taps, not a 16 px radio.
    for label in phone.locator("label.form-check-label[for^=id_profile_]").all():
        box = label.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 200, f"profile row {box}"
    phone.fill("#id_display_name", "Alice")
    phone.locator("label[for^=id_profile_]", has_text=PROFILE[lang]).tap()
    expect(phone.locator("input[name=profile][value=internal_client]")).to_be_checked()
    phone.get_by_role("button", name=room.words["enter"]).tap()
    phone.wait_for_url(re.compile(r"/w/\d+/$"))
    phone.wait_for_selector("body[data-connection=connected]")
    findings.assert_none()


# The Diagnostic's stages, one of each kind, and what shows each kind on the phone
# (step 3 is the journey, step 4 the tension matrix, step 5 the action sheets).
STAGES = [
    (0, "framing", ".framing"),
    (1, "map", "[data-map]"),
    (2, "journey", ".board-journey"),
    (3, "tensions", "form.matrix-compose"),
    (4, "actions", ".board-sheets"),
]


def open_compose(phone):
    """The compose box, opened first if the phone keeps it behind a button."""
    compose = phone.locator("form.compose")
    if not compose.is_visible():
        opener = phone.get_by_role("button", name=re.compile(r"^(Écrire|Write)\b"))
        if opener.count():
            opener.first.tap()
    return compose


def write_on_the_phone(room, kind):
    """Something of the phone's own on the stage, so its own post-it or actor tools show."""
    page, phone = room.page, room.phone
    if kind == "map":
        phone.locator("[data-map] a[href$='/actors/new/']").first.tap()
        phone.locator(".map-form input[name=name]").fill("Service achats")
        phone.locator(".map-form input[name=circle]").first.check()
        phone.locator(".map-form button[type=submit]").tap()
        expect(page.locator(".map-svg")).to_contain_text("Service achats")
    elif kind == "journey":
        # The console gives it a situation and a step; the phone writes in each colour, rates.
        for form, name in (("situations", "Alerte client"), ("steps", "Premier appel")):
            tool = page.locator(f".journey-tools form[action$='/journey/{form}/']")
            tool.locator("input[name=name]").fill(name)
            tool.locator("button[type=submit]").click()
            expect(page.locator(".journey-tools")).to_contain_text(name)
        compose = phone.locator(".jpanel form.jcompose")
        for n, colour in enumerate(("green", "orange", "red")):
            compose.locator(f"input[name=colour][value={colour}]").check()
            compose.locator("textarea[name=text]").fill(f"Interaction {n}")
            compose.locator(".compose-send").tap()
            expect(phone.locator(".jpanel .jpostit")).to_have_count(n + 1)
        phone.locator('.jpanel button.jface[value="-1"]').tap()
        expect(phone.locator(".jpanel button.jface.is-chosen")).to_have_count(1)
        expect(page.locator(".jlanes .jpostit").first).to_be_visible()
    elif kind == "tensions":
        form = phone.locator("form.matrix-compose")
        form.locator("textarea[name=text]").fill("Les attentes ne sont écrites nulle part")
        form.get_by_role("button").tap()
        row = phone.locator("tr.tension-row").first
        expect(row).to_be_visible()
        row.locator("details.matrix-add summary").first.tap()
        row.locator("input[name=kind]").first.check()
        row.locator("textarea[name=text]").first.fill("Personne ne les a formulées")
        row.locator("details.matrix-add[open] button[type=submit]").tap()
        expect(page.locator("li.cause")).to_have_count(1)
    elif kind == "actions":
        phone.locator(".sheet-tools a[href$='/sheets/new/']").tap()
        phone.locator(".map-form input[name=title]").fill("Un guichet unique")
        phone.locator(".map-form button[type=submit]").tap()
        expect(page.locator(".sheet-card")).to_contain_text("Un guichet unique")
    elif kind.startswith("wall"):
        compose = open_compose(phone)
        colours = compose.locator("input[name=colour]")
        for n in range(max(1, colours.count())):  # one post-it of each colour, if any
            compose.locator("textarea[name=text]").fill(f"Idée {n} ({kind})")
            if colours.count():
                colours.nth(n).check()
            compose.locator(".compose-send").tap()
            expect(phone.locator(".postit:not(.is-pending)")).to_have_count(n + 1)
        expect(page.locator(".postit").first).to_be_visible()


@pytest.mark.parametrize("lang", LANGS)
def test_it_passes_on_every_stage_kind(rooms, findings, lang):
    room = rooms(lang)
    page, phone = room.page, room.phone
    projector = room.laptop.new_page()
    try:
        if not page.url.startswith(room.workshop):
            page.goto(room.workshop)
        for index, kind, marker in STAGES:
            title = room.move_everyone_to(index)
            assert phone.locator(marker).count(), (
                f"stage {index + 1} ({title}) is no longer a {kind} stage: update STAGES"
            )
            write_on_the_phone(room, kind)
            projector.goto(room.workshop + "projector/")
            projector.wait_for_selector("body[data-connection=connected]")
            findings.check(page, f"[{lang}] console, {kind}")
            findings.check(projector, f"[{lang}] projector, {kind}", [PROJECTOR, *SIZES])
            findings.check(phone, f"[{lang}] phone, {kind}")
            page.set_viewport_size(LAPTOP)
            phone.set_viewport_size(PHONE)
    finally:
        projector.close()
    findings.assert_none()


@pytest.mark.parametrize("lang", LANGS)
def test_it_passes_offline_and_when_writing_is_refused(rooms, findings, lang):
    room = rooms(lang)
    page, phone = room.page, room.phone
    # A plain wall with nothing on it yet, added from the stage form (the Diagnostic's last
    # open wall is now its action sheets).
    page.goto(room.workshop + "stages/add/")
    page.fill("#id_title", "Mur libre")
    page.select_option("#id_kind", "wall")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/workshops/\d+/$"))
    page.wait_for_selector("body[data-connection=connected]")
    room.move_everyone_to(page.locator("#stage-list li.stage-item").count() - 1)

    room.phone_context.set_offline(True)
    compose = open_compose(phone)
    compose.locator("textarea[name=text]").fill("Écrit hors ligne")
    compose.locator(".compose-send").tap()
    expect(phone.locator(".postit.is-pending")).to_have_count(1)
    findings.check(phone, f"[{lang}] phone offline, a post-it waiting")

    # Locked while the phone was away: its queued post-it is refused when it comes back.
    page.get_by_role("button", name=room.words["lock"], exact=True).click()
    expect(page.get_by_role("button", name=room.words["unlock"])).to_be_visible()
    findings.check(page, f"[{lang}] console, writing locked")
    room.phone_context.set_offline(False)
    expect(phone.locator("#refused .postit.is-refused")).to_be_visible(timeout=15_000)
    expect(phone.locator("body.writing-closed")).to_have_count(1)
    findings.check(phone, f"[{lang}] phone, writing locked and a write refused")

    page.get_by_role("button", name=room.words["unlock"]).click()
    expect(page.get_by_role("button", name=room.words["lock"], exact=True)).to_be_visible()
    findings.assert_none()


@pytest.mark.parametrize("lang", LANGS)
def test_it_passes_on_the_exports(rooms, findings, lang):
    room = rooms(lang)
    page = room.page
    page.set_viewport_size(LAPTOP)
    page.locator(".import-box summary").click()
    page.get_by_role("button", name=room.words["export"]).click()
    expect(page.locator("#report-status")).not_to_be_empty(timeout=15_000)
    findings.check(page, f"[{lang}] console, exports")
    findings.assert_none()


@pytest.mark.parametrize("lang", LANGS)
def test_it_passes_on_the_error_pages(facilitator, axe_server, browser, findings, lang):
    url = axe_server["url"]
    workshop_id = facilitator[lang]  # a workshop in that language
    stranger = browser.new_context(
        locale="fr-FR" if lang == "fr" else "en-GB",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = stranger.new_page()
        cases = [
            ("404", url + "/no-such-page/", 404),
            # Not a participant of this workshop: the 403 page.
            ("403", f"{url}/w/{workshop_id}/stages/1/mine/", 403),
            ("403 not a participant", f"{url}/w/{workshop_id}/", 403),
        ]
        for name, address, status in cases:
            response = page.goto(address)
            assert response.status == status, f"{name}: {address} gave {response.status}"
            assert page.locator("meta[name=viewport]").count() == 1, name
            assert page.locator("html").get_attribute("lang") == lang, name
            assert no_horizontal_scroll(page), f"{name}: the page scrolls sideways at 390 px"
            findings.check(page, f"[{lang}] {name}")

        # A form posted without its CSRF cookie: Django's CSRF failure page.
        page.goto(url + "/join/")
        stranger.clear_cookies()
        page.fill("input[name=code]", "ABCDEF")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.locator("main form button[type=submit]").tap()
        assert posted.value.status == 403
        page.wait_for_selector(".error-page")  # same address: wait for the new document
        assert page.locator("meta[name=viewport]").count() == 1
        assert page.locator("html").get_attribute("lang") == lang
        assert no_horizontal_scroll(page), "the CSRF page scrolls sideways at 390 px"
        findings.check(page, f"[{lang}] 403 CSRF")
    finally:
        stranger.close()
    findings.assert_none()
