"""Venue Wi-Fi: what a participant's phone downloads, and the trimmed Bootstrap behind it.

The budget test starts a real Daphne on the collectstatic output (tests/conftest.py
collects it when stale) and joins through the join form as a phone would
(bench/page_weight.py). The browser side, reloads included, is in
tests/browser/test_static_weight.py.
"""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from bench import page_weight
from tools import trim_css

ROOT = Path(__file__).resolve().parent.parent
HASHED = re.compile(r"\.[0-9a-f]{12}\.\w+$")
TEMPLATE_TAG = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)
ONE_YEAR = 365 * 24 * 3600

# Classes in templates that no stylesheet styles, on purpose: names for
# scripts and tests to find things by, structure, or SVG drawn with its own
# presentation attributes. A class that is in none of these and in no
# stylesheet is a typo, a rule left out of app.css, or Bootstrap trimmed too
# far (`make css`).
HOOKS = {
    # static/js/live.js and the tests find these
    "conn-label", "host", "done-count", "is-connecting", "empty", "home",
    "console-main", "lang-switch", "timer-icon", "board-plain",
    "cluster-form", "cluster-new",
    # the map's SVG (mapping/templates/mapping/map.html), drawn with attributes
    "map-zones", "map-zone", "map-zone-title", "zone-centre", "map-actors",
    "map-actor-name", "map-flows", "map-flow", "map-flow-label", "map-flow-labels",
    "map-legend", "map-flow-text",
    # the projector's room state (projector.js finds it by its id)
    "projector-state",
    # the PDF report's sections
    "report-flows", "report-wall",
    # the error pages' body, a hook for anyone who styles them
    "page-error",
    # ideas and votes (commitments/): forms the tests find, the chart's SVG
    "idea-compose", "challenge-compose", "vote-open", "vote-point", "quadrant",
    # the reciprocal table and the promise (commitments/): hooks the tests and the PDF find
    "board-reciprocal", "reciprocal-tools", "follow-link", "row-met", "promise-keep",
    "promise-paragraph", "report-promise",
}  # fmt: skip


def _template_classes():
    """{class: first template using it}, from class="…" with template-tag fragments left out."""
    used = {}
    for path in trim_css.project_templates():
        # A tag becomes NUL, so `alert-{{ tags }}` is one word with a NUL: a fragment.
        text = TEMPLATE_TAG.sub("\0", path.read_text())
        for match in trim_css.CLASS_ATTR.finditer(text):
            value = match.group(1) if match.group(1) is not None else match.group(2)
            for word in value.split():
                if "\0" not in word:
                    used.setdefault(word, str(path.relative_to(ROOT)))
    return used


def _defined_classes():
    """Classes some served stylesheet, a kind's report CSS or a template's <style> styles."""
    sheets = [trim_css.OUTPUT.read_text(), *(p.read_text() for p in trim_css.APP_CSS)]
    sheets += [p.read_text() for p in trim_css.ROOT.glob("*/templates/**/*.css")]
    for path in trim_css.project_templates():
        sheets += re.findall(r"<style[^>]*>(.*?)</style>", path.read_text(), re.S)
    return {
        name.replace("\\", "") for css in sheets for name in trim_css.SELECTOR_CLASS.findall(css)
    }


def test_it_defines_every_class_a_template_uses():
    used = _template_classes()
    assert len(used) > 50 and "btn" in used and "postit" in used  # the scan sees the templates
    missing = {name: where for name, where in used.items() if name not in _defined_classes()}
    missing = {name: where for name, where in missing.items() if name not in HOOKS}
    assert not missing, (
        "classes in templates that neither the trimmed Bootstrap nor static/css/*.css define "
        "(run `make css`; or add the rule to app.css; or, for a pure hook, to HOOKS here): "
        + ", ".join(f"{name} ({where})" for name, where in sorted(missing.items()))
    )


def test_it_lists_as_hooks_only_classes_that_are_used_and_unstyled():
    used, defined = _template_classes(), _defined_classes()
    stale = sorted(name for name in HOOKS if name not in used or name in defined)
    assert not stale, f"HOOKS to remove (no longer used, or now styled): {stale}"


def test_it_keeps_the_trimmed_bootstrap_as_make_css_makes_it_today():
    assert trim_css.OUTPUT.read_text() == trim_css.trimmed_css(), (
        f"{trim_css.OUTPUT.relative_to(ROOT)} is out of date with the templates, scripts "
        "and forms: run `make css` and commit it"
    )
    assert "fs-6" in trim_css.OUTPUT.read_text()  # from crispy-bootstrap5's templates
    assert len(trim_css.OUTPUT.read_bytes()) < len(trim_css.SOURCE.read_bytes()) / 3


