"""Venue Wi-Fi, in a real browser: what a phone downloads, and what a reload asks for again.

The server is the session's Daphne (tests/browser/conftest.py), serving the
collectstatic output (hashed names, brotli and gzip copies). Sizes are what
Chromium reports it received (encoded body bytes), requests are what reached
the server (its access log).
"""

import json
import re
import time
import urllib.parse

import pytest

from tests.browser.conftest import PHONE, ROOT

pytestmark = pytest.mark.browser

BUDGET_BYTES = 60 * 1024
FULL_BOOTSTRAP = ROOT / "tools" / "bootstrap" / "bootstrap.full.min.css"


def _record(context):
    """Every HTTP response the context gets: (url, status, encoded body bytes, encoding)."""
    seen = []

    def finished(request):
        response = request.response()
        if response is None:
            return
        # From the memory cache, nothing crossed the network: Chromium then
        # reports a negative body size (minus the headers' size).
        body = max(request.sizes()["responseBodySize"], 0)
        seen.append(
            (
                request.url,
                response.status,
                body,
                response.headers.get("content-encoding", ""),
            )
        )

    context.on("requestfinished", finished)
    return seen


def _summary(responses):
    return "\n".join(
        f"{size:>7} {code} {enc or '-':<5} {url}" for url, code, size, enc in responses
    )


def _joined_phone(room, name, shots=None):
    """A fresh phone (empty cache) that joins through the QR link as a person would."""
    phone = room._actor(name, viewport=PHONE, is_mobile=True, has_touch=True)
    responses = _record(phone.context)
    room.join(phone, room.join_link(), name.capitalize(), "supplier")
    phone.page.wait_for_load_state("networkidle")
    return phone, responses


def test_it_brings_a_phone_from_the_qr_code_to_the_stage_in_under_60_kb(room, shots):
    phone, responses = _joined_phone(room, "dora")
    shots.take(phone, "trimmed-bootstrap-stage")
    origin = urllib.parse.urlsplit(room.url)
    others = [r for r in responses if urllib.parse.urlsplit(r[0]).netloc != origin.netloc]
    assert not others, f"requests to another host (no CDN, ever):\n{_summary(others)}"

    static = [r for r in responses if "/static/" in r[0]]
    assert static, "the pages loaded no static file at all?"
    uncompressed = [r for r in static if not r[3] and not r[0].endswith((".png", ".jpg", ".woff2"))]
    assert not uncompressed, f"static files sent without compression:\n{_summary(uncompressed)}"
    hashed = re.compile(r"\.[0-9a-f]{12}\.\w+$")
    unhashed = [r for r in static if not hashed.search(urllib.parse.urlsplit(r[0]).path)]
    assert not unhashed, f"static files by unhashed names:\n{_summary(unhashed)}"

    total = sum(size for _, _, size, _ in responses)
    assert total <= BUDGET_BYTES, (
        f"join page + stage page, first visit: {total} bytes > {BUDGET_BYTES}\n"
        + _summary(responses)
    )

    # The stage page on its own, as a joined phone with an empty cache gets it.
    fresh = room.browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, storage_state=phone.context.storage_state()
    )
    room.contexts.append(fresh)
    stage_only = _record(fresh)
    page = fresh.new_page()
    page.goto(phone.page.url)
    room.wait_connected(type(phone)(name="dora-fresh", context=fresh, page=page))
    page.wait_for_load_state("networkidle")
    stage_total = sum(size for _, _, size, _ in stage_only)
    assert any("/static/" in r[0] for r in stage_only)
    assert stage_total <= BUDGET_BYTES, (
        f"stage page, empty cache: {stage_total} bytes > {BUDGET_BYTES}\n" + _summary(stage_only)
    )
    print(f"\nfirst visit, join + stage: {total} B\n{_summary(responses)}")
    print(f"stage page alone, empty cache: {stage_total} B\n{_summary(stage_only)}")


def _server_requests_during(server, page, do):
    """What reached the server while `do()` ran, from Daphne's access log: [(path, status)]."""
    token = f"{time.monotonic_ns()}"

    def mark(moment):
        path = f"/__weight-{moment}-{token}/"
        page.context.request.get(server.url + path, fail_on_status_code=False)
        deadline = time.monotonic() + 10
        while path not in server.log.read_text():
            assert time.monotonic() < deadline, "the access log did not show the marker"
            time.sleep(0.05)
        return path

    start = mark("start")
    do()
    page.wait_for_load_state("networkidle")
    end = mark("end")
    text = server.log.read_text()
    return re.findall(r'"GET (\S+)" (\d{3})', text[text.index(start) : text.index(end)])


