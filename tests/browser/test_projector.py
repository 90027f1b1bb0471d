"""The projector is a projector: every stage of the Diagnostic method fits the screen.

Its own server and workshop (the Diagnostic method, in French), populated
through the actions: the framing, a map with 15 actors and 20 flows, walls
with 0, 10, 60 and 150 post-its, long texts, 1 to 6 columns. A console moves
the room from stage to stage; two projectors (1280x720 and 1920x1080) follow
it live. On each, for each stage: no scrolling either way, post-it text at
least 24 px and map names at least 18 px at 1280x720, and a screenshot for a
human in test-results/browser/projector-*.png.
"""

import json
import re
from pathlib import Path

import pytest

from .conftest import RESULTS, daphne_server, log_in

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LAPTOP = {"width": 1366, "height": 768}
SMALL = {"width": 1280, "height": 720}
LARGE = {"width": 1920, "height": 1080}
FACILITATOR = ("camille", "pw-camille-projector-123")

SETUP = """
import json, random
from django.contrib.auth import get_user_model
from commitments.sheets import actions as sheets
from commitments.sheets.kinds import sheets_of
from journeys import actions as walls
from mapping import actions as maps
from workshops import actions

random.seed(7)
user = get_user_model().objects.create_user({username!r}, password={password!r})
workshop = actions.create_workshop(
    facilitator=user, method_key="diagnostic", language="fr",
    title="Diagnostic participatif : la DSI et ses services",
    observed_service="Direction des systèmes d’information et du numérique",
    perimeter=("Demandes d’intervention, support applicatif et projets numériques des "
               "directions métier ; hors infrastructures nationales."),
    intention="Clarifier ce que chacun attend de l’autre, et s’engager sur trois actions.",
)
people = [actions.join(workshop, display_name=name, profile=profile) for name, profile in [
    ("Alice Martin", "internal_client"), ("Bruno Leroy", "supplier"), ("Chloé Dubois", "agent"),
    ("Djamel Haddad", "external_client"), ("Emma Petit", "partner"),
]]
stages = list(workshop.stages.all())
framing, the_map, journey_stage, tensions, levers, closing = stages
# The Diagnostic's journeys are a `journey` stage now: a colour wall of the same shape stands
# in for "60 post-its in three columns, green / orange / red".
journeys = actions.add_stage(workshop, kind="wall", title="Parcours (mur de couleurs)",
    config={{"columns": [
        {{"key": "client_view", "label": "Côté client", "colour": "blue"}},
        {{"key": "service_view", "label": "Côté service", "colour": "yellow"}},
        {{"key": "supplier_view", "label": "Côté fournisseur", "colour": "purple"}}],
        "colours": ["green", "orange", "red"]}})
PHRASES = [
    "Délais de traitement des demandes trop longs",
    "On ne sait jamais qui contacter",
    "Le portail est clair",
    "Les priorités changent sans prévenir et personne ne nous explique pourquoi",
    "Bonne réactivité en cas d'incident majeur",
    "Manque de visibilité sur l'avancement",
    "Formulaires trop nombreux",
    "Un interlocuteur unique serait précieux",
]
LONG = ("Quand une demande arrive incomplète, nous la renvoyons, puis elle revient "
        "trois semaines plus tard, toujours incomplète, et personne ne sait plus qui l'a "
        "demandée ni pourquoi elle est urgente. ") * 2

def fill(stage, count, long_every=0):
    actions.go_to_stage(workshop, stage)
    stage.refresh_from_db()
    columns = [c["key"] for c in stage.config["columns"]]
    colours = stage.config.get("colours") or [None]
    for index in range(count):
        text = LONG if long_every and index % long_every == 0 else PHRASES[index % len(PHRASES)]
        walls.add_postit(stage, participant=people[index % len(people)], text=text,
                         column=columns[index % len(columns)], colour=colours[index % len(colours)])

fill(framing, 4)
# (Diagnostic's step 4 is a tension matrix and step 5 the action sheets: the wall of ten is
# a stage of its own; the empty wall is step 6.)
fill(journeys, 60, long_every=9)
ten = actions.add_stage(workshop, kind="wall", title="Leviers",
    instructions="Quels leviers pour mieux travailler ensemble ? Une idée par post-it.",
    config={{"columns": [
    {{"key": "contribution", "label": "Améliorer notre contribution", "colour": "yellow"}},
    {{"key": "clarify", "label": "Clarifier offre, attentes, indicateurs", "colour": "blue"}}]}})
fill(ten, 10)
# Step 6 is the commitment tree: a leaf from each of the five people.
empty = actions.add_stage(workshop, kind="wall", title="Mur vide", config={{"columns": [
    {{"key": "idea", "label": "Idées", "colour": "yellow"}}]}})
fill(empty, 0)
from commitments.tree import actions as tree
actions.go_to_stage(workshop, closing)
for index, person in enumerate(people[:5]):
    tree.add_commitment(closing, participant=person, sentence=("commit", "relation")[index % 2],
                        text=PHRASES[index % len(PHRASES)],
                        target_name="" if index % 2 == 0 else "La comptabilité")
from journeys.tensions import actions as matrix
actions.go_to_stage(workshop, tensions)
for index in range(8):
    tension = matrix.add_tension(tensions, participant=people[index % 5],
                                 text=PHRASES[index % len(PHRASES)])
    for k, kind in enumerate(("implicit", "control")[: 1 + index % 2]):
        cause = matrix.add_cause(tension, participant=people[(index + k) % 5], kind=kind,
                                 text=PHRASES[(index + 3 + k) % len(PHRASES)])
        matrix.me_too(cause, participant=people[(index + 2) % 5])
    matrix.add_opportunity(tension, participant=people[index % 5],
                           text=PHRASES[(index + 5) % len(PHRASES)])
# Step 5 is the action sheets (three, one co-signed).
actions.go_to_stage(workshop, levers)
for index, title in enumerate(["Un guichet unique pour les demandes d'intervention",
                               "Clarifier l'offre de service de l'infogérance",
                               "Des indicateurs partagés chaque mois"]):
    sheet = sheets.add_sheet(levers, participant=people[index], title=title)
    sheets.edit_sheet(sheet, participant=people[0], field="owner", value=str(people[2].pk))
    for signer in people[:2 - index]:
        [read] = sheets_of(levers, pk=sheet.pk)
        sheets.sign_sheet(sheet, participant=signer, content_hash=read.hash)
six = actions.add_stage(workshop, kind="wall", title="Six colonnes, 150 post-its",
    instructions="Chacun écrit ce qu'il retient.", config={{"columns": [
        {{"key": f"c{{i}}", "label": label, "colour": colour}} for i, (label, colour) in enumerate([
            ("Accueil", "yellow"), ("Demande", "blue"), ("Traitement", "green"),
            ("Livraison", "orange"), ("Suivi", "pink"), ("Clôture", "purple")])]}})
fill(six, 150, long_every=13)
one = actions.add_stage(workshop, kind="wall", title="Une colonne, textes longs",
    config={{"columns": [{{"key": "idea", "label": "Idées", "colour": "yellow"}}]}})
actions.go_to_stage(workshop, one)
for index in range(10):
    walls.add_postit(one, participant=people[index % 5],
                     text=LONG if index % 2 else PHRASES[index % 8], column="idea")

actions.go_to_stage(workshop, the_map)
SUPPLIERS = ["Prestataire de maintenance applicative", "Direction des achats",
             "Éditeur du logiciel de paie", "Opérateur réseau", "Centre de services partagés",
             "Délégation à la protection des données", "Infogérance"]
CLIENTS = ["Directions métier", "Agents des services déconcentrés", "Usagers du portail",
           "Ressources humaines", "Cabinet", "Services financiers", "Collectivités partenaires"]
refs = {{}}
for name in SUPPLIERS:
    refs[name] = maps.add_actor(the_map, participant=people[1], name=name, circle="suppliers").pk
for name in CLIENTS:
    refs[name] = maps.add_actor(the_map, participant=people[0], name=name, circle="clients",
                                scope="external" if "Usagers" in name else "internal").pk
LABELS = ["Tickets d'incident", "Licences", "Bons de commande", "Comptes rendus mensuels",
          "Demandes d'évolution", "Accès réseau", "Données de paie", "Avis juridiques",
          "Tableaux de bord", "Mises à jour"]
count = 0
for index, name in enumerate(SUPPLIERS):
    maps.add_flow(the_map, participant=people[1], source=str(refs[name]), target="centre",
                  kind=["deliverable", "information", "request"][index % 3], label=LABELS[index])
    count += 1
for index, name in enumerate(CLIENTS):
    maps.add_flow(the_map, participant=people[0], source="centre", target=str(refs[name]),
                  kind="deliverable", label=LABELS[(index + 3) % len(LABELS)])
    maps.add_flow(the_map, participant=people[0], source=str(refs[name]), target="centre",
                  kind="request", label="Demandes")
    count += 2
actions.go_to_stage(workshop, framing)
print("ROOM=" + json.dumps({{
    "workshop": workshop.pk, "flows": count,
    "stages": {{
        "framing": framing.pk, "map": the_map.pk, "wall-60": journeys.pk, "wall-10": ten.pk,
        "wall-0": empty.pk, "wall-150-6cols": six.pk, "wall-1col-long": one.pk,
        "tensions": tensions.pk, "actions": levers.pk,
        "closing": closing.pk, "tree": closing.pk,
    }},
}}))
"""

