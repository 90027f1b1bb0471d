"""A participant's first load, in bytes on the wire: the join page and the phone's stage page.

A phone on venue Wi-Fi downloads the HTML and every asset it references
(stylesheets, scripts, icons, images) on its first visit. This measures
exactly that against a real server: it GETs the join page, POSTs the join
form with its CSRF token as a phone would, follows the redirect to the stage
page, and for each page fetches every `<link href>`, `<script src>` and
`<img src>` with the phone's `Accept-Encoding`, summing the compressed body
bytes (headers are not counted; they are a few hundred bytes per response).

Two encodings: `br, gzip` (what Chrome and Safari ask for over HTTPS) and
`gzip, deflate` (what they ask for over plain http://, which is how phones
reach the embedded server on a LAN: browsers only ask for brotli over TLS).

`python bench/page_weight.py` starts its own server (migrate, collectstatic,
a workshop, Daphne) and prints a table; `make bench` runs it first. The
budget, 60 KB per page, is asserted by tests/test_static_weight.py.
"""

import gzip
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parent.parent
BUDGET_BYTES = 60 * 1024
ENCODINGS = {"br": "br, gzip", "gzip": "gzip, deflate"}
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
)

SETUP_WORKSHOP = """
from django.contrib.auth import get_user_model
from workshops import actions
user = get_user_model().objects.create_user("weight", password="weight-pw-123456")
w = actions.create_workshop(facilitator=user, method_key="diagnostic", title="Poids", language="fr",
                            observed_service="Service informatique")
print("WORKSHOP", w.pk, w.join_token)
"""


class _Assets(HTMLParser):
    """The URLs a browser fetches while loading the page, and the forms' hidden fields."""

    def __init__(self):
        super().__init__()
        self.urls = []
        self.hidden = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("href"):
            rel = set((attrs.get("rel") or "").lower().split())
            if rel & {"stylesheet", "icon", "preload", "modulepreload", "apple-touch-icon"}:
                self.urls.append(attrs["href"])
        elif tag in ("script", "img") and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.hidden[attrs["name"]] = attrs.get("value") or ""


@dataclass
class Response:
    url: str
    status: int
    headers: dict
    body: bytes  # as received: still compressed

    @property
    def text(self):
        encoding = self.headers.get("content-encoding", "")
        if encoding == "br":
            return brotli.decompress(self.body).decode()
        if encoding == "gzip":
            return gzip.decompress(self.body).decode()
        return self.body.decode()


@dataclass
class PageWeight:
    """One page's first load: the HTML and each asset, compressed bytes as received."""

    name: str
    encoding: str
    parts: list = field(default_factory=list)  # (url, bytes as received, response headers)

    @property
    def total(self):
        return sum(size for _, size, _ in self.parts)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Phone:
    """A phone's browser: cookies, no proxy, no automatic decoding, redirects by hand."""

    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(self.cookies),
            _NoRedirect(),
        )

    def request(self, path, encoding, data=None):
        url = urllib.parse.urljoin(self.base_url + "/", path)
        headers = {"Accept-Encoding": ENCODINGS[encoding], "User-Agent": PHONE_UA}
        if data is not None:
            data = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.base_url
            headers["Referer"] = url
        request = urllib.request.Request(url, data=data, headers=headers)
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:  # 3xx (no redirect handler) and 4xx land here
            response = error
        with response:
            return Response(
                url=url,
                status=response.status,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=response.read(),
            )

    def weigh(self, name, path, encoding, html=None):
        """The page at `path` (or its already fetched `html` Response) and all it references."""
        page = html or self.request(path, encoding)
        if page.status != 200:
            raise RuntimeError(f"{name}: {page.url} answered {page.status}")
        weight = PageWeight(name, encoding)
        weight.parts.append((page.url, len(page.body), page.headers))
        parser = _Assets()
        parser.feed(page.text)
        # A fresh phone has an empty cache, so every asset once, cookies included.
        for asset in dict.fromkeys(parser.urls):
            if urllib.parse.urlsplit(asset).netloc:
                raise RuntimeError(f"{name} references another host: {asset}")
            got = self.request(asset, encoding)
            if got.status != 200:
                raise RuntimeError(f"{name}: {asset} answered {got.status}")
            weight.parts.append((got.url, len(got.body), got.headers))
        return weight, page, parser


