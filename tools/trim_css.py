"""Trim the vendored Bootstrap to the rules this app's pages can match: `make css`.

Re-run it after adding a class anywhere: in a template, in static/js, or in a
form widget. tests/test_static_weight.py fails when a template uses a class
that neither the trimmed Bootstrap nor static/css/*.css defines, and when the
committed output is not what this tool makes today, so a class added in a
parallel branch is caught at merge: run `make css` and commit the result.

Source: tools/bootstrap/bootstrap.full.min.css (Bootstrap as released, kept
out of static/ so collectstatic never ships it). Output:
static/vendor/bootstrap/bootstrap.min.css, the name base.html links.

What is kept:
- every selector that names no class (`:root`, reboot, element and attribute
  rules), except dark-theme (`[data-bs-theme=dark]`) rules, which no page asks for;
- a selector whose classes all appear in the app, where "appear" is generous
  (the output only has to be a superset): the words of every `class="…"` in
  the templates (ours and crispy-bootstrap5's), the string literals inside
  template tags (crispy's `{% crispy_field field 'class' 'form-control' %}`),
  the string literals of static/js/*.js and of crispy's Python files, and
  in our Python what is written as a class (`attrs={"class": …}`,
  `css_class=…`, `class="…"` in HTML strings).
  A class written as a prefix, `alert-{{ message.tags }}`, keeps every class
  that starts with `alert-`. Classes inside `:not()`, `:is()`, `:where()` and
  `:has()` are not required: those selectors match without them;
- @media / @supports blocks, with what is kept inside them, and the
  @keyframes that kept rules animate;
- custom properties (`--bs-…`) that something kept, app.css, a template or a
  script reads with `var()`; the others are dropped from their rules.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tools" / "bootstrap" / "bootstrap.full.min.css"
OUTPUT = ROOT / "static" / "vendor" / "bootstrap" / "bootstrap.min.css"
APP_CSS = sorted((ROOT / "static" / "css").glob("*.css"))

# Classes that come from data at runtime, where no scan can see them (we ship
# none of Bootstrap's JavaScript, so nothing else adds classes behind our back).
ALWAYS = {
    # django.contrib.messages levels, through `alert-{{ message.tags }}`
    "alert-debug", "alert-info", "alert-success", "alert-warning", "alert-danger",
}

CLASS_ATTR = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.S)
TEMPLATE_TAG = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)
STRING = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`""", re.S)
WORD = re.compile(r"-?[A-Za-z_][\w-]*")
SELECTOR_CLASS = re.compile(r"\.(-?[A-Za-z_](?:[\w-]|\\.)*)")
FUNCTIONAL = ("not", "is", "where", "has")
VAR_USE = re.compile(r"var\(\s*(--[\w-]+)")
# attrs={"class": "form-control"}, FormHelper(form_class="…"), Field(css_class="…")
PYTHON_CLASS = re.compile(
    r"""(?:["']class["']\s*:\s*|\b\w*_class\s*=\s*)["']([^"']*)["']"""
)


# What the app uses -------------------------------------------------------------------


def _site_packages():
    import crispy_bootstrap5
    import crispy_forms

    return Path(crispy_bootstrap5.__file__).parent, Path(crispy_forms.__file__).parent


def template_files():
    crispy_bootstrap5, _ = _site_packages()
    return sorted([*project_templates(), *(crispy_bootstrap5 / "templates").glob("**/*.html")])


