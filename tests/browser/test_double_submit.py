"""Every form that writes gives exactly one change: for a double tap, and for a tap, a
network failure and a retry (issue 9).

A double tap is two clicks in the same task, with nothing in between (harsher than a
thumb). A network failure is the one that costs a change twice: the request reaches
the server and is applied, but its answer is lost, and so are the pushes (the socket is
cut too, through Playwright's WebSocket routing), so the page still shows the form as it
was; the person taps again. Before the fix, live.js minted a new operation id for every
request: both gave two changes. Now a form keeps its id until the server answers 2xx,
and its buttons are off while it sends.

Also here: a post-it moved back to its column from a theme sits where the server
draws it (by the order they were written), not at the column's end.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from .conftest import (
    FACILITATOR,
    LAPTOP,
    PHONE,
    daphne_server,
    join,
    log_in,
    new_actor,
    shell,
)

pytestmark = pytest.mark.browser

SETUP = """
import json
from django.contrib.auth import get_user_model
from journeys import actions as journeys
from workshops import actions

user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(facilitator=user, title="Double tap room", language="en")
wall = actions.add_stage(workshop, kind="wall", title="Ideas", config={{
    "columns": [{{"key": "ideas", "label": "Ideas", "colour": "yellow"}}]}})
the_map = actions.add_stage(workshop, kind="map", title="Map")
actions.go_to_stage(workshop, wall)
for text in ("First written", "Second written", "Third written"):
    journeys.add_postit(wall, participant=None, text=text, column="ideas")
print("ROOM=" + json.dumps({{"workshop": workshop.pk, "wall": wall.pk, "map": the_map.pk,
                            "token": workshop.join_token}}))
"""

COUNT = """
import json
from django.db.models import Count
from workshops.models import Event
rows = Event.objects.filter(workshop_id={workshop}).values("type").annotate(n=Count("pk"))
print("COUNT=" + json.dumps({{row["type"]: row["n"] for row in rows}}))
"""


class Cut:
    """The network between one page and the server: HTTP answers and pushes can be lost."""

    def __init__(self, page):
        self.page = page
        self.pushes_lost = False
        page.route_web_socket(re.compile(r"/ws/"), self._socket)

    def _socket(self, ws):
        server = ws.connect_to_server()

        def from_server(message):
            if not self.pushes_lost:
                ws.send(message)

        server.on_message(from_server)

    def lose_the_next_answer(self, url_part):
        """The next POST to a URL containing `url_part` reaches the server; its answer
        and the pushes after it are lost until `heal()`."""
        lost = []

        def handler(route):
            if route.request.method != "POST" or lost:
                route.fallback()
                return
            lost.append(route.request.post_data)
            self.pushes_lost = True
            route.fetch()  # applied on the server
            route.abort("internetdisconnected")

        self.page.route(re.compile(re.escape(url_part)), handler)
        return lost

    def heal(self):
        self.page.unroute_all(behavior="ignoreErrors")
        self.pushes_lost = False
        # Back in front of the page: live.js says hello and catches up.
        self.page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")


@pytest.fixture(scope="module")
def tap_room(browser, watch):
    script = SETUP.format(username=FACILITATOR[0], password=FACILITATOR[1])
    with daphne_server("reciproque-tap-", script, keep_log="daphne-tap.log") as running:
        room = running.room
        console = new_actor(browser, watch, "tap-console", viewport=LAPTOP)
        console.cut = Cut(console.page)
        log_in(console.page, running.url)
        console.page.goto(f"{running.url}/workshops/{room['workshop']}/")
        console.page.wait_for_selector("body[data-connection=connected]")
        phone = new_actor(
            browser, watch, "tap-phone", viewport=PHONE, is_mobile=True, has_touch=True
        )
        phone.cut = Cut(phone.page)
        join(phone.page, f"{running.url}/j/{room['token']}/", "Dora", "agent")
        console.page.on("dialog", lambda dialog: dialog.accept())
        phone.page.on("dialog", lambda dialog: dialog.accept())
        yield {"running": running, "console": console, "phone": phone, **room}
        console.context.close()
        phone.context.close()


def counts(room):
    out = shell(room["running"], COUNT.format(workshop=room["workshop"]))
    return json.loads(re.search(r"^COUNT=(.*)$", out, re.M).group(1))


def double_tap(locator):
    """Two clicks in one task: the second comes before anything the first set off."""
    locator.evaluate("button => { button.click(); button.click(); }")


def tap_fail_retry(actor, locator, url_part):
    """A tap whose answer (and the pushes) are lost, then the same tap again, healed."""
    lost = actor.cut.lose_the_next_answer(url_part)
    locator.click()
    expect(actor.page.locator("#toast")).to_contain_text("Offline")
    assert len(lost) == 1
    expect(locator).to_be_enabled()
    locator.click()
    actor.page.wait_for_load_state("networkidle")
    actor.cut.heal()


class Changes:
    """How many events of one type a step made, read from the server's log."""

    def __init__(self, room, type):
        self.room, self.type = room, type
        self.before = counts(room).get(type, 0)

    def made(self):
        return counts(self.room).get(self.type, 0) - self.before