FIXTURE_CSS = (
    "/*! banner */:root{--bs-used:1px;--bs-unused:2px;--bs-chain:var(--bs-used)}"
    "body{margin:0}h1,.h1{font-size:2rem}[type=button]{cursor:pointer}"
    ".btn{padding:var(--bs-chain)}.btn-primary{color:blue}.btn-unused{color:red}"
    ".btn:not(.btn-check)+.btn{margin:0}.spin{animation:spin 1s}.nope{animation:gone 1s}"
    "[data-bs-theme=dark]{color:white}.alert-info{color:cyan}.alert-dark{color:black}"
    "@media (min-width:576px){.nope{x:1}.btn{y:2}}@media print{.nope{z:3}}"
    "@keyframes spin{to{transform:rotate(1turn)}}@keyframes gone{to{opacity:0}}"
)


def test_it_keeps_what_the_pages_can_match_and_drops_the_rest():
    css = trim_css.trim(FIXTURE_CSS, {"btn", "btn-primary", "spin", "alert-"})
    kept = {
        "/*! banner */",
        "body{margin:0}",
        "h1{font-size:2rem}",  # the element stays, the unused class is cut from the list
        "[type=button]{cursor:pointer}",
        ".btn{padding:var(--bs-chain)}",
        ".btn-primary{color:blue}",
        ".btn:not(.btn-check)+.btn{margin:0}",  # what :not() names need not be used
        ".spin{animation:spin 1s}",
        ".alert-info{color:cyan}",  # `alert-{{ tags }}`: every alert- class
        ".alert-dark{color:black}",
        "@media (min-width:576px){.btn{y:2}}",
        "@keyframes spin{to{transform:rotate(1turn)}}",
        ":root{--bs-used:1px;--bs-chain:var(--bs-used)}",  # read, or read through a var
    }
    dropped = {".btn-unused", ".nope", "gone", "data-bs-theme", "--bs-unused", "@media print"}
    for rule in kept:
        assert rule in css, f"{rule!r} was dropped:\n{css}"
    for rule in dropped:
        assert rule not in css, f"{rule!r} was kept:\n{css}"


def test_it_sees_the_classes_in_crispy_forms_and_in_template_tag_strings():
    words = trim_css.used_words()
    crispy = ("form-control", "form-select", "form-check-input", "is-invalid", "invalid-feedback")
    for name in crispy:
        assert name in words, name
    assert "alert-" in words  # base.html's alert-{{ message.tags }}
    # Our Python counts only where it writes a class (other strings are prose).
    python = """attrs={"class": "form-control-lg big"}, Field("x", css_class='mb-5'), "border" """
    assert trim_css.PYTHON_CLASS.findall(python) == ["form-control-lg big", "mb-5"]


def test_it_serves_a_first_load_under_60_kb_hashed_compressed_and_immutable():
    with page_weight.WeighedServer() as server:
        results = page_weight.measure(server.url, server.token)
    print("\n" + page_weight.table(results))
    for encoding, weights in results.items():
        for weight in weights:
            assert weight.total <= page_weight.BUDGET_BYTES, page_weight.table(results)
            html, *assets = weight.parts
            assert html[1] > 1000 and assets, weight.parts  # a real page, with its assets
            for url, size, headers in assets:
                assert "/static/" in url and HASHED.search(url), url
                assert headers.get("content-encoding") == encoding, (url, headers)
                assert "accept-encoding" in headers.get("vary", "").lower(), (url, headers)
                cache = headers.get("cache-control", "")
                assert "immutable" in cache, (url, cache)
                max_age = int(re.search(r"max-age=(\d+)", cache).group(1))
                assert max_age >= ONE_YEAR, (url, cache)
                assert size < 20 * 1024, (url, size)
    stage = results["gzip"][1].parts[0][0]
    assert re.search(r"/w/\d+/$", stage), stage  # the join form led to the stage page


def test_it_refuses_to_start_without_collectstatics_manifest(settings, tmp_path):
    from workshops.live.asgi import check_static_collected

    check_static_collected()  # the collected one (tests/conftest.py)
    settings.STATIC_ROOT = tmp_path
    with pytest.raises(ImproperlyConfigured, match="collectstatic --noinput"):
        check_static_collected()
    settings.DEBUG = True  # DEBUG pages name the source files
    check_static_collected()


@pytest.mark.parametrize("folder", ["templates", "workshops", "journeys", "mapping", "static"])
def test_it_loads_nothing_from_another_host(folder):
    """No CDN, ever: every stylesheet, script, image and font comes from this server."""
    remote_asset = re.compile(
        r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*[\"']?"
        r"(?:https?:)?//|@import\s+(?:url\()?[\"']?(?:https?:)?//|url\(\s*[\"']?(?:https?:)?//",
        re.I,
    )
    checked = 0
    for path in (ROOT / folder).rglob("*"):
        if path.suffix in (".html", ".css", ".js", ".svg") and path.is_file():
            checked += 1
            found = remote_asset.search(path.read_text())
            assert not found, f"{path.relative_to(ROOT)}: {found.group(0)}"
    assert checked
