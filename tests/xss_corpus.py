"""Hostile text for every field a person types, and how to tell that it stayed text.

Every payload, were it ever parsed as HTML, would either run script (setting
`window.__xss`, or calling `alert`), add an element or attribute carrying the
marker `rqxss`, or make htmx fetch or swap something. Most fit in 60
characters, so that they also fit a participant's name; the few longer ones go
only where longer text is allowed.

`inspect_html()` parses HTML with Python's own `html.parser` and lists what
user text must never produce: `on*` attributes, `hx-*`/`data-hx-*` attributes
coming from user text, `javascript:` (or `data:`/`vbscript:`) URLs, inline
scripts, frames, objects, `<base>`, refreshes, inline styles.
"""

import re
from html.parser import HTMLParser

MARKER = "rqxss"

PAYLOADS = [
    # Script tags, plain and disguised.
    "<script>__xss=1</script>",
    "<ScRiPt>__xss=1</sCrIpT>",
    "<script src=data:,__xss=1></script>",
    "<scr<script>ipt>__xss=1</scr</script>ipt>",
    "</script><script>__xss=1</script>",
    "<script>alert(1)</script>",
    # Event handlers.
    "<img src=x onerror=__xss=1 rqxss>",
    "<img src=x onerror=alert(1) rqxss>",
    '<img src="x" onerror="&#95;&#95;xss=1" rqxss>',
    "<svg onload=__xss=1 rqxss>",
    '"><svg/onload=alert(1) rqxss>',
    "<body onload=__xss=1 rqxss>",
    "<input autofocus onfocus=__xss=1 rqxss>",
    "<details open ontoggle=__xss=1 rqxss>",
    "<video><source onerror=__xss=1 rqxss>",
    "<audio src=x onerror=__xss=1 rqxss>",
    "<div onmouseover=__xss=1 rqxss>survol</div>",
    # Breaking out of an attribute or an element that holds the text.
    '"><img src=x onerror=__xss=1 rqxss>',
    "'><img src=x onerror=__xss=1 rqxss>",
    '" onfocus="__xss=1" autofocus rqxss="',
    "' onmouseover='__xss=1' rqxss='",
    "</textarea><img src=x onerror=__xss=1 rqxss>",
    "</title><img src=x onerror=__xss=1 rqxss>",
    "</p></div><img src=x onerror=__xss=1 rqxss>",
    '<!--<img src="--><img src=x onerror=__xss=1 rqxss>',
    # javascript: and data: URLs.
    '<a href="javascript:__xss=1" rqxss>lien</a>',
    '<a href=" jav&#x09;ascript:alert(1)" rqxss>x</a>',
    '<a href="&#106;avascript:__xss=1" rqxss>x</a>',
    '<iframe src="javascript:__xss=1" rqxss>',
    "<iframe srcdoc='<script>parent.__xss=1</script>'>",
    '<object data="javascript:__xss=1" rqxss>',
    '<embed src="javascript:__xss=1" rqxss>',
    '<form action="javascript:__xss=1"><button rqxss>x',
    '<button formaction="javascript:__xss=1" rqxss>x',
    '<base href="javascript:/" rqxss>',
    "javascript:__xss=1",
    "data:text/html,<script>__xss=1</script>",
    # SVG and MathML.
    "<svg><script>__xss=1</script></svg>",
    "<svg><animate onbegin=__xss=1 attributeName=x dur=1s>",
    '<svg><a xlink:href="javascript:__xss=1"><text>x</text></a>',
    '<math><mi xlink:href="javascript:__xss=1" rqxss>x</mi></math>',
    "<math><mtext><table><mglyph><style><img src=x onerror=__xss=1>",
    '<noscript><p title="</noscript><img src=x onerror=__xss=1 rqxss>">',
    # htmx attributes: a request or a swap driven by someone's text.
    '<div hx-get="/logout/" hx-trigger="load" rqxss>',
    '<div data-hx-get="/" data-hx-trigger="load" rqxss>',
    '<div hx-on:click="__xss=1" rqxss>clic</div>',
    "<div hx-on::load=__xss=1 rqxss>",
    '<form hx-post="/logout/" hx-trigger="load" rqxss>',
    '<div id="live" hx-swap-oob="true" rqxss>vidé</div>',
    # Styles and refreshes.
    '<div style="background:url(javascript:__xss=1)" rqxss>',
    "<style>@import 'javascript:__xss=1';</style>",
    '<meta http-equiv="refresh" content="0;url=javascript:__xss=1">',
    "<link rel=stylesheet href=//example.invalid/x.css rqxss>",
    # Template-looking text, that no template must ever evaluate.
    "{{ 7*7 }}",
    "{% debug %}{{ request.META }}",
    "{{constructor.constructor('__xss=1')()}}",
    "${7*7} #{7*7} <%= 7*7 %>",
    # Already escaped: must show as typed, not be unescaped into markup.
    "&lt;img src=x onerror=__xss=1 rqxss&gt;",
    "&#60;script&#62;__xss=1&#60;/script&#62;",
    # A right-to-left override in front of markup.
    "\u202e<img src=x onerror=__xss=1 rqxss>",
]