def postit(page, text):
    return page.locator("article.postit:not(.is-pending)").filter(has_text=text)


# The wall ------------------------------------------------------------------------------------


def test_it_puts_a_postit_back_from_a_theme_where_the_server_draws_it(tap_room):
    page = tap_room["console"].page
    wall = tap_room["wall"]
    column = page.locator(f"#postits-{wall}-ideas")
    expect(column.locator("article.postit")).to_have_count(3)
    page.fill(f"#cluster-name-{wall}", "Parked")
    page.locator("form.cluster-new button[type=submit]").click()
    expect(page.locator("section.theme", has_text="Parked")).to_have_count(1)
    first = postit(page, "First written")
    first.locator("input[name=postits]").check()
    page.select_option(f"#cluster-select-{wall}", label="Parked")
    page.locator(f"#cluster-form-{wall} button[type=submit]").click()
    expect(
        page.locator("section.theme", has_text="Parked").locator("article.postit")
    ).to_have_count(1)
    postit(page, "First written").locator("input[name=postits]").check()
    page.select_option(f"#cluster-select-{wall}", index=0)  # their column
    page.locator(f"#cluster-form-{wall} button[type=submit]").click()
    expect(column.locator("article.postit")).to_have_count(3)
    texts = [t.strip() for t in column.locator(".postit-text").all_inner_texts()]
    assert texts == ["First written", "Second written", "Third written"]


def test_it_adds_one_theme_for_a_double_tap_and_for_a_retry(tap_room):
    page = tap_room["console"].page
    wall = tap_room["wall"]
    added = Changes(tap_room, "journeys.cluster_added")
    page.fill(f"#cluster-name-{wall}", "Delays")
    double_tap(page.locator("form.cluster-new button[type=submit]"))
    expect(page.locator("section.theme", has_text="Delays")).to_have_count(1)
    assert added.made() == 1

    added = Changes(tap_room, "journeys.cluster_added")
    page.fill(f"#cluster-name-{wall}", "Reception")
    tap_fail_retry(
        tap_room["console"], page.locator("form.cluster-new button[type=submit]"), "/themes/"
    )
    expect(page.locator("section.theme", has_text="Reception")).to_have_count(1)
    assert added.made() == 1


def test_it_renames_a_theme_once_for_a_double_tap_and_for_a_retry(tap_room):
    page = tap_room["console"].page
    theme = page.locator("section.theme", has_text="Delays")
    renamed = Changes(tap_room, "journeys.cluster_renamed")
    theme.locator("summary").click()
    theme.locator("input[name=name]").fill("Delays and waits")
    double_tap(theme.locator("form[action$='/rename/'] button[type=submit]"))
    expect(page.locator("section.theme", has_text="Delays and waits")).to_have_count(1)
    assert renamed.made() == 1

    theme = page.locator("section.theme", has_text="Delays and waits")
    renamed = Changes(tap_room, "journeys.cluster_renamed")
    theme.locator("summary").click()
    theme.locator("input[name=name]").fill("Waiting")
    tap_fail_retry(
        tap_room["console"],
        theme.locator("form[action$='/rename/'] button[type=submit]"),
        "/rename/",
    )
    expect(page.locator("section.theme .theme-name", has_text="Waiting")).to_have_count(1)
    assert renamed.made() == 1


def test_it_moves_postits_once_for_a_double_tap_and_for_a_retry(tap_room):
    page = tap_room["console"].page
    wall = tap_room["wall"]
    moved = Changes(tap_room, "journeys.postits_clustered")
    postit(page, "Second written").locator("input[name=postits]").check()
    page.select_option(f"#cluster-select-{wall}", label="Waiting")
    double_tap(page.locator(f"#cluster-form-{wall} button[type=submit]"))
    theme = page.locator("section.theme", has_text="Waiting")
    expect(theme.locator("article.postit", has_text="Second written")).to_have_count(1)
    assert moved.made() == 1

    moved = Changes(tap_room, "journeys.postits_clustered")
    postit(page, "Third written").locator("input[name=postits]").check()
    page.select_option(f"#cluster-select-{wall}", label="Waiting")
    tap_fail_retry(
        tap_room["console"],
        page.locator(f"#cluster-form-{wall} button[type=submit]"),
        "/themes/assign/",
    )
    expect(theme.locator("article.postit", has_text="Third written")).to_have_count(1)
    assert moved.made() == 1


def test_it_edits_a_postit_once_for_a_double_tap_and_for_a_retry(tap_room):
    phone = tap_room["phone"]
    page = phone.page
    wall = tap_room["wall"]
    page.locator("form.compose textarea[name=text]").fill("Dora's own")
    page.locator("form.compose .compose-send").tap()
    mine = postit(page, "Dora's own")
    expect(mine).to_have_class(re.compile(r"\bis-own\b"))
    pid = mine.get_attribute("data-pid")

    edited = Changes(tap_room, "journeys.postit_edited")
    mine.get_by_role("link", name="Edit").tap()
    form = page.locator(f"form#postit-{pid}")
    form.locator("textarea[name=text]").fill("Dora's own, edited")
    double_tap(form.locator("button[type=submit]"))
    expect(postit(page, "Dora's own, edited")).to_have_count(1)
    assert edited.made() == 1

    edited = Changes(tap_room, "journeys.postit_edited")
    postit(page, "Dora's own, edited").get_by_role("link", name="Edit").tap()
    form.locator("textarea[name=text]").fill("Dora's own, edited again")
    tap_fail_retry(phone, form.locator("button[type=submit]"), f"/postits/{pid}/edit/")
    expect(postit(page, "Dora's own, edited again")).to_have_count(1)
    assert edited.made() == 1
    assert page.locator(f"#postits-{wall}-ideas, section.theme").count() >= 1