def test_it_sends_no_static_request_again_on_reload_apart_from_conditional_ones(room, server):
    phone, _ = _joined_phone(room, "emile")
    page = phone.page
    page_url = page.url
    for how, do in (
        ("reload", lambda: page.reload()),
        ("navigation", lambda: page.goto(page_url)),
    ):
        requests = _server_requests_during(server, page, do)
        assert any(path == urllib.parse.urlsplit(page_url).path for path, _ in requests), (
            f"{how}: the page itself was not requested? {requests}"
        )
        static = [(path, status) for path, status in requests if path.startswith("/static/")]
        # A 304 answers a conditional request (If-None-Match / If-Modified-Since);
        # a 200 is a file downloaded again.
        downloaded = [(path, status) for path, status in static if status != "304"]
        assert not downloaded, f"{how}: static files downloaded again: {downloaded}"
        print(f"\n{how}: {len(requests)} requests reached the server, static: {static}")
        room.wait_connected(phone)


# What a trimmed rule could change that a person would see; the sizes and
# positions catch the rest (a lost rule moves or resizes something).
STYLE_PROPERTIES = [
    "display",
    "position",
    "top",
    "left",
    "width",
    "height",
    "box-sizing",
    "float",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border-top-width",
    "border-right-width",
    "border-bottom-width",
    "border-left-width",
    "border-top-style",
    "border-top-color",
    "border-bottom-color",
    "border-top-left-radius",
    "color",
    "background-color",
    "background-image",
    "box-shadow",
    "opacity",
    "visibility",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "line-height",
    "text-align",
    "text-decoration-line",
    "text-transform",
    "white-space",
    "vertical-align",
    "list-style-type",
    "overflow-x",
    "overflow-y",
    "z-index",
    "cursor",
    "outline-style",
    "appearance",
    "flex-direction",
    "flex-wrap",
    "justify-content",
    "align-items",
    "gap",
    "flex-grow",
    "grid-template-columns",
    "content",
]
STYLE_SNAPSHOT = """(properties) => {
  return [...document.querySelectorAll('body, body *')].map((el) => {
    const out = {};
    for (const pseudo of [null, '::before', '::after']) {
      const style = getComputedStyle(el, pseudo);
      if (pseudo && style.content === 'none') continue;
      for (const name of properties) out[(pseudo || '') + name] = style.getPropertyValue(name);
    }
    const classes = typeof el.className === 'string' ? el.className.trim() : '';
    const tag = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
    return [tag + (classes ? '.' + classes.split(/\\s+/).join('.') : ''), out];
  });
}"""


def _styles(context, url):
    page = context.new_page()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    # Both pages settled on the same connection state (the console marks its presence
    # unconfirmed until its socket is up), so only Bootstrap differs.
    page.wait_for_function("() => !document.querySelector('.is-connecting, .is-unconfirmed')")
    snapshot = page.evaluate(STYLE_SNAPSHOT, STYLE_PROPERTIES)
    page.close()
    return snapshot


BOOTSTRAP_URL = re.compile(r".*/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]{12}\.css$")


def _context(room, viewport, state, full_bootstrap):
    context = room.browser.new_context(viewport=viewport, storage_state=state)
    room.contexts.append(context)
    if full_bootstrap:
        body = FULL_BOOTSTRAP.read_text()
        context.route(
            BOOTSTRAP_URL,
            lambda route: route.fulfill(status=200, content_type="text/css", body=body),
        )
    return context


@pytest.mark.parametrize("who", ["phone", "facilitator"])
def test_it_looks_the_same_with_the_trimmed_bootstrap_as_with_the_full_one(room, who):
    """Every computed style of every element, trimmed Bootstrap against the released file."""
    if who == "phone":
        phone, _ = _joined_phone(room, "fanny")
        joined = phone.context.storage_state()
        # The join page as a newcomer sees it (a joined phone is sent on to its stage).
        pages = [(phone.page.url, joined), (room.join_link(), None)]
        viewport = PHONE
    else:
        console = room.console.context.storage_state()
        base = f"{room.url}/workshops/{room.workshop_id}"
        # The forms are crispy's, seen on the join page already.
        pages = [(f"{base}/", console), (f"{base}/projector/", console)]
        viewport = {"width": 1366, "height": 768}

    for url, state in pages:
        trimmed = _styles(_context(room, viewport, state, full_bootstrap=False), url)
        full = _styles(_context(room, viewport, state, full_bootstrap=True), url)
        assert len(trimmed) > 10, json.dumps(trimmed[:3])
        assert [tag for tag, _ in trimmed] == [tag for tag, _ in full], url
        differences = []
        for (tag, mine), (_, theirs) in zip(trimmed, full, strict=True):
            for name in sorted(set(mine) | set(theirs)):
                if mine.get(name) != theirs.get(name):
                    differences.append(f"{tag} {name}: {mine.get(name)!r} vs {theirs.get(name)!r}")
        assert not differences, (
            f"{url}: trimmed and full Bootstrap differ (run `make css`; tools/trim_css.py):\n"
            + "\n".join(differences[:40])
        )
