"""`manage.py announce` (run by `make run`): the address phones can reach, and a
QR code of it that scans as a terminal draws it, on a dark and on a light theme.

The printed text is drawn the way a terminal would, a monospace cell grid that
obeys the ANSI colour codes, and decoded with zbarimg.
"""

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image, ImageDraw, ImageFont

from workshops import network

MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"  # fonts-dejavu-core
SGR = re.compile(r"\x1b\[([0-9;]*)m")

# Two common terminal themes: default colours and their 16 basic colours.
# The basic colours are part of a theme (a light theme's "white" is often grey);
# the 256-colour cube and grey ramp are not.
DARK_THEME = {
    "fg": (204, 204, 204),
    "bg": (30, 30, 30),
    "basic": [
        (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16),
        (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
        (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
        (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
    ],
}  # fmt: skip
LIGHT_THEME = {
    "fg": (0, 0, 0),
    "bg": (255, 255, 255),
    "basic": [
        (0, 0, 0), (205, 49, 49), (0, 188, 0), (148, 152, 0),
        (4, 81, 165), (188, 5, 188), (5, 152, 188), (85, 85, 85),
        (102, 102, 102), (205, 49, 49), (20, 206, 20), (181, 186, 0),
        (4, 81, 165), (188, 5, 188), (5, 152, 188), (165, 165, 165),
    ],
}  # fmt: skip


def palette_256(theme, n):
    if n < 16:
        return theme["basic"][n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return steps[n // 36], steps[n // 6 % 6], steps[n % 6]
    grey = 8 + 10 * (n - 232)
    return grey, grey, grey


def apply_sgr(params, state, theme):
    """The colours after one SGR sequence, as xterm reads it."""
    codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            state.update(fg=None, bg=None, inverse=False)
        elif code == 7:
            state["inverse"] = True
        elif code == 27:
            state["inverse"] = False
        elif code in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
            state["fg" if code == 38 else "bg"] = palette_256(theme, codes[i + 2])
            i += 2
        elif code in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
            state["fg" if code == 38 else "bg"] = tuple(codes[i + 2 : i + 5])
            i += 4
        elif 30 <= code <= 37 or 90 <= code <= 97:
            state["fg"] = theme["basic"][code - 30 if code < 90 else code - 90 + 8]
        elif 40 <= code <= 47 or 100 <= code <= 107:
            state["bg"] = theme["basic"][code - 40 if code < 100 else code - 100 + 8]
        elif code == 39:
            state["fg"] = None
        elif code == 49:
            state["bg"] = None
        i += 1


def render_terminal(text, theme, size=16, margin_cells=2):
    """`text` as a terminal with `theme` shows it: a PIL image."""
    if not Path(MONO).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {MONO} is required (make fonts installs fonts-dejavu-core)")
        pytest.skip(f"{MONO} is missing: `make fonts` installs fonts-dejavu-core")
    font = ImageFont.truetype(MONO, size)
    ascent, descent = font.getmetrics()
    cell_w, cell_h = round(font.getlength("M")), ascent + descent
    lines = text.split("\n")
    columns = max(len(SGR.sub("", line)) for line in lines) + 2 * margin_cells
    image = Image.new(
        "RGB", (columns * cell_w, (len(lines) + 2 * margin_cells) * cell_h), theme["bg"]
    )
    draw = ImageDraw.Draw(image)
    state = {"fg": None, "bg": None, "inverse": False}
    for row, line in enumerate(lines, start=margin_cells):
        column, position = margin_cells, 0
        for match in [*SGR.finditer(line), None]:
            end = match.start() if match else len(line)
            for ch in line[position:end]:
                fg, bg = state["fg"] or theme["fg"], state["bg"] or theme["bg"]
                if state["inverse"]:
                    fg, bg = bg, fg
                x, y = column * cell_w, row * cell_h
                draw.rectangle([x, y, x + cell_w - 1, y + cell_h - 1], fill=bg)
                if ch != " ":
                    draw.text((x, y), ch, font=font, fill=fg)
                column += 1
            if match:
                apply_sgr(match.group(1), state, theme)
                position = match.end()
        # A newline does not reset colours in a terminal; the text must do it.
    return image


def zbarimg():
    path = shutil.which("zbarimg")
    if not path:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: zbarimg (zbar-tools) is required to decode the QR code")
        pytest.skip("zbarimg (zbar-tools) is not installed: `make system-deps` installs it")
    return path


def decode(image, path):
    image.save(path)
    result = subprocess.run(
        [zbarimg(), "--raw", "-q", str(path)], capture_output=True, text=True, timeout=60
    )
    return result.stdout.strip()


def announce():
    out = io.StringIO()
    call_command("announce", stdout=out)
    return out.getvalue()


def qr_block(text):
    """The lines from the first to the last one that carries the QR code."""
    lines = text.split("\n")
    drawn = [i for i, line in enumerate(lines) if "\x1b[" in line or set(line) & set("▀▄█")]
    assert drawn, "no QR code in the output"
    return lines[drawn[0] : drawn[-1] + 1]


def is_blank(line):
    """A line the terminal shows in its own background: nothing drawn on it."""
    return "\x1b[" not in line and not line.strip()


@pytest.fixture
def lan(monkeypatch, settings):
    settings.PUBLIC_URL = ""
    monkeypatch.setenv("PORT", "8000")
    from workshops.management.commands import _urls

    monkeypatch.setattr(_urls, "find_lan_address", lambda: "192.168.1.20")


@pytest.mark.parametrize("theme_name", ["dark", "light"])
def test_it_prints_a_qr_code_that_decodes_on_a_dark_and_a_light_terminal(lan, theme_name, tmp_path):
    theme = DARK_THEME if theme_name == "dark" else LIGHT_THEME
    text = announce()
    join = "http://192.168.1.20:8000/join/"
    assert join in text
    image = render_terminal(text, theme)
    out = Path(os.environ.get("QR_PNG_DIR") or tmp_path) / f"announce-{theme_name}.png"
    assert decode(image, out) == join


def test_it_prints_no_blank_line_inside_the_qr_code(lan):
    block = qr_block(announce())
    assert len(block) >= 15
    assert not [i for i, line in enumerate(block) if is_blank(line)], block


def test_it_gives_the_code_a_quiet_zone_of_four_light_modules(lan):
    block = qr_block(announce())
    light = "\x1b[48;5;231m"
    # Two lines of two modules each above and below, all light.
    for line in block[:2] + block[-2:]:
        assert line.strip().startswith(light) and line.count("\x1b[") == 2, line
        assert set(SGR.sub("", line).strip(" ")) == set(), line
    # Four light columns on each side: every line starts and ends with four light spaces.
    for line in block:
        assert line.strip().startswith(light + "    "), line
        last = list(SGR.finditer(line))[-2]  # the colour before the final reset
        assert last.group(0) == light and line[last.end() :].startswith("    "), line
        assert line.endswith("    \x1b[0m"), line


def test_it_resets_the_colours_at_the_end_of_every_line(lan):
    for line in qr_block(announce()):
        assert line.endswith("\x1b[0m")


def test_it_says_the_lan_address_was_found_through_the_default_route(lan):
    text = announce()
    assert "http://192.168.1.20:8000/" in text
    assert "default route" in text
    assert "PUBLIC_URL" in text


def test_it_says_public_url_is_used_when_set(settings, monkeypatch):
    settings.PUBLIC_URL = "https://ateliers.example.fr"
    from workshops.management.commands import _urls

    monkeypatch.setattr(_urls, "find_lan_address", lambda: pytest.fail("no LAN probe"))
    text = announce()
    assert "https://ateliers.example.fr/join/" in text
    assert "PUBLIC_URL is set" in text


def test_it_warns_that_phones_cannot_reach_127_0_0_1_without_a_lan_address(settings, monkeypatch):
    settings.PUBLIC_URL = ""
    monkeypatch.setenv("PORT", "8000")
    from workshops.management.commands import _urls

    monkeypatch.setattr(_urls, "find_lan_address", lambda: None)
    text = announce()
    assert "http://127.0.0.1:8000/join/" in text
    assert "no LAN address" in text
    assert "phones cannot reach" in text


def test_it_finds_no_lan_address_when_there_is_no_route(monkeypatch):
    class NoRoute:
        def __init__(self, *args):
            pass

        def connect(self, address):
            raise OSError(101, "Network is unreachable")

        def close(self):
            pass

    monkeypatch.setattr(network.socket, "socket", NoRoute)
    assert network.find_lan_address() is None
    assert network.lan_address() == "127.0.0.1"


def test_it_finds_no_lan_address_on_the_loopback(monkeypatch):
    class Loopback:
        def __init__(self, *args):
            pass

        def connect(self, address):
            pass

        def getsockname(self):
            return ("127.0.0.1", 40000)

        def close(self):
            pass

    monkeypatch.setattr(network.socket, "socket", Loopback)
    assert network.find_lan_address() is None
