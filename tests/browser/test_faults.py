"""Faults, in real browsers: the server killed, stopped, or closing sockets; edits that cross.

Each test here runs its own Daphne (the embedded setup: SQLite in a temp
dir, tests/faults/servers.py), which it kills (`kill -9`), stops (SIGTERM)
and starts again on the same port and database. The pages are Debian's
Chromium, driven by Playwright; nobody reloads them: `marker()` checks it.
"""

import secrets
import time

import pytest
from playwright.sync_api import expect

from tests.faults.servers import FACILITATOR, Writers, make_room
from tests.scaleout.cluster import Browser

from .conftest import LAPTOP, PHONE, NeverReloaded

pytestmark = pytest.mark.browser

BOARD = """() => Array.from(document.querySelectorAll('article.postit:not(.is-pending)')).map(
  a => [parseInt(a.dataset.pid, 10), a.querySelector('.postit-text').textContent.trim(),
        (a.closest('.postits') || {}).id])"""

# Every socket a page opens: when it was created and when it opened (ms since the epoch).
SOCKET_CLOCK = """(() => {
  const Native = window.WebSocket;
  window.__rqSockets = [];
  function Watched(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    const entry = { created: performance.timeOrigin + performance.now(), opened: null };
    window.__rqSockets.push(entry);
    ws.addEventListener('open', () => {
      entry.opened = performance.timeOrigin + performance.now();
    });
    return ws;
  }
  Watched.prototype = Native.prototype;
  ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach(k => { Watched[k] = Native[k]; });
  window.WebSocket = Watched;
})();"""


class Screen(NeverReloaded):
    def __init__(self, name, context, page, http):
        self.name = name
        self.context = context
        self.page = page
        self.http = http  # the same session, for the test's own requests
        self.errors = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def board(self):
        rows = self.page.evaluate(BOARD)
        board = {pid: (text, place) for pid, text, place in rows}
        assert len(board) == len(rows), f"{self.name} shows a post-it twice: {rows}"
        return board

    def connected(self, timeout=15_000):
        self.page.wait_for_selector("body[data-connection=connected]", timeout=timeout)


def _context(browser, base, http, **options):
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": c.name, "value": c.value, "url": base} for c in http.jar])
    return context


def phone(browser, room, base, name, init_script=None):
    http = room.phone(base, name)
    context = _context(browser, base, http, viewport=PHONE, is_mobile=True, has_touch=True)
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.goto(f"{base}/w/{room.workshop}/")
    screen = Screen(name, context, page, http)
    screen.connected()
    return screen


def console(browser, room, base):
    http = Browser()
    http.log_in(base, *FACILITATOR)
    context = _context(browser, base, http, viewport=LAPTOP)
    page = context.new_page()
    page.goto(f"{base}/workshops/{room.workshop}/")
    screen = Screen("console", context, page, http)
    screen.connected()
    return screen


def write(screen, text, column="a"):
    """The compose form, as a person uses it (the offline queue sends it)."""
    form = screen.page.locator("form.compose")
    form.locator("textarea[name=text]").fill(text)
    form.locator(f"input[name=column][value={column}]").check()
    form.locator(".compose-send").click()