def test_it_deletes_a_postit_once_for_a_double_tap(tap_room):
    page = tap_room["phone"].page
    deleted = Changes(tap_room, "journeys.postit_deleted")
    double_tap(postit(page, "Dora's own, edited again").locator("button.postit-delete"))
    expect(postit(page, "Dora's own, edited again")).to_have_count(0)
    assert deleted.made() == 1


# The map -------------------------------------------------------------------------------------


def test_it_adds_an_actor_and_a_flow_and_rates_once_on_the_map(tap_room):
    console, phone = tap_room["console"].page, tap_room["phone"].page
    stage = tap_room["map"]
    console.locator(f"#stage-list form[action$='/stages/{stage}/go/'] button").click()
    expect(phone.locator(f"#board-{stage}")).to_be_attached()

    def open_actor_form():
        phone.locator(f"#board-{stage} .map-tools a[href$='/actors/new/']").tap()
        form = phone.locator(f"#actor-form-{stage}")
        expect(form).to_be_visible()
        return form

    added = Changes(tap_room, "mapping.actor_added")
    form = open_actor_form()
    form.locator("input[name=name]").fill("Purchasing")
    form.locator("input[name=circle][value=suppliers]").check()
    double_tap(form.locator("button[type=submit]"))
    expect(form).to_have_count(0)
    expect(
        phone.locator(".map-actor-card, .actor-card, article", has_text="Purchasing").first
    ).to_be_attached()
    assert added.made() == 1

    added = Changes(tap_room, "mapping.actor_added")
    form = open_actor_form()
    form.locator("input[name=name]").fill("Users")
    form.locator("input[name=circle][value=clients]").check()
    tap_fail_retry(tap_room["phone"], form.locator("button[type=submit]"), "/actors/new/")
    expect(form).to_have_count(0)
    assert added.made() == 1

    flows = Changes(tap_room, "mapping.flow_added")
    phone.locator(f"#board-{stage} .map-tools a[href$='/flows/new/']").tap()
    form = phone.locator(f"#flow-form-{stage}")
    form.locator("select[name=source]").select_option(label="Purchasing")
    form.locator("select[name=target]").select_option(value="centre")
    form.locator("input[name=kind][value=deliverable]").check()
    form.locator("input[name=label]").fill("Licences")
    double_tap(form.locator("button[type=submit]"))
    expect(form).to_have_count(0)
    assert flows.made() == 1

    rated = Changes(tap_room, "mapping.flow_rated")
    item = phone.locator(".map-flow-item", has_text="Licences").first
    double_tap(item.locator(".rate.rating-friction"))
    expect(
        phone.locator(".map-flow-item.rating-friction", has_text="Licences").first
    ).to_be_attached()
    assert rated.made() == 1

    rated = Changes(tap_room, "mapping.flow_rated")
    item = phone.locator(".map-flow-item", has_text="Licences").first
    tap_fail_retry(tap_room["phone"], item.locator(".rate.rating-unclear"), "/rate/")
    expect(
        phone.locator(".map-flow-item.rating-unclear", has_text="Licences").first
    ).to_be_attached()
    assert rated.made() == 1


# The stage editor (a plain form: its op id comes from the server) ----------------------------


def test_it_adds_one_stage_for_a_double_tap_in_the_stage_editor(tap_room):
    page = tap_room["console"].page
    url = tap_room["running"].url
    added = Changes(tap_room, "workshops.stage_added")
    page.goto(f"{url}/workshops/{tap_room['workshop']}/stages/add/")
    page.fill("#id_title", "Added once")
    double_tap(page.locator("main form button[type=submit]").first)
    page.wait_for_url(re.compile(rf"/workshops/{tap_room['workshop']}/$"))
    expect(page.locator("#stage-list .stage-item-title", has_text="Added once")).to_have_count(1)
    assert added.made() == 1

    edited = Changes(tap_room, "workshops.stage_updated")
    item = page.locator("#stage-list li.stage-item").filter(has_text="Added once")
    page.goto(url + item.locator("a[href$='/edit/']").first.get_attribute("href"))
    page.fill("#id_title", "Added once, renamed")
    double_tap(page.locator("main form button[type=submit]").first)
    page.wait_for_url(re.compile(rf"/workshops/{tap_room['workshop']}/$"))
    assert edited.made() == 1


def test_it_raised_no_errors_in_these_pages(watch):
    mine = [e for e in watch.page_errors if e[0].startswith("tap-")]
    assert mine == []