def measure(base_url, token):
    """{encoding: [join page weight, stage page weight]} for a real participant per encoding."""
    results = {}
    for encoding in ENCODINGS:
        phone = Phone(base_url)
        join_path = f"/j/{token}/"
        join_weight, join_page, form = phone.weigh("join page", join_path, encoding)
        posted = phone.request(
            join_path,
            encoding,
            data={
                **form.hidden,
                "display_name": f"Phone {encoding}",
                "profile": "internal_client",
            },
        )
        if posted.status not in (302, 303) or not posted.headers.get("location"):
            raise RuntimeError(f"joining did not redirect: {posted.status} {posted.text[:500]}")
        stage_weight, _, _ = phone.weigh("stage page", posted.headers["location"], encoding)
        results[encoding] = [join_weight, stage_weight]
    return results


def table(results):
    lines = [
        "First load of a participant (HTML + every asset it references, compressed bytes):",
        f"  {'page':<12}{'encoding':<10}{'bytes':>9}{'KB':>8}   budget {BUDGET_BYTES // 1024} KB",
    ]
    for encoding, weights in results.items():
        for weight in weights:
            verdict = "ok" if weight.total <= BUDGET_BYTES else "OVER"
            lines.append(
                f"  {weight.name:<12}{encoding:<10}{weight.total:>9}"
                f"{weight.total / 1024:>8.1f}   {verdict}"
            )
    detail = results.get("gzip") or next(iter(results.values()))
    lines.append("  of which (gzip, stage page):")
    for url, size, headers in detail[-1].parts:
        path = urllib.parse.urlsplit(url).path
        lines.append(f"    {size:>7}  {headers.get('content-encoding', 'identity'):<9}{path}")
    return "\n".join(lines)


# A server of its own ------------------------------------------------------------------


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _manage(env, *args):
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return done.stdout


class WeighedServer:
    """Daphne on a fresh SQLite database, serving the real collectstatic output.

    collectstatic runs first unless its output is up to date with the sources
    (config/staticfiles.py `static_is_stale`): the tests have just run it.
    """

    def __init__(self):
        self.var_dir = Path(tempfile.mkdtemp(prefix="reciproque-weight-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH")
        }
        self.env.update(
            RECIPROQUE_VAR_DIR=str(self.var_dir),
            SECRET_KEY=secrets.token_urlsafe(40),
            DEBUG="0",
            PUBLIC_URL=self.url,
            LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="config.settings",
        )
        self.process = None

    def __enter__(self):
        try:
            stale = "from config.staticfiles import static_is_stale; print(static_is_stale())"
            if _manage(self.env, "shell", "-c", stale).strip() != "False":
                _manage(self.env, "collectstatic", "--noinput", "-v", "0")
            _manage(self.env, "migrate", "--noinput")
            out = _manage(self.env, "shell", "-c", SETUP_WORKSHOP)
            _, self.workshop_id, self.token = re.search(r"WORKSHOP \d+ \S+", out).group(0).split()
            self.log = self.var_dir / "daphne.log"
            daphne = Path(sys.executable).with_name("daphne")
            with open(self.log, "w") as log:
                self.process = subprocess.Popen(
                    [daphne, "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self._wait()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait(self, seconds=30):
        deadline = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early:\n{self.log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not start:\n{self.log.read_text()}") from None
                time.sleep(0.1)

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.var_dir, ignore_errors=True)


def main():
    with WeighedServer() as server:
        results = measure(server.url, server.token)
    print(table(results))
    return results


if __name__ == "__main__":
    main()