def wait_for(screen, predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        screen.page.wait_for_timeout(50)  # lets Playwright dispatch (route handlers)
    return predicate()


@pytest.fixture(scope="module")
def fault_room(tmp_path_factory):
    room = make_room(tmp_path_factory.mktemp("browser-faults"))
    yield room
    room.stop_workers()


@pytest.fixture
def server(fault_room):
    server = fault_room.worker()
    yield server
    fault_room.stop_workers()


@pytest.fixture
def screens():
    opened = []
    yield opened
    errors = [(s.name, e) for s in opened for e in s.errors]
    for screen in opened:
        screen.context.close()
    assert not errors, f"uncaught errors in the pages: {errors}"


# 1. kill -9 mid-session -------------------------------------------------------------------


def test_it_keeps_every_write_through_a_kill_9_and_the_pages_come_back_by_themselves(
    browser, fault_room, server, screens
):
    room = fault_room
    alice = phone(browser, room, server.url, "Alice")
    bruno = phone(browser, room, server.url, "Bruno")
    screens += [alice, bruno]
    markers = {s.name: s.marker() for s in (alice, bruno)}
    writers = Writers(room, server.url, ["Chloé", "David"], per_writer=15)

    # Alice's next post-it reaches the server, which commits it, but its answer never
    # comes back: the server dies first.
    held = []

    def hold(route):
        if route.request.method == "POST" and not held:
            held.append((route, route.fetch()))
        else:
            route.continue_()

    postits = f"**/w/{room.workshop}/stages/{room.stage}/postits/"
    alice.page.route(postits, hold)
    writers.start()
    write(alice, "En vol quand le serveur meurt")
    assert wait_for(alice, lambda: held, 10)
    assert wait_until_answers(writers, 8)
    server.stop(kill=True, restarting=True)  # kill -9, writers mid-flight
    held[0][0].abort("connectionreset")
    alice.page.unroute(postits, hold)

    # While it is down, both phones write: their queues keep the post-its.
    write(alice, "Écrit pendant la panne (Alice)", column="b")
    write(bruno, "Écrit pendant la panne (Bruno)")
    for screen in (alice, bruno):
        expect(screen.page.locator("body[data-connection=connected]")).to_have_count(0)
        expect(screen.page.locator(".postit.is-pending")).not_to_have_count(0)
    time.sleep(1)
    server.start()
    writers.join()

    # Back by themselves: reconnected, queues sent, boards as the database has them.
    for screen in (alice, bruno):
        screen.connected(timeout=30_000)
        expect(screen.page.locator(".postit.is-pending")).to_have_count(0, timeout=30_000)
    assert {status for status, _ in writers.answers.values()} == {200}
    assert room.events_by_op(writers.answers) == dict.fromkeys(writers.answers, 1)
    truth = room.wall()
    texts = [text for text, _place in truth.values()]
    for text in (
        "En vol quand le serveur meurt",
        "Écrit pendant la panne (Alice)",
        "Écrit pendant la panne (Bruno)",
        *(t for _s, t in writers.answers.values()),
    ):
        assert texts.count(text) == 1, text
    for screen in (alice, bruno):
        assert wait_for(screen, lambda s=screen: s.board() == room.wall(), 20), screen.name
        assert screen.still(markers[screen.name]), f"{screen.name} reloaded"
        assert (
            screen.page.evaluate(
                "k => JSON.parse(localStorage.getItem(k) || '[]').length",
                f"rq-queue-{room.workshop}",
            )
            == 0
        )


def wait_until_answers(writers, count, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(writers.answers) < count:
        time.sleep(0.05)
    return len(writers.answers) >= count


# 2. A graceful stop: twenty pages come back, not all at once --------------------------------


def test_it_spreads_the_reconnections_of_twenty_pages_after_a_graceful_stop(
    browser, fault_room, server, screens
):
    room = fault_room
    http = Browser()
    http.log_in(server.url, *FACILITATOR)
    context = _context(browser, server.url, http, viewport={"width": 640, "height": 400})
    context.add_init_script(SOCKET_CLOCK)
    projectors = []
    for i in range(20):
        page = context.new_page()
        page.goto(f"{server.url}/workshops/{room.workshop}/projector/")
        projectors.append(Screen(f"projector {i}", context, page, http))
    screens.append(projectors[0])  # closes the shared context
    for screen in projectors:
        screen.connected()

    stopped = time.time() * 1000
    server.stop(restarting=True)  # SIGTERM
    time.sleep(1.5)
    server.start()
    text = "Écrit juste après le redémarrage"
    status, _body = http.post_until_answered(
        room.postits_url(server.url), {"text": text, "column": "a", "op_id": secrets.token_hex(16)}
    )
    assert status == 200
    for screen in projectors:
        screen.connected(timeout=40_000)
        expect(screen.page.locator(".postit-text", has_text=text)).to_have_count(1)

    sockets = [s.page.evaluate("() => window.__rqSockets") for s in projectors]
    first_tries = sorted(
        min(e["created"] for e in log if e["created"] > stopped) for log in sockets
    )
    reopened = sorted(
        min(e["opened"] for e in log if e["opened"] and e["opened"] > stopped) for log in sockets
    )
    for name, times in (("first retries", first_tries), ("reconnections", reopened)):
        crowd = max(sum(1 for t in times if start <= t < start + 100) for start in times)
        print(
            f"\n{name}: spread over {times[-1] - times[0]:.0f} ms, "
            f"at most {crowd} of 20 in any 100 ms"
        )
        assert times[-1] - times[0] > 400, f"{name} all within {times[-1] - times[0]:.0f} ms"
        assert crowd <= 10, f"{crowd} of 20 {name} in one 100 ms window"


# 3. The server ends the socket (Daphne's --websocket_timeout) --------------------------------


def test_it_reconnects_and_catches_up_when_the_server_closes_the_socket(
    browser, fault_room, screens
):
    room = fault_room
    server = room.worker(args=["--websocket_timeout", "3"])
    alice = phone(browser, room, server.url, "Émile", init_script=SOCKET_CLOCK)
    screens.append(alice)
    marker = alice.marker()
    writer = room.phone(server.url, "Fanny")
    # Written while the page's socket comes and goes.
    for i in range(3):
        writer.post_until_answered(
            room.postits_url(server.url),
            {"text": f"Entre deux coupures {i}", "column": "b", "op_id": secrets.token_hex(16)},
        )
        time.sleep(1.5)
    for i in range(3):
        expect(
            alice.page.locator(".postit-text", has_text=f"Entre deux coupures {i}")
        ).to_have_count(1, timeout=15_000)

    def opened():
        return sum(1 for e in alice.page.evaluate("() => window.__rqSockets") if e["opened"])

    assert wait_for(alice, lambda: opened() >= 2, 15)
    assert wait_for(alice, lambda: alice.board() == room.wall(), 10)
    assert alice.still(marker)


# 4. Two people edit the same post-it -----------------------------------------------------------


def test_it_shows_the_loser_of_two_crossing_edits_the_winners_text(
    browser, fault_room, server, screens
):
    """Alice and the facilitator edit one post-it at once. The later write, in the server's
    order, wins; Alice's page, whose answer comes back last, shows the winner's text."""
    room = fault_room
    alice = phone(browser, room, server.url, "Alice 2")
    bruno = phone(browser, room, server.url, "Bruno 2")
    camille = console(browser, room, server.url)
    screens += [alice, bruno, camille]
    write(alice, "Première version")
    card = alice.page.locator("article.postit:not(.is-pending)", has_text="Première version")
    expect(card).to_have_count(1)
    pid = card.get_attribute("data-pid")

    held = []

    def hold(route):
        held.append((route, route.fetch()))  # applied by the server; the answer waits

    edit_url = f"**/w/{room.workshop}/postits/{pid}/edit/"
    alice.page.route(
        edit_url, lambda route: hold(route) if route.request.method == "POST" else route.continue_()
    )
    edit(alice, pid, "Version d'Alice")
    assert wait_for(alice, lambda: held, 10)
    edit(camille, pid, "Version de l'animatrice")  # after Alice's, in the server's order
    expect(camille.page.locator(f"#postit-{pid} .postit-text")).to_have_text(
        "Version de l'animatrice"
    )
    expect(alice.page.locator(f"#postit-{pid} .postit-text")).to_have_text(
        "Version de l'animatrice"
    )
    route, response = held[0]
    route.fulfill(response=response)  # Alice's answer, last of all
    alice.page.wait_for_timeout(500)

    assert room.wall()[int(pid)][0] == "Version de l'animatrice"
    for screen in (alice, bruno, camille):
        expect(screen.page.locator(f"#postit-{pid} .postit-text")).to_have_text(
            "Version de l'animatrice"
        )
        assert screen.board() == room.wall(), screen.name


def test_it_keeps_a_slow_reply_from_undoing_what_the_room_did_since(
    browser, fault_room, server, screens
):
    """Alice's post-it is posted, but its answer is slow; meanwhile the facilitator edits
    it, and Alice's page shows the edit. The slow answer must not put her text back."""
    room = fault_room
    alice = phone(browser, room, server.url, "Alice 3")
    camille = console(browser, room, server.url)
    screens += [alice, camille]
    held = []
    postits = f"**/w/{room.workshop}/stages/{room.stage}/postits/"
    alice.page.route(postits, lambda route: held.append((route, route.fetch())))
    write(alice, "Réponse lente")
    assert wait_for(alice, lambda: held, 10)
    card = camille.page.locator("article.postit", has_text="Réponse lente")
    expect(card).to_have_count(1)
    pid = card.get_attribute("data-pid")
    # Its push came before its answer: shown once, not also as "not sent yet".
    expect(alice.page.locator(f"#postit-{pid}")).to_have_count(1)
    expect(alice.page.locator(".postit", has_text="Réponse lente")).to_have_count(1)
    expect(alice.page.locator(".postit.is-pending")).to_have_count(0)
    edit(camille, pid, "Corrigée par l'animatrice")
    expect(alice.page.locator(f"#postit-{pid} .postit-text")).to_have_text(
        "Corrigée par l'animatrice"
    )
    route, response = held[0]
    route.fulfill(response=response)
    alice.page.unroute(postits)
    expect(alice.page.locator(".postit.is-pending")).to_have_count(0)
    alice.page.wait_for_timeout(300)
    expect(alice.page.locator(f"#postit-{pid} .postit-text")).to_have_text(
        "Corrigée par l'animatrice"
    )
    assert alice.board() == room.wall()


def edit(screen, pid, text):
    """Open the post-it's edit form (hx-get), type, save (hx-post)."""
    page = screen.page
    page.locator(f"#postit-{pid} a[hx-get$='/edit/']").click()
    form = page.locator(f"form#postit-{pid}")
    form.locator("textarea[name=text]").fill(text)
    form.locator("button[type=submit]").click()
