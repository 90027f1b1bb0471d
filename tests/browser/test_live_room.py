"""A live workshop in real browsers: a console, a projector and three phones.

The tests follow a session in the order a facilitator runs it, and share one
room; each one still sets up what it needs (phones joined, the right stage),
so any of them can run alone with -k.
"""

import re
import shutil
import subprocess
import time

import pytest
from playwright.sync_api import expect

from .conftest import IDEAS, JOURNEYS, OFFLINE, PHONE, SECRET

pytestmark = pytest.mark.browser

OFFLINE_SECONDS = 10


def timer_seconds(actor):
    label = actor.page.evaluate("() => document.querySelector('#timer .timer-value').textContent")
    minutes, seconds = label.strip().split(":")
    return int(minutes) * 60 + int(seconds)


# 1. Joining by QR code -------------------------------------------------------------------


def test_it_lets_phones_join_through_the_link_the_qr_code_encodes(room, shots):
    page = room.console.page
    qr = page.locator("#join-panel img.qr")
    assert qr.get_attribute("src").startswith(f"/workshops/{room.workshop_id}/qr.svg")
    page.wait_for_function(
        "() => { const i = document.querySelector('img.qr');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    png = shots.path("qr", "console")
    qr.screenshot(path=str(png))
    zbarimg = shutil.which("zbarimg")
    assert zbarimg, "zbarimg (zbar-tools) is needed to decode the QR code"
    decoded = subprocess.run(
        [zbarimg, "--raw", "-q", str(png)], capture_output=True, text=True, timeout=30
    )
    assert decoded.returncode == 0, f"zbarimg could not read the QR code: {decoded.stderr}"
    encoded = decoded.stdout.strip()

    shown = room.join_link()
    assert encoded == shown
    assert page.locator(".join-link a").get_attribute("href") == shown
    # A phone can reach it: the public address, not a guess at localhost.
    assert re.fullmatch(rf"{re.escape(room.url)}/j/[\w-]+/", encoded)

    people = [
        (room.alice, "Alice", "internal_client", "Internal client"),
        (room.bruno, "Bruno", "supplier", "Supplier"),
        (room.chloe, "Chloé", "agent", "Agent of the observed service"),
    ]
    for phone, name, profile, label in people:
        room.join(phone, encoded, name, profile)
        expect(phone.page.locator(".livefoot .me")).to_have_text(f"You are {name} ({label})")
        expect(phone.page.locator("form.compose textarea")).to_be_visible()
        shots.take(phone, "joined")
    room.joined = True

    # The console sees them arrive (its presence panel refreshes every few seconds).
    names = page.locator("#presence .presence-name")
    expect(names).to_have_text(["Alice", "Bruno", "Chloé"], timeout=8_000)
    expect(page.locator("#presence li.is-online")).to_have_count(3, timeout=8_000)
    shots.take(room.console, "joined")


def test_it_lets_a_phone_join_by_typing_the_code_shown_on_the_projector(room):
    projector = room.projector.page
    code = projector.locator("#join-panel .join-code").inner_text().strip()
    address = projector.locator(".projector-join-hint .host").inner_text().strip()
    assert address == f"{room.url.removeprefix('http://')}/join/"

    context = room.new_context("dora", viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"http://{address}")
        page.fill("#id_code", f" {code.lower()[:3]} {code.lower()[3:]} ")  # as people type it
        page.get_by_role("button", name="Join", exact=True).tap()
        expect(page.locator("h1")).to_have_text("Browser room")
        expect(page.locator("#id_display_name")).to_be_visible()
    finally:
        context.close()


# 2. Post-its reach every screen ------------------------------------------------------------


def test_it_shows_a_postit_on_every_screen_without_a_reload(room, shots):
    room.ensure_joined()
    room.move_everyone_to(IDEAS)
    markers = {actor.name: actor.marker() for actor in room.screens}

    text = "Tickets get closed before anyone checks the fix"
    room.write(room.alice, text)
    for actor in room.screens:
        expect(room.postits(actor, text)).to_have_count(1)
    expect(room.pending(room.alice)).to_have_count(0)
    expect(room.alice.page.locator("form.compose textarea")).to_have_value("")
    # Alice's own post-it is marked as hers, and only on her phone.
    expect(room.postits(room.alice, text)).to_have_class(re.compile(r"\bis-own\b"))
    expect(room.postits(room.bruno, text)).not_to_have_class(re.compile(r"\bis-own\b"))

    reply = "We close them to meet the SLA"
    room.write(room.bruno, reply)
    for actor in room.screens:
        expect(room.postits(actor, reply)).to_have_count(1)
        expect(room.postits(actor, text)).to_have_count(1)
        expect(actor.page.locator(".postit-author").filter(has_text="Bruno")).to_have_count(1)

    for actor in room.screens:
        assert actor.still(markers[actor.name]), f"{actor.name} reloaded the page"
    shots.everyone(room, "postits")


# 3. The facilitator moves the room ------------------------------------------------------------


def test_it_moves_every_screen_when_the_facilitator_says_so(room, shots):
    room.ensure_joined()
    room.move_everyone_to(IDEAS)
    markers = {actor.name: actor.marker() for actor in room.screens}

    button = room.stage_item(JOURNEYS).get_by_role("button", name="Move everyone here")
    started = time.monotonic()
    button.click()
    for actor in room.screens:
        expect(actor.page.locator("#stage-head .stage-title")).to_have_text(JOURNEYS, timeout=2_500)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"the room took {elapsed:.2f} s to follow"

    expect(room.stage_item(JOURNEYS)).to_have_class(re.compile(r"\bis-current\b"))
    expect(room.stage_item(JOURNEYS)).to_contain_text("Everyone is here")
    for phone in room.phones:
        page = phone.page
        expect(page.locator(".stage-step")).to_have_text("Stage 3 of 5")
        expect(page.locator("form.compose input[name=column]")).to_have_count(3)
        expect(page.locator("form.compose input[name=colour]")).to_have_count(3)
    for actor in room.screens:
        assert actor.still(markers[actor.name]), f"{actor.name} reloaded the page"
    shots.everyone(room, "moved")


# 4. One timer, on the server's clock -----------------------------------------------------------


def test_it_shows_the_same_time_left_on_every_screen(room, shots):
    room.ensure_joined()
    console = room.console.page
    console.fill("#timer-minutes", "5")
    console.locator("form.timer-start").get_by_role("button", name=re.compile("Start")).click()
    for actor in room.screens:
        expect(actor.page.locator("#timer")).to_have_attribute("data-state", "running")
        expect(actor.page.locator("#timer .timer-value")).to_have_text(re.compile(r"^0[45]:\d\d$"))

    # Read every screen within a few milliseconds, several times over.
    for _ in range(3):
        seen = {actor.name: timer_seconds(actor) for actor in room.screens}
        assert max(seen.values()) - min(seen.values()) <= 1, seen
        assert 4 * 60 <= min(seen.values()) <= 5 * 60, seen
        console.wait_for_timeout(400)
    shots.everyone(room, "timer")

    # Paused, every screen shows the very same time.
    room.console.page.locator("#controls").get_by_role("button", name=re.compile("Pause")).click()
    for actor in room.screens:
        expect(actor.page.locator("#timer")).to_have_attribute("data-state", "paused")
    paused = {actor.name: timer_seconds(actor) for actor in room.screens}
    assert len(set(paused.values())) == 1, paused
    # A page as the server renders it (a fresh load, a pushed swap) shows that same
    # second too, not one that the next tick of the page's clock corrects.
    served = room.projector.page.request.get(room.projector.page.url).text()
    label = re.search(r'class="timer-value">(\d\d):(\d\d)<', served)
    assert int(label[1]) * 60 + int(label[2]) == paused["projector"], label[0]

    room.console.page.locator("#controls").get_by_role("button", name=re.compile("Stop")).click()
    for actor in room.screens:
        expect(actor.page.locator("#timer")).to_have_attribute("data-state", "idle")


# 5. Offline, and back ---------------------------------------------------------------------------


def test_it_sends_postits_written_offline_exactly_once_when_back_online(room, shots):
    room.ensure_joined()
    room.move_everyone_to(OFFLINE)
    bruno = room.bruno
    others = [actor for actor in room.screens if actor is not bruno]
    offline_texts = ["Offline one: the badge reader", "Offline two: the shared drive"]
    missed = "Written while Bruno was away"

    bruno.context.set_offline(True)
    went_offline = time.monotonic()
    expect(bruno.page.locator("body")).to_have_attribute("data-connection", "offline")
    for text in offline_texts:
        room.write(bruno, text)
        expect(room.pending(bruno, text)).to_have_count(1)
        expect(room.pending(bruno, text)).to_contain_text("Not sent yet")
    # Offline, the footer says the post-its are kept on the phone, and how many wait.
    expect(bruno.page.locator("#queue-status")).to_have_text(
        "Offline: your post-its are kept and will be sent · 2 waiting to be sent"
    )
    expect(bruno.page.locator("#conn .conn-label")).to_have_text("Offline")

    room.write(room.chloe, missed)
    for actor in others:
        expect(room.postits(actor, missed)).to_have_count(1)
    for actor in others:
        for text in offline_texts:
            expect(room.postits(actor, text)).to_have_count(0)
    shots.take(bruno, "offline")

    # The rest of the ten seconds away.
    time.sleep(max(0.0, OFFLINE_SECONDS - (time.monotonic() - went_offline)))
    expect(room.pending(bruno)).to_have_count(2)
    bruno.context.set_offline(False)

    for actor in room.screens:
        for text in offline_texts:
            expect(room.postits(actor, text)).to_have_count(1, timeout=15_000)
    expect(room.pending(bruno)).to_have_count(0)
    expect(room.postits(bruno, missed)).to_have_count(1, timeout=15_000)
    room.wait_connected(bruno)
    expect(bruno.page.locator("#queue-status")).to_have_text("")

    # Late duplicates (a retried request, a replay) would show up now.
    bruno.page.wait_for_timeout(1_000)
    for actor in room.screens:
        for text in [*offline_texts, missed]:
            assert room.postits(actor, text).count() == 1, (actor.name, text)
        assert room.pending(actor).count() == 0, actor.name
    queue = bruno.page.evaluate(
        f"() => JSON.parse(localStorage.getItem('rq-queue-{room.workshop_id}') || '[]')"
    )
    assert queue == []
    shots.everyone(room, "back-online")


def test_it_keeps_queued_postits_across_a_reload(room, shots):
    """A queued post-it survives a reload (localStorage) and is then sent once.

    Reloading needs the network, so the post-it's request alone is made to
    fail (as on a flaky venue network) rather than the whole phone going offline.
    """
    room.ensure_joined()
    room.move_everyone_to(OFFLINE)
    chloe = room.chloe
    page = chloe.page
    posts = re.compile(rf"/w/{room.workshop_id}/stages/\d+/postits/$")
    page.route(posts, lambda route: route.abort("internetdisconnected"))
    text = "Queued, then the page was reloaded"
    try:
        room.write(chloe, text)
        expect(room.pending(chloe, text)).to_have_count(1)
        page.reload()
        room.wait_connected(chloe)
        expect(room.pending(chloe, text)).to_have_count(1)
        shots.take(chloe, "queued-after-reload")
    finally:
        page.unroute(posts)

    # The page retries on its own.
    for actor in room.screens:
        expect(room.postits(actor, text)).to_have_count(1, timeout=20_000)
    expect(room.pending(chloe)).to_have_count(0)
    page.wait_for_timeout(500)
    for actor in room.screens:
        assert room.postits(actor, text).count() == 1, actor.name


# 6. Private writing until the reveal -----------------------------------------------------------


def test_it_keeps_private_postits_private_until_the_reveal(room, shots):
    room.ensure_joined()
    stage_id = room.stages[SECRET]

    # The facilitator makes the stage private through its edit form, in another tab.
    edit = room.console.context.new_page()
    edit.goto(f"{room.url}/workshops/{room.workshop_id}/stages/{stage_id}/edit/")
    edit.locator("#id_private_writing").check()
    edit.get_by_role("button", name="Save").click()
    edit.wait_for_url(re.compile(rf"/workshops/{room.workshop_id}/$"))
    edit.close()
    expect(room.stage_item(SECRET).locator(".stage-item-meta")).to_contain_text("private")

    room.move_everyone_to(SECRET)
    for actor in room.screens:
        expect(actor.page.locator(f"#board-{stage_id} .hidden-note")).to_be_visible()

    secret = "SECRET-7f3a the director never answers"
    alice, bruno = room.alice, room.bruno
    room.write(alice, secret)
    expect(
        alice.page.locator(f"#mine-{stage_id} .postit:not(.is-pending)").filter(has_text=secret)
    ).to_have_count(1)

    # The others learn that one more post-it exists, not what it says.
    onlookers = [room.console, room.projector, bruno, room.chloe]
    for actor in onlookers:
        expect(actor.page.locator(f"#hidden-count-{stage_id}")).to_have_text(
            "1 post-it written so far."
        )
    # The frames were captured from the first navigation: the author's do carry it.
    assert any(secret in frame for frame in alice.frames)
    assert any(f"hidden-count-{stage_id}" in frame for frame in bruno.frames)
    for actor in onlookers:
        assert secret not in actor.page.content(), f"{actor.name} shows the secret"
        leaked = [frame for frame in actor.frames if secret in frame]
        assert not leaked, f"{actor.name} received the secret over its websocket: {leaked[0]}"
    shots.everyone(room, "private")

    room.console.page.get_by_role("button", name="Reveal the post-its").click()
    for actor in room.screens:
        expect(room.postits(actor, secret)).to_have_count(1)
    expect(room.console.page.get_by_role("button", name="Hide again")).to_be_visible()
    shots.everyone(room, "revealed")


# 7. Small phones -------------------------------------------------------------------------------


def test_it_fits_a_360px_phone_without_horizontal_scroll(room, shots):
    room.ensure_joined()
    chloe = room.chloe
    page = chloe.page
    page.set_viewport_size({"width": 360, "height": 780})
    try:
        for title in (JOURNEYS, IDEAS):
            room.move_everyone_to(title)
            long_word = (
                f"https://intranet.example.org/support/tickets/{title.split()[0].lower()}"
                "/escalation-without-any-break-in-this-very-long-address"
            )
            room.write(chloe, long_word, colour="orange" if title == JOURNEYS else None)
            expect(room.postits(chloe, long_word)).to_have_count(1)
            page.reload()
            room.wait_connected(chloe)
            width = page.evaluate("() => document.scrollingElement.scrollWidth")
            room.postits(chloe, long_word).scroll_into_view_if_needed()
            shots.take(chloe, f"360px-{title.split()[0].lower()}")
            assert width <= 360, f"{title}: the page is {width}px wide on a 360px phone"
    finally:
        page.set_viewport_size(PHONE)


# 8. Content Security Policy -----------------------------------------------------------------------


def test_it_raises_no_content_security_policy_errors(room, watch):
    room.ensure_joined()
    # Pages the other tests do not open, for a visitor and for the facilitator.
    visitor = room.new_context("visitor", viewport=PHONE, is_mobile=True, has_touch=True)
    page = visitor.new_page()
    for path in ("/", "/join/", "/login/", "/j/not-a-token/"):
        page.goto(room.url + path)
    facilitator = room.console.context.new_page()
    for path in (
        "/workshops/",
        "/workshops/new/",
        "/workshops/new/?method=diagnostic",
        f"/workshops/{room.workshop_id}/edit/",
        f"/workshops/{room.workshop_id}/stages/add/",
    ):
        facilitator.goto(room.url + path)
    facilitator.close()
    # And every live page, freshly loaded.
    for actor in room.screens:
        actor.page.reload()
        room.wait_connected(actor)
    room.console.page.wait_for_timeout(500)

    assert watch.csp_errors() == []
    assert watch.page_errors == []
