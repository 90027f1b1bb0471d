"""Emoji and every script people type print in the PDF report.

A post-it "👩‍💻 Équipe ✔ مرحبا 日本" goes into a report: the PDF embeds Noto
Color Emoji, the text reads back whole, and 👩‍💻 is one glyph, as wide as 👩
alone and drawn in colour; digits stay in the text font. `make fonts` (part
of `make run` and `make test`) installs the fonts.
"""

import html
import os
import re
import shutil
import subprocess

import pytest
from PIL import Image

from journeys import actions as journeys
from workshops.exports import report

POSTIT = "👩‍💻 Équipe ✔ مرحبا 日本"
SEQUENCE = "👩\u200d💻"
WOMAN = "👩"
DIGITS = "2026 abcd ✔"
DPI = 50

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "pdffonts")),
    reason="poppler-utils (pdftotext, pdftoppm, pdffonts) are needed to read the PDF",
)


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def emoji_font():
    found = subprocess.run(["fc-list", "-q", "Noto Color Emoji"]).returncode == 0
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: Noto Color Emoji is required (make fonts installs it)")
        pytest.skip("Noto Color Emoji is not installed: `make fonts` installs it")


@pytest.fixture
def pdf(room, tmp_path, emoji_font):
    framing = room.stage
    journeys.add_postit(framing, participant=room.alice, text=POSTIT)
    journeys.add_postit(framing, participant=room.bruno, text=f"{WOMAN} seule")
    journeys.add_postit(framing, participant=room.bruno, text=DIGITS)
    return report.write_pdf(room.workshop, tmp_path / "report.pdf")


def fonts_of(path):
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = out.stdout.splitlines()[2:]
    # name, type…, then emb sub uni and the object id: read from the right.
    return [(row.split()[0], row.split()[-5]) for row in rows if row.strip()]


def words_of(path):
    """(page, text, xMin, yMin, xMax, yMax) of every word, in points."""
    out = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = []
    for number, page in enumerate(out.split("<page ")[1:], 1):
        for match in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            page,
        ):
            x0, y0, x1, y1 = (float(v) for v in match.groups()[:4])
            words.append((number, html.unescape(match.group(5)), x0, y0, x1, y1))
    return words


def test_it_embeds_noto_color_emoji_and_every_font(pdf):
    fonts = fonts_of(pdf)
    names = [re.sub(r"[^a-z]", "", name.split("+")[-1].lower()) for name, _emb in fonts]
    assert any("notocoloremoji" in name for name in names), fonts
    assert all(emb == "yes" for _name, emb in fonts), fonts


def test_it_prints_the_text_of_every_script(pdf):
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for piece in ("Équipe", "✔", "مرحبا", "日本"):
        assert piece in text, piece
    # One glyph that stands for the whole sequence, joiner included.
    assert SEQUENCE in text


def test_it_draws_the_zwj_sequence_as_one_glyph(pdf):
    words = words_of(pdf)
    # Drawn as two glyphs, the word reads back without its joiner: match it either way.
    sequence = [w for w in words if w[1].replace("\u200d", "") == "👩💻"]
    woman = [w for w in words if w[1] == WOMAN]
    assert sequence and woman, [w[1] for w in words if "👩" in w[1] or "💻" in w[1]]
    seq_width = sequence[0][4] - sequence[0][2]
    woman_width = woman[0][4] - woman[0][2]
    # Two glyphs (woman, then laptop) would be twice as wide as the woman alone.
    assert abs(seq_width - woman_width) < 0.25 * woman_width, (seq_width, woman_width)


def test_it_draws_the_emoji_in_colour(pdf, tmp_path):
    found = [w for w in words_of(pdf) if w[1].replace("\u200d", "") == "👩💻"]
    assert found, "no 👩‍💻 in the PDF's text"
    page, _text, x0, y0, x1, y1 = found[0]
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", "-f", str(page), "-l", str(page), str(pdf),
         str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    image = Image.open(next(tmp_path.glob("page-*.png"))).convert("RGB")
    scale = DPI / 72
    box = (int(x0 * scale), int(y0 * scale), int(x1 * scale) + 1, int(y1 * scale) + 1)
    glyph = image.crop(box)
    coloured = [px for _n, px in glyph.getcolors(1 << 24) if max(px) - min(px) > 60]
    assert len(coloured) >= 3, f"no colour in the glyph's box {box}: an empty box or a grey one"


def test_it_keeps_digits_in_the_text_font(pdf):
    # Naming the emoji font in the report's CSS made WeasyPrint draw digits with it:
    # grey, and spaced as wide as emoji ("2 0 2 6").
    words = {w[1]: w for w in words_of(pdf) if w[1] in ("2026", "abcd")}
    assert set(words) == {"2026", "abcd"}, "the digits did not read back as one word"
    digits, letters = (words[k][4] - words[k][2] for k in ("2026", "abcd"))
    assert digits < 1.25 * letters, (digits, letters)
