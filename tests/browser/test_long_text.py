"""Long text and every script, in a real browser.

A facilitator types a perimeter of 1,996 characters on 41 lines (the
textarea's own count) into the real form, with a long URL and a long word in
it: the browser sends CRLF line breaks, and the server must not count them
twice. On a 390 px phone, that perimeter wraps instead of widening the page.
A 👩‍💻 post-it is drawn as one glyph (as wide as 👩 alone), in colour.
"""

import re

import pytest
from playwright.sync_api import expect

from .conftest import LAPTOP, PHONE, RESULTS, join, log_in

pytestmark = pytest.mark.browser

URL = "https://intranet.example.fr/services/support?ticket=" + "0123456789abcdef" * 12
WORD = "Anticonstitutionnellement" * 5
EMOJI_POSTIT = "👩‍💻 Équipe ✔ مرحبا 日本"


def perimeter_of(total, count):
    """`count` lines, `total` characters when a line break counts one, URL and WORD first."""
    text_chars = total - (count - 1)
    lines = [URL, WORD]
    rest = text_chars - len(URL) - len(WORD)
    lengths = [rest // (count - 2) + (1 if i < rest % (count - 2) else 0) for i in range(count - 2)]
    phrase = "Demandes d'intervention et support applicatif, "
    lines += [(f"{i:02d} " + phrase * 3)[:n] for i, n in enumerate(lengths)]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def long_room(server, browser):
    contexts = []

    def context(**options):
        made = browser.new_context(**options)
        made.set_default_timeout(10_000)
        contexts.append(made)
        return made

    laptop = context(viewport=LAPTOP).new_page()
    log_in(laptop, server.url)
    perimeter = perimeter_of(1996, 41)
    laptop.goto(f"{server.url}/workshops/new/")
    laptop.fill("#id_title", "Long text room")
    laptop.select_option("#id_language", "en")
    laptop.fill("#id_perimeter", perimeter)
    laptop.fill("#id_intention", f"See {URL} and {WORD}")
    # What the textarea itself counts, against its maxlength.
    counted = laptop.eval_on_selector("#id_perimeter", "el => el.value.length")
    laptop.get_by_role("button", name="Create the workshop").click()
    yield {"laptop": laptop, "perimeter": perimeter, "counted": counted, "context": context}
    for made in contexts:
        made.close()


def test_it_accepts_the_1996_characters_the_textarea_counted(long_room):
    laptop = long_room["laptop"]
    assert long_room["counted"] == 1996
    laptop.wait_for_url(re.compile(r"/workshops/\d+/$"))
    expect(laptop.locator("body")).not_to_contain_text("at most 2000")


@pytest.fixture(scope="module")
def phone(long_room):
    laptop = long_room["laptop"]
    laptop.wait_for_url(re.compile(r"/workshops/\d+/$"))
    link = laptop.locator(".join-link a").inner_text().strip()
    page = long_room["context"](viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    join(page, link, "Dana", "agent")
    return page


def test_it_wraps_a_long_url_and_word_on_a_phone(phone, shots):
    expect(phone.locator(".framing")).to_contain_text(WORD)
    phone.screenshot(path=str(shots.path("long-url", "phone")), full_page=True)
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide in a {PHONE['width']} px phone"


def test_it_draws_a_zwj_emoji_as_one_colour_glyph(phone, shots):
    form = phone.locator("form.compose")
    form.locator("textarea[name=text]").fill(EMOJI_POSTIT)
    form.locator(".compose-send").tap()
    postit = phone.locator(".postit:not(.is-pending)").filter(has_text="Équipe")
    expect(postit).to_have_count(1)
    # One glyph is as wide as the woman alone; two would be twice as wide.
    widths = phone.evaluate(
        """() => {
            const probe = (text) => {
                const span = document.createElement('span');
                span.textContent = text;
                document.querySelector('.postit').appendChild(span);
                const w = span.getBoundingClientRect().width;
                span.remove();
                return w;
            };
            return {sequence: probe('👩\\u200d💻'), woman: probe('👩'), pair: probe('👩💻')};
        }"""
    )
    assert widths["woman"] > 0
    assert abs(widths["sequence"] - widths["woman"]) < 0.25 * widths["woman"], widths
    assert widths["pair"] > 1.5 * widths["woman"], widths
    path = shots.path("emoji", "phone")
    postit.screenshot(path=str(path))
    from PIL import Image

    image = Image.open(path).convert("RGB")
    # A colour emoji: pixels far from grey, unlike the post-it's text and its flat background.
    colours = {px for _n, px in image.getcolors(1 << 24) if max(px) - min(px) > 60}
    assert len(colours) > 20, f"no colour glyph in {path.relative_to(RESULTS.parent.parent)}"
