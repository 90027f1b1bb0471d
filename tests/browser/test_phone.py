"""The phone keeps up: every phone stage at 360 px, 390 px and 200 % zoom.

Its own server and workshop (the Diagnostic method, in French), a console
(laptop) and three phones: 360x740, 390x844, and a 360 px phone at 200 %
zoom (a 180x370 CSS viewport at device scale 4). The tests run in order and
share the room. Measures are printed (-s) and every screen is saved under
test-results/browser/ for a human to look at.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import daphne_server, join, log_in

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results" / "browser"
LAPTOP = {"width": 1366, "height": 768}
FACILITATOR = ("camille", "pw-camille-phone-123")
SUPPLIER = "Service achats et approvisionnements régionaux"
LONG_URL = "https://intranet.example.fr/demandes/support-applicatif/" + "x" * 60 + "/suivi"
PHONES = {
    "p360": {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2},
    "p390": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3},
    # 200 % zoom on a 360x740 phone: half the CSS pixels, twice the scale.
    "zoom": {"viewport": {"width": 180, "height": 370}, "device_scale_factor": 4},
}

SETUP = """
import json
from django.contrib.auth import get_user_model
from workshops import actions

user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(
    facilitator=user, method_key="diagnostic", language="fr",
    title="Diagnostic participatif : la DSI et ses services clients",
    observed_service="Direction des systèmes d’information",
    perimeter="Demandes d’intervention, voir " + {long_url!r} + " et le support applicatif",
    intention="Clarifier ce que chacun attend de l’autre : anticonstitutionnellement" * 2,
)
# The journey (stage 3) gets a situation and two steps, so that its phone panel shows.
from journeys.journey import actions as journey
trip = next(s for s in workshop.stages.all() if s.kind == "journey")
journey.add_situation(trip, participant=None, name="Demande d’intervention urgente")
for name in ("Premier appel au support", "Diagnostic à distance"):
    journey.add_step(trip, participant=None, name=name)
print("ROOM=" + json.dumps({{
    "workshop": workshop.pk,
    "stages": [[s.pk, s.kind, s.title] for s in workshop.stages.all()],
}}))
"""

# What a finger taps, and what the keyboard stops on.
TARGETS_JS = """
() => {
  const seen = new Set();
  const out = [];
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[tabindex]:not([tabindex="-1"])';
  for (let el of document.querySelectorAll(selector)) {
    // A radio or checkbox is tapped through its label.
    if (el.matches('input[type=radio], input[type=checkbox]') && el.closest('label')) {
      el = el.closest('label');
    }
    if (seen.has(el) || el.closest('.visually-hidden')) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    if (!rect.width || !rect.height || style.visibility === 'hidden') continue;
    if (rect.width < 43.5 || rect.height < 43.5) {
      const label = (el.innerText || el.getAttribute('aria-label') || el.name || el.id || '')
        .trim().slice(0, 40);
      const size = `${Math.round(rect.width)}x${Math.round(rect.height)}`;
      out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${label}" ${size}`);
    }
  }
  return out;
}
"""

WIDER_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const rect = el.getBoundingClientRect();
    if (rect.width && rect.right > width + 1) {
      const name = `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`;
      wide.push(`${name} right=${Math.round(rect.right)}`);
    }
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8)};
}
"""


@dataclass
class PhoneServer:
    url: str
    workshop: int
    stages: list  # [pk, kind, title], in order


@pytest.fixture(scope="module")
def phone_server():
    script = SETUP.format(username=FACILITATOR[0], password=FACILITATOR[1], long_url=LONG_URL)
    with daphne_server("reciproque-phone-", script, keep_log="daphne-phone.log") as running:
        yield PhoneServer(
            url=running.url, workshop=running.room["workshop"], stages=running.room["stages"]
        )


@dataclass(eq=False)
class Screen:
    name: str
    context: object
    page: object
    errors: list