MEASURE = """() => {
  const d = document.documentElement;
  const visible = el => el.offsetParent !== null || el.getClientRects().length > 0;
  const texts = [...document.querySelectorAll('.board .postit-text')].filter(visible);
  const svg = document.querySelector('.map-svg');
  const scale = svg ? svg.getScreenCTM().a : 0;
  const names = [...document.querySelectorAll('.map-actor')].map(g => {
    const text = g.querySelector('.map-actor-name');
    const box = g.querySelector('.map-box').getBBox();
    const b = text.getBBox();
    return {
      name: text.textContent,
      px: parseFloat(text.getAttribute('font-size')) * scale,
      line: text.querySelector('tspan').getBoundingClientRect().height,
      inside: b.x >= box.x - 0.5 && b.x + b.width <= box.x + box.width + 0.5
        && b.y >= box.y - 0.5 && b.y + b.height <= box.y + box.height + 0.5,
    };
  });
  const page = document.getElementById('projector-page');
  // A post-it shown must be whole: paging, not cutting, deals with what does not fit.
  const cut = [...document.querySelectorAll('.board .postit')].filter(visible).filter(p => {
    return p.getBoundingClientRect().bottom > p.parentElement.getBoundingClientRect().bottom + 1;
  }).length;
  return {
    cut,
    scrollHeight: d.scrollHeight, scrollWidth: d.scrollWidth,
    innerHeight: window.innerHeight, innerWidth: window.innerWidth,
    postitPx: texts.map(t => parseFloat(getComputedStyle(t).fontSize)),
    postits: texts.length,
    titlePx: parseFloat(getComputedStyle(document.querySelector('.stage-title')).fontSize),
    timerPx: parseFloat(getComputedStyle(document.querySelector('.timer-value')).fontSize),
    names,
    page: page && !page.hidden ? page.textContent : '',
    instructions: [...document.querySelectorAll('.instructions')].some(visible),
    qrWidth: document.querySelector('.projector-qr .qr').getBoundingClientRect().width,
  };
}"""