SHORT = [p for p in PAYLOADS if len(p) <= 60]

# URL-carrying attributes where a scheme could run script.
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "xlink:href",
    "background",
    "poster",
    "srcdoc",
    "content",
}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
NEVER_IN_OUR_TEMPLATES = {"iframe", "frame", "frameset", "object", "embed", "applet", "base"}


def _scheme(value):
    """The URL's scheme as a browser reads it: whitespace and controls inside it dropped."""
    squeezed = "".join(ch for ch in value if ch > " ").lower()
    return squeezed


class Inspector(HTMLParser):
    """Lists elements and attributes that only injected text could have produced."""

    def __init__(self, allow=()):
        super().__init__(convert_charrefs=True)
        self.allow = set(allow)
        self.problems = []
        self.text = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)
        if tag == "script":
            self._in_script = True

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]!r}")
        self.text.append(data)

    def _check(self, tag, attrs):
        where = f"<{tag}>"
        names = {name for name, _value in attrs}
        if MARKER in names or f"data-{MARKER}" in names:
            self.problems.append(f"{where} carries the injected marker: {attrs}")
        unexpected = NEVER_IN_OUR_TEMPLATES | {"style", "mglyph", "animate", "set", "noscript"}
        if tag in unexpected - self.allow:
            self.problems.append(f"{where}: an element no template has: {attrs}")
        if not re.fullmatch(r"[a-z][a-z0-9-]*", tag):
            self.problems.append(f"{where}: a tag name no template writes")
        if tag == "script" and not (dict(attrs).get("src") or "").startswith("/static/"):
            self.problems.append(f"{where} from elsewhere than our static files: {attrs}")
        if tag == "meta" and "http-equiv" in names:
            self.problems.append(f"{where} http-equiv: {attrs}")
        if tag == "link" and not (dict(attrs).get("href") or "").startswith("/"):
            self.problems.append(f"{where} to another site: {attrs}")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"{where} event handler {name}={value[:40]!r}")
            if name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"{where} htmx handler {name}={value[:40]!r}")
            if name.startswith(("hx-", "data-hx-")) and (MARKER in value or "__xss" in value):
                self.problems.append(f"{where} htmx attribute from user text {name}")
            if name.startswith("data-hx-"):
                self.problems.append(f"{where} data-hx- attribute {name} (templates use hx-)")
            if name in URL_ATTRIBUTES and _scheme(value).startswith(DANGEROUS_SCHEMES):
                self.problems.append(f"{where} {name}={value[:40]!r}")
            if name == "style":
                self.problems.append(f"{where} inline style={value[:40]!r}")


def inspect_html(html, allow=()):
    """What is wrong with this HTML, were it shown to someone: a list of problems.

    `allow` names elements a template legitimately has there (the report's <style>).
    """
    inspector = Inspector(allow)
    inspector.feed(html)
    inspector.close()
    return inspector.problems


def text_of(html):
    """The text a person reads in this HTML (entities decoded)."""
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return "".join(inspector.text)