def project_templates():
    return sorted([*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")])


def code_files():
    """Scripts and crispy's Python: every string literal in them may be a class."""
    crispy_bootstrap5, crispy_forms = _site_packages()
    found = list((ROOT / "static" / "js").glob("*.js"))
    found += crispy_bootstrap5.glob("**/*.py")
    found += crispy_forms.glob("**/*.py")
    return sorted(found)


def project_python():
    """Our Python: only what is written as a class (widget attrs, crispy helpers, HTML)."""
    found = []
    for app in ("config", "workshops", "journeys", "mapping", "commitments"):
        found += (p for p in (ROOT / app).glob("**/*.py") if "migrations" not in p.parts)
    return sorted(found)


def class_attribute_words(text):
    """The words of every class="…" once template tags are taken out.

    A word left ending in "-" was a prefix (`alert-{{ tags }}`): it is returned as is.
    """
    words = set()
    for match in CLASS_ATTR.finditer(TEMPLATE_TAG.sub(" ", text)):
        value = match.group(1) if match.group(1) is not None else match.group(2)
        words.update(value.split())
    return words


def used_words():
    """Every word that may be a class name somewhere in the app (a generous superset)."""
    words = set(ALWAYS)
    for path in template_files():
        text = path.read_text()
        # The tags are cut out first: a quote inside `{% if x == "a" %}` ends no attribute.
        words |= class_attribute_words(text)
        for tag in TEMPLATE_TAG.findall(text):
            for string in STRING.finditer(tag):
                words.update(WORD.findall(next(g for g in string.groups() if g is not None)))
        # Prefixes survive: `alert-{{ x }}` → `alert-`.
        for prefix in re.findall(r"([A-Za-z][\w-]*-){{", text):
            words.add(prefix)
    for path in code_files():
        for string in STRING.finditer(path.read_text()):
            words.update(WORD.findall(next(g for g in string.groups() if g is not None)))
    for path in project_python():
        text = path.read_text()
        words |= class_attribute_words(text)  # format_html('<b class="…">')
        for value in PYTHON_CLASS.findall(text):
            words.update(value.split())
    return words


def is_used(name, words, prefixes):
    return name in words or any(name.startswith(p) for p in prefixes)


# A small parser for minified CSS -----------------------------------------------------


def _skip_string(css, i):
    quote = css[i]
    i += 1
    while css[i] != quote:
        i += 2 if css[i] == "\\" else 1
    return i + 1


def _block_end(css, i):
    """The index after the `}` closing the block whose `{` is at css[i]."""
    depth = 0
    while True:
        c = css[i]
        if c in "\"'":
            i = _skip_string(css, i)
            continue
        if css.startswith("/*", i):
            i = css.index("*/", i) + 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1


def _next_stop(css, i, stops):
    while i < len(css):
        c = css[i]
        if c in "\"'":
            i = _skip_string(css, i)
            continue
        if c in stops:
            return i
        i += 1
    return i


def parse(css):
    """Nodes: ("comment"|"statement", text), ("rule", prelude, body), ("block", prelude, nodes)."""
    nodes, i = [], 0
    while i < len(css):
        if css[i].isspace():
            i += 1
        elif css.startswith("/*", i):
            end = css.index("*/", i) + 2
            nodes.append(("comment", css[i:end]))
            i = end
        else:
            stop = _next_stop(css, i, "{;")
            prelude = css[i:stop].strip()
            if stop == len(css) or css[stop] == ";":
                nodes.append(("statement", prelude + ";"))
                i = stop + 1
                continue
            end = _block_end(css, stop)
            body = css[stop + 1 : end - 1]
            if prelude.startswith(("@media", "@supports", "@container", "@layer")):
                nodes.append(("block", prelude, parse(body)))
            else:  # a style rule, @keyframes, @font-face: kept or dropped whole
                nodes.append(("rule", prelude, body))
            i = end
    return nodes


def split_top_level(text, separator):
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = _skip_string(text, i)
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def without_functional_arguments(selector):
    """`.btn:not(.btn-check)` → `.btn:not()`: what is inside need not be present."""
    out, i = [], 0
    pattern = re.compile(r":(?:{})\(".format("|".join(FUNCTIONAL)))
    while True:
        match = pattern.search(selector, i)
        if not match:
            out.append(selector[i:])
            return "".join(out)
        out.append(selector[i : match.end()])
        depth, j = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(selector[j], 0)
            j += 1
        out.append(")")
        i = j


def keep_selector(selector, words, prefixes):
    if "data-bs-theme=dark" in selector:
        return False
    required = SELECTOR_CLASS.findall(without_functional_arguments(selector))
    return all(is_used(name.replace("\\", ""), words, prefixes) for name in required)


# Trimming -----------------------------------------------------------------------------


def trim_rules(nodes, words, prefixes):
    kept = []
    for node in nodes:
        kind = node[0]
        if kind in ("comment", "statement"):
            if kind == "statement" or node[1].startswith("/*!"):
                kept.append(node)
        elif kind == "block":
            children = trim_rules(node[2], words, prefixes)
            if any(child[0] == "rule" or child[0] == "block" for child in children):
                kept.append(("block", node[1], children))
        elif node[1].startswith("@"):
            kept.append(node)  # @keyframes: decided once the rules are known
        else:
            selectors = [
                s.strip()
                for s in split_top_level(node[1], ",")
                if keep_selector(s.strip(), words, prefixes)
            ]
            if selectors:
                kept.append(("rule", ",".join(selectors), node[2]))
    return kept


def _walk(nodes):
    for node in nodes:
        if node[0] == "block":
            yield from _walk(node[2])
        else:
            yield node


def drop_unused(nodes, read_elsewhere):
    """Drop @keyframes nobody animates, and custom properties nobody reads."""
    style_rules = [n for n in _walk(nodes) if n[0] == "rule" and not n[1].startswith("@")]
    animated = set()
    for _, _, body in style_rules:
        for declaration in split_top_level(body, ";"):
            name, _, value = declaration.partition(":")
            if name.strip() in ("animation", "animation-name"):
                animated.update(WORD.findall(value))
    # Properties read by what is kept (repeated until stable: a var may read a var).
    read = set(read_elsewhere)
    while True:
        before = len(read)
        for _, _, body in style_rules:
            for declaration in split_top_level(body, ";"):
                name, _, value = declaration.partition(":")
                if not name.strip().startswith("--") or name.strip() in read:
                    read.update(VAR_USE.findall(value))
        if len(read) == before:
            break

    def trimmed(node_list):
        out = []
        for node in node_list:
            if node[0] == "block":
                children = trimmed(node[2])
                if any(c[0] in ("rule", "block") for c in children):
                    out.append(("block", node[1], children))
            elif node[0] == "rule" and node[1].startswith("@keyframes"):
                if node[1].split()[1] in animated:
                    out.append(node)
            elif node[0] == "rule" and not node[1].startswith("@"):
                declarations = [
                    d
                    for d in split_top_level(node[2], ";")
                    if d.strip()
                    and not (d.strip().startswith("--") and d.split(":")[0].strip() not in read)
                ]
                if declarations:
                    out.append(("rule", node[1], ";".join(declarations)))
            else:
                out.append(node)
        return out

    return trimmed(nodes)


def serialise(nodes):
    out = []
    for node in nodes:
        if node[0] in ("comment", "statement"):
            out.append(node[1])
        elif node[0] == "block":
            out.append(f"{node[1]}{{{serialise(node[2])}}}")
        else:
            out.append(f"{node[1]}{{{node[2]}}}")
    return "".join(out)


def trim(css, words, read_elsewhere=()):
    """`css` without the rules none of `words` can match, nor what only they used."""
    prefixes = {w for w in words if w.endswith("-")}
    nodes = trim_rules(parse(css), words, prefixes)
    return serialise(drop_unused(nodes, read_elsewhere))


def trimmed_css():
    read_elsewhere = set()
    for path in [*APP_CSS, *template_files(), *code_files(), *project_python()]:
        read_elsewhere.update(VAR_USE.findall(path.read_text()))
    # A script may read a property through getPropertyValue("--bs-…").
    for path in code_files():
        read_elsewhere.update(re.findall(r"--bs-[\w-]+", path.read_text()))
    css = trim(SOURCE.read_text(), used_words(), read_elsewhere)
    return css.replace("}/*", "}\n/*").rstrip() + "\n"


def main(argv):
    css = trimmed_css()
    if "--check" in argv:
        if OUTPUT.read_text() != css:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run `make css`")
            return 1
        return 0
    OUTPUT.write_text(css)
    full = SOURCE.stat().st_size
    print(f"{OUTPUT.relative_to(ROOT)}: {len(css.encode())} bytes (from {full})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