@pytest.fixture(scope="module")
def projector_server():
    script = SETUP.format(username=FACILITATOR[0], password=FACILITATOR[1])
    with daphne_server("reciproque-projector-", script, keep_log="daphne-projector.log") as running:
        yield {"url": running.url, **running.room}


class ProjectorRoom:
    def __init__(self, server, browser):
        self.url = server["url"]
        self.workshop = server["workshop"]
        self.stages = server["stages"]
        self.contexts = []
        self.errors = []
        console = self._page(browser, viewport=LAPTOP)
        log_in(console, self.url, FACILITATOR)
        console.goto(f"{self.url}/workshops/{self.workshop}/")
        console.wait_for_selector("body[data-connection=connected]")
        self.console = console
        state = self.contexts[0].storage_state()
        self.projectors = {}
        for name, viewport in (("1280x720", SMALL), ("1920x1080", LARGE)):
            page = self._page(browser, viewport=viewport, storage_state=state)
            page.goto(f"{self.url}/workshops/{self.workshop}/projector/")
            page.wait_for_selector("body[data-connection=connected]")
            self.projectors[name] = page

    def _page(self, browser, **options):
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "console",
            lambda m: self.errors.append(m.text) if "Content Security Policy" in m.text else None,
        )
        return page

    def post(self, path, **fields):
        """A console write, as its own htmx form would send it."""
        status = self.console.evaluate(
            """async ([path, fields]) => {
              const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
              const body = new URLSearchParams(fields);
              const r = await fetch(path, {method: 'POST', body,
                headers: {'X-CSRFToken': token, 'HX-Request': 'true'}});
              return r.status;
            }""",
            [path, fields],
        )
        assert status == 200, (path, fields, status)

    def go(self, key):
        pk = self.stages[key]
        self.post(f"/workshops/{self.workshop}/stages/{pk}/go/")
        for page in self.projectors.values():
            page.wait_for_selector(f"#live[data-stage='{pk}']")

    def projector_state(self, **fields):
        self.post(f"/workshops/{self.workshop}/projector/state/", **fields)

    def timer(self, command, minutes=None):
        fields = {"command": command}
        if minutes:
            fields["minutes"] = str(minutes)
        self.post(f"/workshops/{self.workshop}/timer/", **fields)

    def measure(self, page):
        # Two frames: one for the swap, one for projector.js's fit.
        page.wait_for_timeout(400)
        return page.evaluate(MEASURE)

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def room(projector_server, browser):
    room = ProjectorRoom(projector_server, browser)
    yield room
    room.close()