class PhoneRoom:
    def __init__(self, server, browser):
        self.server = server
        self.url = server.url
        self.workshop = server.workshop
        self.stages = server.stages
        self.browser = browser
        self.contexts = []
        self.console = self._screen("console", viewport=LAPTOP)
        page = self.console.page
        log_in(page, self.url, FACILITATOR)
        page.goto(f"{self.url}/workshops/{self.workshop}/")
        self.connected(self.console)
        link = page.locator(".join-link a").inner_text().strip()
        self.phones = []
        for (name, options), (person, profile) in zip(
            PHONES.items(),
            (("Alice", "internal_client"), ("Bruno", "supplier"), ("Chloé", "agent")),
            strict=True,
        ):
            phone = self._screen(name, is_mobile=True, has_touch=True, **options)
            join(phone.page, link, person, profile)
            assert phone.page.url.endswith(f"/w/{self.workshop}/"), phone.page.url
            self.phones.append(phone)
        self.p360, self.p390, self.zoom = self.phones

    def _screen(self, name, **options):
        context = self.browser.new_context(**options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        screen = Screen(name=name, context=context, page=page, errors=[])
        page.on(
            "console",
            lambda message: screen.errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: screen.errors.append(str(error)))
        return screen

    @staticmethod
    def connected(screen):
        screen.page.wait_for_selector("body[data-connection=connected]", timeout=10_000)

    def stage(self, index):
        return self.stages[index]

    def move_everyone_to(self, stage_pk):
        button = self.console.page.locator(
            f"#stage-list form[action$='/stages/{stage_pk}/go/'] button"
        )
        if button.count():  # none on the stage everyone is on already
            button.click()
        for screen in (self.console, *self.phones):
            expect(screen.page.locator(f"#board-{stage_pk}")).to_be_attached(timeout=8_000)

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def room(phone_server, browser):
    room = PhoneRoom(phone_server, browser)
    yield room
    room.close()


def shoot(phone, moment, full_page=False):
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"phone-{moment}-{phone.name}.png"
    phone.page.screenshot(path=str(path), full_page=full_page)
    return path


def write(phone, text):
    form = phone.page.locator("form.compose")
    form.locator("textarea[name=text]").fill(text)
    colours = form.locator("input[name=colour]")
    if colours.count():
        colours.first.check()
    form.locator(".compose-send").tap()
    # A journey's post-its are its panel's own cards (.jpostit); a wall's are .postit.
    own = ".jpostit.is-own" if phone.page.locator(".jpanel").count() else ".postit.is-own"
    expect(phone.page.locator(f"{own}:not(.is-pending)").filter(has_text=text)).to_have_count(1)


def phone_stages(room):
    """(pk, kind, title) of the stages a phone sees: framing, map, the first wall and the
    tension matrix (Diagnostic's first four)."""
    return room.stages[:4]


# 1. A stage change ------------------------------------------------------------------------


def test_it_scrolls_each_phone_to_the_top_and_announces_the_new_stage(room):
    # Enough on the first stage for a phone to scroll down it.
    framing = room.stage(0)
    for n in range(4):
        write(room.p360, f"Mon attente numéro {n} pour cet atelier")
    for pk, _kind, title in [*phone_stages(room)[1:], framing]:
        for phone in room.phones:
            phone.page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        room.move_everyone_to(pk)
        for phone in room.phones:
            page = phone.page
            expect(page.locator("#stage-announce")).to_contain_text(title)
            assert page.evaluate("() => window.scrollY") == 0, (phone.name, title)
            # The live region is outside #live: the redraw cannot take it away.
            assert page.locator("#live #stage-announce").count() == 0


# 2. Every stage, every size ---------------------------------------------------------------


def _seed(room, pk, kind):
    if kind == "map":
        page = room.p390.page
        page.locator(f"#board-{pk} .map-tools a[href$='/actors/new/']").tap()
        form = page.locator(f"#actor-form-{pk}")
        form.locator("input[name=name]").fill(SUPPLIER)
        form.locator("input[name=circle][value=suppliers]").check()
        form.locator("button[type=submit]").tap()
        expect(form).to_have_count(0)
        page.locator(f"#board-{pk} .map-tools a[href$='/flows/new/']").tap()
        form = page.locator(f"#flow-form-{pk}")
        form.locator("select[name=source]").select_option(label=SUPPLIER)
        form.locator("select[name=target]").select_option(value="centre")
        form.locator("input[name=kind][value=request]").check()
        form.locator("input[name=label]").fill("Demande de devis " + "très" * 20)
        form.locator("button[type=submit]").tap()
        expect(form).to_have_count(0)
    elif kind == "tensions":
        # Diagnostic's step 4: a tension with a cause and an opportunity, from a phone.
        page = room.p390.page
        form = page.locator("form.matrix-compose")
        form.locator("textarea[name=text]").fill(f"Irritant : {LONG_URL}")
        form.get_by_role("button").tap()
        row = page.locator("tr.tension-row").first
        expect(row).to_be_visible()
        row.locator("details.matrix-add summary").first.tap()
        row.locator("input[name=kind][value=implicit]").check()
        row.locator("textarea[name=text]").first.fill("Le délai de rappel n’est écrit nulle part")
        row.locator("details.matrix-add[open] button[type=submit]").tap()
        expect(page.locator("li.cause")).to_have_count(1)
    else:
        for phone in room.phones[:2]:
            write(phone, f"Irritant de {phone.name} : {LONG_URL}")


def test_it_keeps_every_phone_stage_tappable_and_never_scrolls_sideways(room):
    offenders, wide, heights = {}, {}, {}
    for pk, kind, title in phone_stages(room):
        room.move_everyone_to(pk)
        if pk != room.stage(0)[0]:
            _seed(room, pk, kind)
        for phone in room.phones:
            page = phone.page
            page.wait_for_timeout(300)
            small = page.evaluate(TARGETS_JS)
            if small:
                offenders[f"{phone.name} {title}"] = small
            sideways = page.evaluate(WIDER_JS)
            if sideways["scroll"] > sideways["width"]:
                wide[f"{phone.name} {title}"] = sideways
            heights[f"{phone.name} {kind}-{pk}"] = page.evaluate(
                """() => {
                  const box = document.querySelector('form.compose, .map-tools');
                  const top = box ? Math.round(box.getBoundingClientRect().top + scrollY) : null;
                  return {page: document.documentElement.scrollHeight, write_box_top: top};
                }"""
            )
            shoot(phone, f"{kind}-{pk}")
            shoot(phone, f"{kind}-{pk}-full", full_page=True)
    print("\npage heights and where the write box starts:", json.dumps(heights))
    assert not wide, f"pages wider than the screen: {json.dumps(wide, indent=1)}"
    assert not offenders, f"tap targets under 44x44 px: {json.dumps(offenders, indent=1)}"


def test_it_gives_own_post_its_real_edit_and_delete_buttons(room):
    pk = room.stage(0)[0]  # the framing wall: the Diagnostic's other stages are kinds of their own
    room.move_everyone_to(pk)
    write(room.p360, "Le mien, à modifier")
    postit = room.p360.page.locator(".postit.is-own").filter(has_text="Le mien, à modifier")
    for name in ("Modifier", "Supprimer"):
        button = postit.get_by_role(
            "button" if name == "Supprimer" else "link", name=re.compile(name)
        )
        expect(button).to_be_visible()
        box = button.bounding_box()
        print(f"\n{name}: {box['width']:.0f}x{box['height']:.0f}")
        assert box["height"] >= 44 and box["width"] >= 44, (name, box)
    # Nobody else's post-it offers them.
    other = room.p360.page.locator(".postit:not(.is-own)").first
    expect(other.get_by_role("button", name=re.compile("Supprimer"))).to_be_hidden()


# 3. The timer -----------------------------------------------------------------------------


def test_it_keeps_the_timer_in_view_and_says_the_last_minute_once(room):
    pk = room.stage(0)[0]  # where the test before left the room (the framing wall)
    page = room.p360.page
    page.evaluate(
        """() => {
          window.__rqAnnounced = [];
          new MutationObserver(() => window.__rqAnnounced.push(
            document.getElementById('timer-announce').textContent)
          ).observe(document.getElementById('timer-announce'),
                    {childList: true, characterData: true, subtree: true});
        }"""
    )
    console = room.console.page
    console.fill("#timer-minutes", "1")
    console.locator("form.timer-start button[type=submit]").click()
    for phone in room.phones:
        expect(phone.page.locator(f"#board-{pk}")).to_be_attached()
        expect(phone.page.locator("#timer .timer-ending")).to_be_visible()
        expect(phone.page.locator("#timer .timer-ending")).to_have_text("Plus qu’une minute")
        phone.page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        phone.page.wait_for_timeout(200)
        assert phone.page.evaluate("() => window.scrollY") > 0, phone.name
        box = phone.page.locator("#timer").bounding_box()
        height = phone.page.evaluate("() => window.innerHeight")
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (phone.name, box)
        # On top of the board, not under it.
        on_top = phone.page.evaluate(
            """() => { const r = document.getElementById('timer').getBoundingClientRect();
                       const el = document.elementFromPoint(r.left + 5, r.top + r.height / 2);
                       return !!(el && el.closest('#timer, .stage-status')); }"""
        )
        assert on_top, phone.name
        shoot(phone, "timer-scrolled")
    page.wait_for_timeout(2_500)
    said = [text for text in page.evaluate("() => window.__rqAnnounced") if text.strip()]
    assert said == ["Plus qu’une minute"], said
    console.locator("#controls form", has=console.locator("input[value=reset]")).locator(
        "button"
    ).click()
    expect(page.locator("#timer")).to_have_attribute("data-state", "idle")


# 4. Focus ---------------------------------------------------------------------------------


def test_it_never_lets_the_focus_hide_under_the_bars(room):
    for phone in room.phones[:2]:
        page = phone.page
        # Bootstrap scrolls the root smoothly: measure where the focus lands, not mid-glide.
        page.emulate_media(reduced_motion="reduce")
        page.evaluate("() => { window.scrollTo(0, 0); document.activeElement.blur(); }")
        hidden = []
        stops = 0
        for _ in range(16):
            page.keyboard.press("Tab")
            page.wait_for_timeout(80)
            where = page.evaluate(
                """() => {
                  const el = document.activeElement;
                  if (!el || el === document.body) return null;
                  const r = el.getBoundingClientRect();
                  const foot = document.querySelector('.livefoot').getBoundingClientRect();
                  const bar = document.querySelector('.livebar').getBoundingClientRect();
                  const status = document.querySelector('.stage-status').getBoundingClientRect();
                  const sticky = getComputedStyle(document.querySelector('.stage-status'))
                    .position === 'sticky';
                  const stuck = sticky && status.top <= bar.bottom + 1;
                  const top = stuck ? Math.max(bar.bottom, status.bottom) : bar.bottom;
                  const inFoot = !!el.closest('.livefoot, .livebar, .stage-status');
                  const label = (el.innerText || el.name || el.id || el.tagName).trim();
                  return {label: label.slice(0, 30), top: r.top, bottom: r.bottom,
                          footTop: foot.top, headBottom: top, inFoot};
                }"""
            )
            if where is None:
                continue
            stops += 1
            if where["inFoot"]:
                continue
            if where["top"] < where["headBottom"] - 1 or where["bottom"] > where["footTop"] + 1:
                hidden.append(where)
        assert stops >= 10, (phone.name, stops)
        assert not hidden, f"{phone.name}: focus under the bars: {json.dumps(hidden, indent=1)}"


# 5. The console's presence ----------------------------------------------------------------


def test_it_shows_presence_as_unknown_while_the_console_is_offline(room):
    console = room.console
    page = console.page
    known = page.locator("#presence .presence-summary .presence-known")
    unknown = page.locator("#presence .presence-summary .presence-unknown")
    expect(known).to_be_visible()
    expect(known).to_have_text(re.compile(r"^\s*3 connectés\s*$"))
    expect(unknown).to_be_hidden()
    console.context.set_offline(True)
    try:
        expect(page.locator("body")).not_to_have_attribute("data-connection", "connected")
        expect(page.locator("#presence")).to_have_class(re.compile(r"\bis-unconfirmed\b"))
        expect(known).to_be_hidden()
        expect(unknown).to_be_visible()
        expect(unknown).to_contain_text("?")
        expect(unknown).to_contain_text("à confirmer")
        # Each person's state too: nobody shows as "connecté" on the strength of an old poll.
        states = page.locator("#presence .presence-list .presence-state .presence-known")
        expect(states).to_have_count(3)
        for state in states.all():
            expect(state).to_be_hidden()
        page.wait_for_timeout(3_500)  # no poll brings the old counts back meanwhile
        expect(known).to_be_hidden()
        page.screenshot(path=str(RESULTS / "phone-console-presence-offline.png"))
    finally:
        console.context.set_offline(False)
    room.connected(console)
    expect(page.locator("#presence")).not_to_have_class(re.compile(r"\bis-unconfirmed\b"))
    expect(known).to_be_visible()
    expect(known).to_have_text(re.compile(r"^\s*3 connectés\s*$"))
    expect(unknown).to_be_hidden()


# 6. Undo and writing for someone ----------------------------------------------------------


def test_it_undoes_a_move_to_the_wrong_stage_in_one_tap(room):
    here, wrong = room.stage(2), room.stage(4)
    room.move_everyone_to(here[0])
    room.move_everyone_to(wrong[0])
    back = room.console.page.locator(".stage-back button")
    expect(back).to_contain_text(here[2])
    back.click()
    for screen in (room.console, *room.phones):
        expect(screen.page.locator(f"#board-{here[0]}")).to_be_attached()
    expect(room.console.page.locator(".stage-back")).to_have_count(0)


def test_it_writes_for_someone_without_a_phone(room):
    # The framing wall shows names (not anonymous, not private); the Diagnostic's other open
    # wall, step 5, is now its action sheets.
    framing = room.stage(0)
    assert framing[1] == "framing"
    room.move_everyone_to(framing[0])
    page = room.console.page
    page.locator("#add-participant summary").click()
    page.fill("#proxy-name", "Denise <b>sans</b> téléphone")
    page.select_option("#proxy-profile", "partner")
    page.locator("#add-participant button[type=submit]").click()
    expect(page.locator("#presence")).to_contain_text("Denise <b>sans</b> téléphone")
    select = page.locator("#act-as-select")
    expect(select).to_be_attached()
    select.select_option(index=1)
    form = page.locator("form.compose")
    form.locator("textarea[name=text]").fill("Noté pour Denise")
    colours = form.locator("input[name=colour]")
    if colours.count():
        colours.first.check()
    form.locator(".compose-send").click()
    for screen in (room.console, *room.phones):
        postit = screen.page.locator(".postit:not(.is-pending)").filter(has_text="Noté pour Denise")
        expect(postit.locator(".postit-author")).to_have_text("Denise <b>sans</b> téléphone")
        expect(postit.locator(".postit-proxy")).to_have_text("saisi par l’animateur·rice")
        # Nobody's phone takes it for their own.
        expect(postit).not_to_have_class(re.compile(r"\bis-own\b"))
    shoot(room.p390, "proxy-postit")


def test_it_raised_no_errors_on_any_screen(room):
    errors = {s.name: s.errors for s in (room.console, *room.phones) if s.errors}
    assert not errors, errors