def shoot(page, name):
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"projector-{name}.png"
    page.screenshot(path=str(path))
    return path


def attached(page, state):
    """The room's projector state has reached this page (the element itself is hidden)."""
    page.wait_for_selector(f"#projector-state{state}", state="attached")


def assert_fits(m, where):
    assert m["scrollHeight"] <= m["innerHeight"], (where, m["scrollHeight"], m["innerHeight"])
    assert m["scrollWidth"] <= m["innerWidth"], (where, m["scrollWidth"], m["innerWidth"])
    assert m["cut"] == 0, (where, "post-its cut at the bottom of their column", m["cut"])


CASES = [
    "framing",
    "map",
    "wall-0",
    "wall-10",
    "wall-60",
    "wall-150-6cols",
    "wall-1col-long",
    "tensions",
    "actions",
    "tree",
]


@pytest.mark.parametrize("case", CASES)
def test_it_fits_every_stage_on_both_screens(room, case):
    room.go(case)
    room.timer("reset")
    report = {}
    for moment in ("instructions-open", "running"):
        if moment == "running":
            room.timer("start", 15)
        for size, page in room.projectors.items():
            m = room.measure(page)
            report[f"{size}-{moment}"] = m
            shoot(page, f"{case}-{size}-{moment}")
            assert_fits(m, (case, size, moment))
            if moment == "running":
                assert not m["instructions"], "the instructions fold away once the stage runs"
            if size == "1280x720":
                assert all(px >= 24 for px in m["postitPx"]), (case, min(m["postitPx"]))
                assert m["titlePx"] >= 24 and m["timerPx"] >= 24
                for name in m["names"]:
                    assert name["px"] >= 18, name
                    assert "…" not in name["name"], name
                    assert name["inside"], name
    room.timer("reset")
    assert not room.errors
    (RESULTS / f"projector-{case}.json").write_text(json.dumps(report, indent=1))


def test_it_pages_a_wall_that_does_not_fit_and_shows_every_post_it(room):
    room.go("wall-150-6cols")
    room.timer("start", 15)
    page = room.projectors["1280x720"]
    m = room.measure(page)
    match = re.match(r"\D*(\d+)\D+(\d+)", m["page"])
    assert match, m["page"]
    pages = int(match.group(2))
    assert pages >= 2
    seen = set()
    # Twice round: the board also turns by itself every 12 s, and the fit may settle
    # once the timer has folded the instructions; either can skip a page once.
    for _ in range(2 * pages):
        seen |= set(
            page.eval_on_selector_all(
                ".board .postit:not(.is-off-page)", "els => els.map(e => e.id)"
            )
        )
        if len(seen) == 150:
            break
        page.evaluate("() => window.dispatchEvent(new Event('rq-next-page'))")
        page.wait_for_timeout(100)
    assert len(seen) == 150
    room.timer("reset")


def test_it_folds_the_instructions_and_shrinks_the_qr_as_the_console_says(room, browser):
    room.go("framing")
    room.timer("reset")
    page = room.projectors["1280x720"]
    m = room.measure(page)
    assert m["instructions"] and m["qrWidth"] > 250  # first stage, timer idle: the room joins
    room.timer("start", 10)
    m = room.measure(page)
    assert not m["instructions"] and m["qrWidth"] < 120
    room.projector_state(instructions="shown")
    room.projector_state(qr="large")
    attached(page, "[data-instructions=shown][data-qr=large]")
    m = room.measure(page)
    assert m["instructions"] and m["qrWidth"] > 250
    assert_fits(m, "framing, instructions and QR brought back")
    shoot(page, "framing-1280x720-brought-back")
    # The console's panel says so too, and a projector opened now shows the same.
    room.console.wait_for_selector("#projector-panel button[value=shown][aria-pressed=true]")
    late = room._page(browser, viewport=SMALL, storage_state=room.contexts[0].storage_state())
    late.goto(f"{room.url}/workshops/{room.workshop}/projector/")
    attached(late, "[data-instructions=shown][data-qr=large]")
    room.projector_state(instructions="hidden", qr="small")
    attached(page, "[data-instructions=hidden][data-qr=small]")
    m = room.measure(page)
    assert not m["instructions"] and m["qrWidth"] < 120
    room.timer("reset")
    m = room.measure(page)
    assert not m["instructions"], "folded by hand stays folded on this stage"
    # Moving on: the new stage starts with its instructions open again ("auto").
    room.go("wall-10")
    m = room.measure(page)
    assert m["instructions"]
    room.projector_state(instructions="auto", qr="auto")
    assert not room.errors
