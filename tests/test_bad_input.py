"""Bad input on every write endpoint and on the websocket: a clear refusal, and nothing changes.

Malformed and truncated bodies, unknown values, wrong types, bad and reused
operation ids, oversized fields and bodies, control characters, right-to-left
overrides and emoji, floods. Every write endpoint is taken from the
authorization matrix's table (tests/test_authz_matrix.py), so a new one is
covered here too. Each refusal is a 4xx with a message in the workshop's
language (or, for the plain forms, the form again with its errors), the
database is unchanged, and the other participants do not notice.
"""

import asyncio
import json
import os
import unicodedata
from pathlib import Path

import pytest
import websockets.sync.client
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.messages import get_messages
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from journeys import actions as journeys
from journeys.kinds import colour_choices, columns_of
from journeys.models import Cluster, PostIt
from mapping.models import Actor, Flow
from workshops import ratelimit
from workshops.models import Event, Participant, Stage, Workshop

from .base import log_in_participant
from .test_authz_matrix import (
    FACILITATOR,
    MEMBER,
    PARTICIPANT,
    ROUTES,
    build_shared_world,
    changed,
    fingerprint,
    make_current,
    url_for,
    world_in_savepoint,
)
from .test_tokens import make_run_server

ROOT = Path(__file__).resolve().parents[1]
HTMX = {"HTTP_HX_REQUEST": "true"}
URLENCODED = "application/x-www-form-urlencoded"
MALFORMED = "This request is malformed; reload the page."

# Every write endpoint of a workshop, with who may use it.
WRITES = {
    route: spec
    for route, spec in ROUTES.items()
    if "POST" in spec.methods and spec.access in (FACILITATOR, MEMBER, PARTICIPANT)
}
# Writes that take no operation id: deleting a workshop, starting the report.
WITHOUT_OP_ID = {"workshops/<int:pk>/delete/", "workshops/<int:pk>/report/"}
# Plain forms (no htmx): a refusal is the form again with its errors, or a flash message.
PLAIN_FORMS = {
    "workshops/<int:pk>/edit/",
    "workshops/<int:pk>/stages/add/",
    "workshops/<int:pk>/stages/<int:stage_pk>/edit/",
}


def french(message):
    with translation.override("fr"):
        return gettext(message)


def writer_of(spec):
    return "alice" if spec.access in (MEMBER, PARTICIPANT) else "camille"


shared_world = pytest.fixture(scope="module")(build_shared_world)
world = pytest.fixture(world_in_savepoint)


def _fields(world, route):
    data = ROUTES[route].data
    return data(world) if callable(data) else dict(data or {})


def _try(world, route, persona=None, data=None, *, raw=None, content_type=None, htmx=True):
    """POST in a rolled-back savepoint: (response, models changed, flashed messages)."""
    from django.core.cache import cache

    cache.clear()
    persona = persona or writer_of(ROUTES[route])
    with transaction.atomic():
        if ROUTES[route].stage != "wall":
            make_current(world, ROUTES[route].stage)
        client = world.client(persona)
        before = fingerprint()
        path = url_for(route, world.ids(route))
        headers = HTMX if htmx else {}
        if raw is not None:
            response = client.post(path, raw, content_type=content_type, **headers)
        else:
            response = client.post(path, data, **headers)
        touched = changed(before, fingerprint())
        flashed = [str(m) for m in get_messages(response.wsgi_request)]
        transaction.set_rollback(True)
    return response, touched, flashed


def refused(response, flashed, message=None):
    """A clear refusal: a 4xx (with the message), the form again with errors, or a flash."""
    body = response.content.decode("utf-8", "replace")
    if message is not None:
        text = french(message)
        shown = escape(text) in body or text in body or text in flashed
    else:
        shown = True
    if 400 <= response.status_code < 500:
        return shown
    if response.status_code == 200:  # a plain form shown again, with its errors
        return "invalid-feedback" in body or "is-invalid" in body
    if response.status_code == 302:  # a plain form post: the message comes as a flash
        return bool(flashed) and shown
    return False


# Operation ids ------------------------------------------------

BAD_OP_IDS = [
    "short",
    "x" * 65,
    "x" * 10_000,
    "../../../etc/passwd",
    "<script>x</script>",
    "éééééééééé",
    "with spaces in it",
    "null\x00byte-op-id",
    "🙂🙂🙂🙂🙂🙂🙂🙂",
]


def test_it_refuses_a_malformed_operation_id_on_every_write(world):
    problems = []
    routes = [r for r in WRITES if r not in WITHOUT_OP_ID]
    # Every route gets a bad id; the timer gets every kind of bad id.
    cases = [(route, BAD_OP_IDS[i % len(BAD_OP_IDS)]) for i, route in enumerate(routes)]
    cases += [("workshops/<int:pk>/timer/", op_id) for op_id in BAD_OP_IDS]
    for route, op_id in cases:
        response, touched, flashed = _try(
            world, route, data=_fields(world, route) | {"op_id": op_id}
        )
        if touched or not refused(response, flashed, MALFORMED):
            problems.append(f"{route} op_id={op_id[:20]!r}: {response.status_code} {touched}")
        if response.status_code >= 500:
            problems.append(f"{route}: server error")
    assert not problems, "\n".join(problems)


def test_it_refuses_two_operation_ids_in_one_request(world):
    problems = []
    for route in [r for r in WRITES if r not in WITHOUT_OP_ID]:
        data = _fields(world, route) | {"op_id": ["first-op-id-0001", "second-op-id-002"]}
        response, touched, flashed = _try(world, route, data=data)
        if touched or not refused(response, flashed, MALFORMED):
            problems.append(f"{route}: {response.status_code} {touched}")
    assert not problems, "\n".join(problems)


def test_it_applies_a_retried_write_once_on_every_write(world):
    """The same operation id twice (a phone retrying): the second changes nothing."""
    from django.core.cache import cache

    problems = []
    for route in [r for r in WRITES if r not in WITHOUT_OP_ID]:
        data = _fields(world, route) | {"op_id": "retried-op-00000001"}
        spec = ROUTES[route]
        cache.clear()  # rate-limit counters: Alice writes twice per route
        with transaction.atomic():
            if spec.stage != "wall":
                make_current(world, spec.stage)
            client = world.client(writer_of(spec))
            path = url_for(route, world.ids(route))
            first = client.post(path, data, **HTMX)
            after_first = fingerprint()
            second = client.post(path, data, **HTMX)
            touched = changed(after_first, fingerprint())
            transaction.set_rollback(True)
        if first.status_code >= 400:
            problems.append(f"{route}: the first attempt was refused ({first.status_code})")
        # A retried delete finds nothing to delete (404); anything else answers as before.
        if touched or second.status_code >= 500 or second.status_code not in (200, 302, 404):
            problems.append(f"{route}: retry answered {second.status_code}, changed {touched}")
    assert not problems, "\n".join(problems)


def test_it_refuses_an_operation_id_someone_else_used(world):
    route = "w/<int:pk>/stages/<int:stage_pk>/postits/"
    data = _fields(world, route) | {"op_id": "alices-own-op-0001"}
    alice = world.client("alice")
    assert alice.post(url_for(route, world.ids(route)), data, **HTMX).status_code == 200
    response, touched, _flashed = _try(world, route, "camille", data)
    assert response.status_code == 409
    assert not touched
    bruno = log_in_participant(Client(), world.bruno)
    before = fingerprint()
    response = bruno.post(url_for(route, world.ids(route)), data, **HTMX)
    assert response.status_code == 409
    assert escape(french(MALFORMED)) in response.content.decode()
    assert not changed(before, fingerprint())


def test_it_accepts_a_write_without_operation_id_once(world):
    route = "w/<int:pk>/stages/<int:stage_pk>/postits/"
    client = world.client("alice")
    count = PostIt.objects.count()
    response = client.post(url_for(route, world.ids(route)), _fields(world, route), **HTMX)
    assert response.status_code == 200
    assert PostIt.objects.count() == count + 1


# Malformed bodies ------------------------------------------------

# Cut in the middle of a part's headers. (A body that only lacks its closing boundary is
# parsed by Django like a complete one: what it holds is what the client sent. A body cut by
# the network never reaches a view at all: see the real-server test below.)
TRUNCATED_MULTIPART = (
    b'--boundary\r\nContent-Disposition: form-data; name="op_id"\r\n\r\nmultipart-op-01'
    b"\r\n--boundary\r\nContent-Disposition: form-da"
)


def test_it_refuses_malformed_and_truncated_bodies_on_every_write(world):
    bodies = {
        "empty": (b"", URLENCODED),
        "json": (json.dumps(_fields(world, "w/<int:pk>/done/")).encode(), "application/json"),
        "truncated json": (b'{"text": "Sans fi', "application/json"),
        "truncated multipart": (TRUNCATED_MULTIPART, "multipart/form-data; boundary=boundary"),
        "multipart without boundary": (TRUNCATED_MULTIPART, "multipart/form-data"),
        "not utf-8": (b"text=\xff\xfe\xfa&name=\xff&rating=\xff", URLENCODED),
        "escaped not utf-8": (b"text=%FF%FE&name=%C3&rating=%ff&done=%ff", URLENCODED),
        "xml": (b"<postit><text>x</text></postit>", "application/xml"),
    }
    problems = []
    names = list(bodies)
    routes = [route for route in WRITES if _fields(world, route)]  # an empty body is complete
    # Every route gets two kinds of bad body in turn; three typical routes get them all.
    cases = [
        (route, names[(2 * i + k) % len(names)]) for i, route in enumerate(routes) for k in (0, 1)
    ]
    everything = (ADD_POSTIT, "w/<int:pk>/done/", "w/<int:pk>/flows/<int:flow_pk>/rate/")
    cases += [(route, name) for route in everything for name in names]
    for route, name in cases:
        raw, content_type = bodies[name]
        response, touched, flashed = _try(world, route, raw=raw, content_type=content_type)
        if touched or response.status_code >= 500 or not refused(response, flashed):
            problems.append(f"{route} {name}: {response.status_code} {touched}")
    assert not problems, "\n".join(problems)


# Unknown values and wrong types ------------------------------------------------

HUGE = str(10**30)
TIMER = "workshops/<int:pk>/timer/"
ADD_POSTIT = "w/<int:pk>/stages/<int:stage_pk>/postits/"
ASSIGN = "workshops/<int:pk>/stages/<int:stage_pk>/themes/assign/"
MOVE_ACTOR = "workshops/<int:pk>/stages/<int:stage_pk>/actors/<str:ref>/move/"
NEW_ACTOR = "w/<int:pk>/stages/<int:stage_pk>/actors/new/"
NEW_FLOW = "w/<int:pk>/stages/<int:stage_pk>/flows/new/"
DURATION = "Choose a duration between 1 and %d minutes."
PROJECTOR = "workshops/<int:pk>/projector/state/"
PROJECTOR_QR = "Unknown choice for the QR code on the projector."
ADD_PARTICIPANT = "workshops/<int:pk>/participants/add/"
BACK = "workshops/<int:pk>/stages/back/"
NEW_IDEA = "w/<int:pk>/stages/<int:stage_pk>/ideas/new/"
NEW_CHALLENGE = "w/<int:pk>/stages/<int:stage_pk>/challenges/new/"
IDEA_PROMOTE = "workshops/<int:pk>/stages/<int:stage_pk>/ideas/promote/"
MERGE = "workshops/<int:pk>/stages/<int:stage_pk>/ideas/merge/"
OPEN_VOTE = "workshops/<int:pk>/stages/<int:stage_pk>/votes/open/"
DOT = "w/<int:pk>/votes/<int:vote_pk>/dot/"
UNDOT = "w/<int:pk>/votes/<int:vote_pk>/undot/"
J_POSTIT = "w/<int:pk>/stages/<int:stage_pk>/journey/postits/"
J_EDIT = "w/<int:pk>/journey-postits/<int:postit_pk>/edit/"
J_RATE = "w/<int:pk>/stages/<int:stage_pk>/journey/rate/"
J_STEP = "workshops/<int:pk>/journey-steps/<int:step_pk>/edit/"
J_VIEW = "workshops/<int:pk>/stages/<int:stage_pk>/journey/view/"
PROMOTE = "workshops/<int:pk>/promote/"
ADD_TENSION = "w/<int:pk>/stages/<int:stage_pk>/tensions/"
ADD_CAUSE = "w/<int:pk>/tensions/<int:tension_pk>/causes/"
ADD_OPPORTUNITY = "w/<int:pk>/tensions/<int:tension_pk>/opportunities/"
ADD_CHALLENGE = "w/<int:pk>/opportunities/<int:opportunity_pk>/challenges/"
GONE_ITEM = "This item no longer exists."
NEW_SHEET = "w/<int:pk>/stages/<int:stage_pk>/sheets/new/"
EDIT_SHEET = "w/<int:pk>/sheets/<int:sheet_pk>/edit/"
SIGN = "w/<int:pk>/sheets/<int:sheet_pk>/sign/"
SIGN_FOR = "workshops/<int:pk>/sheets/<int:sheet_pk>/sign-for/"
BAD_DATE = "Enter a date as YYYY-MM-DD."
GONE_PERSON = "This person is no longer in the workshop."
NEW_ROW = "workshops/<int:pk>/stages/<int:stage_pk>/rows/new/"
PREFILL = "workshops/<int:pk>/stages/<int:stage_pk>/rows/prefill/"
TAKE_ROW = "w/<int:pk>/stages/<int:stage_pk>/rows/take/"
CELL = "w/<int:pk>/stages/<int:stage_pk>/rows/cell/"
MEETING = "w/<int:pk>/stages/<int:stage_pk>/rows/meeting/"
NEW_PROMISE = "workshops/<int:pk>/stages/<int:stage_pk>/promises/new/"
PARAGRAPH = "w/<int:pk>/stages/<int:stage_pk>/promise/paragraph/"
KEEP = "w/<int:pk>/stages/<int:stage_pk>/promise/commitment/"
SIGN_PROMISE = "w/<int:pk>/stages/<int:stage_pk>/promise/sign/"
NEW_COMMITMENT = "w/<int:pk>/stages/<int:stage_pk>/commitments/new/"
EDIT_COMMITMENT = "w/<int:pk>/stages/<int:stage_pk>/commitments/<int:commitment_pk>/edit/"
DELETE_COMMITMENT = "w/<int:pk>/stages/<int:stage_pk>/commitments/<int:commitment_pk>/delete/"
TREE_VIEW = "workshops/<int:pk>/stages/<int:stage_pk>/tree/view/"

# (route, fields replacing the valid ones, English message expected or None)
UNKNOWN_OR_WRONG = [
    (TIMER, {"command": "explode"}, "Unknown timer command."),
    (TIMER, {"command": ""}, "Unknown timer command."),
    *[
        (TIMER, {"command": "start", "minutes": m}, None)
        for m in ("abc", "nan", "inf", "-inf", "1e309", "-5", "0", "601", "0x10", "1_0_0_0")
    ],
    (TIMER, {"command": "add", "minutes": ""}, None),
    (TIMER, {"command": "locks", "value": "2"}, MALFORMED),
    (TIMER, {"command": "locks"}, MALFORMED),
    (
        PROJECTOR,
        {"instructions": "everywhere", "qr": ""},
        "Unknown choice for the instructions on the projector.",
    ),
    (PROJECTOR, {"instructions": "", "qr": "giant"}, PROJECTOR_QR),
    (PROJECTOR, {"instructions": "shown", "qr": "1"}, PROJECTOR_QR),
    (PROJECTOR, {"instructions": "", "qr": ""}, "Choose what the projector shows."),
    ("workshops/<int:pk>/lock/", {"locked": "yes"}, MALFORMED),
    ("workshops/<int:pk>/lock/", {"locked": ""}, MALFORMED),
    ("workshops/<int:pk>/stages/<int:stage_pk>/reveal/", {"revealed": "true"}, MALFORMED),
    ("workshops/<int:pk>/stages/<int:stage_pk>/move/", {"direction": "sideways"}, MALFORMED),
    ("w/<int:pk>/done/", {"done": "maybe"}, MALFORMED),
    ("w/<int:pk>/done/", {"done": "10"}, MALFORMED),
    (ADD_POSTIT, {"colour": "magenta"}, "Choose a colour."),
    (ADD_POSTIT, {"column": "nowhere"}, "Choose a column."),
    (ADD_POSTIT, {"text": ""}, "Write something first."),
    (ADD_POSTIT, {"text": " \x00\x07\x1b \u202e\u2066 "}, "Write something first."),
    ("w/<int:pk>/postits/<int:postit_pk>/edit/", {"text": "\t\n"}, "Write something first."),
    (ASSIGN, {"cluster": "abc"}, MALFORMED),
    (ASSIGN, {"cluster": "-1"}, MALFORMED),
    (ASSIGN, {"cluster": HUGE}, MALFORMED),
    (ASSIGN, {"postits": ["abc"]}, MALFORMED),
    (ASSIGN, {"postits": [HUGE]}, MALFORMED),
    (ASSIGN, {"postits": ["0"]}, MALFORMED),
    (ASSIGN, {"postits": []}, "Tap the post-its to move first."),
    ("workshops/<int:pk>/stages/<int:stage_pk>/themes/", {"name": ""}, "Write something first."),
    ("workshops/<int:pk>/themes/<int:cluster_pk>/rename/", {"name": "\x00"}, None),
    (NEW_ACTOR, {"circle": "centre"}, "Choose a circle: suppliers or clients."),
    (NEW_ACTOR, {"circle": "moon"}, "Choose a circle: suppliers or clients."),
    (NEW_ACTOR, {"scope": "galactic"}, "Choose internal or external."),
    (NEW_ACTOR, {"name": ""}, "Give the actor a name."),
    (MOVE_ACTOR, {"x": "abc"}, "This position is not on the map."),
    (MOVE_ACTOR, {"x": "nan"}, "This position is not on the map."),
    (MOVE_ACTOR, {"y": "inf"}, "This position is not on the map."),
    (MOVE_ACTOR, {"x": ""}, "This position is not on the map."),
    (NEW_FLOW, {"kind": "telepathy"}, None),
    (NEW_FLOW, {"target": "centre", "source": "centre"}, None),
    (NEW_FLOW, {"source": "abc"}, None),
    (NEW_FLOW, {"source": HUGE}, None),
    (NEW_FLOW, {"label": ""}, "Say in a few words what flows."),
    ("w/<int:pk>/flows/<int:flow_pk>/rate/", {"rating": "awesome"}, None),
    ("workshops/<int:pk>/stages/add/", {"duration_minutes": "1e9"}, None),
    ("workshops/<int:pk>/stages/add/", {"duration_minutes": "-1"}, None),
    ("workshops/<int:pk>/stages/add/", {"kind": "nope"}, None),
    ("workshops/<int:pk>/edit/", {"language": "klingon"}, None),
    ("workshops/<int:pk>/edit/", {"date": "2026-02-31"}, None),
    # Only the console writes for someone without a phone (tests/test_undo_and_proxy.py).
    (ADD_POSTIT, {"as_participant": "1"}, "Only the facilitator can write for someone else."),
    (ADD_PARTICIPANT, {"profile": "king"}, None),
    (ADD_PARTICIPANT, {"display_name": ""}, None),
    (ADD_PARTICIPANT, {"display_name": " \x07\u202e "}, "Enter a name."),
    (BACK, {"stage": "abc"}, MALFORMED),
    (BACK, {"stage": ""}, MALFORMED),
    (BACK, {"stage": HUGE}, MALFORMED),
    (BACK, {"stage": "-3"}, MALFORMED),
    (NEW_IDEA, {"text": " \x00\u202e "}, "Write your idea."),
    (NEW_IDEA, {"challenge": "c999999"}, "This challenge is no longer on the board."),
    (NEW_IDEA, {"challenge": "journeys.postit:1"}, "This challenge is no longer on the board."),
    (NEW_IDEA, {"challenge": "x" * 500}, "Choose a challenge from the list."),
    (NEW_IDEA, {"as_participant": "1"}, "Only the facilitator can write for someone else."),
    (NEW_CHALLENGE, {"text": ""}, "Write the challenge."),
    (IDEA_PROMOTE, {"item": ""}, MALFORMED),
    (IDEA_PROMOTE, {"item": "journeys.postit:abc"}, "This post-it is no longer there."),
    (IDEA_PROMOTE, {"item": "mapping.flow:1"}, "This post-it is no longer there."),
    (MERGE, {"source": "abc"}, "This idea is no longer on the board."),
    (MERGE, {"source": HUGE}, "This idea is no longer on the board."),
    (MERGE, {"source": ""}, "Choose two different ideas to merge."),
    (MERGE, {"target": "-1"}, "This idea is no longer on the board."),
    *[(OPEN_VOTE, {"budget": b}, None) for b in ("0", "21", "abc", "", HUGE, "1e3", "5.5")],
    (OPEN_VOTE, {"budget": "3", "cap": "4"}, None),
    (OPEN_VOTE, {"cap": "0"}, None),
    (OPEN_VOTE, {"item_type": "Flow!"}, "This stage has nothing of that kind to vote on."),
    (DOT, {"item": ""}, MALFORMED),
    (DOT, {"item": "commitments.idea:999999"}, "This item is no longer in the vote."),
    (DOT, {"item": "<script>"}, "This item is no longer in the vote."),
    (DOT, {"budget": "third"}, "This vote has no such budget."),
    (UNDOT, {"budget": "second"}, "You have no dot on this item to take back."),
    # The journey: its cells, colours, emotions and steps.
    (J_POSTIT, {"colour": "yellow"}, "Choose a colour: green, orange or red."),
    (J_POSTIT, {"colour": ""}, "Choose a colour: green, orange or red."),
    (J_POSTIT, {"perspective": "<b>x</b>"}, "Choose a perspective."),
    (J_POSTIT, {"step": "abc"}, "This step no longer exists."),
    (J_POSTIT, {"step": HUGE}, "This step no longer exists."),
    (J_POSTIT, {"situation": "-1"}, "This step no longer exists."),
    (J_POSTIT, {"text": " \x00\u202e "}, "Write something first."),
    (J_EDIT, {"colour": "pink"}, "Choose a colour: green, orange or red."),
    (J_EDIT, {"perspective": "nowhere"}, "Choose a perspective."),
    (J_RATE, {"value": "3"}, "Choose a face from −2 to +2."),
    (J_RATE, {"value": "-2.5"}, "Choose a face from −2 to +2."),
    (J_RATE, {"value": "nan"}, "Choose a face from −2 to +2."),
    (J_RATE, {"perspective": ""}, "Choose a perspective."),
    (J_STEP, {"phase": "someday"}, "Choose a phase: before, during or after."),
    (J_STEP, {"name": ""}, "Name the step."),
    ("workshops/<int:pk>/journey-steps/<int:step_pk>/move/", {"direction": "left"}, None),
    (J_VIEW, {"view": "3d"}, "Choose the grid, the heat-map or the comparison."),
    (J_VIEW, {"view": "compare"}, "Choose the grid, the heat-map or the comparison."),
    (J_VIEW, {"situation": "abc"}, None),
    ("w/<int:pk>/stages/<int:stage_pk>/journey/situations/", {"name": "\x07"}, None),
    # The tension matrix, and promotion into it.
    (PROMOTE, {"stage": "abc"}, MALFORMED),
    (PROMOTE, {"stage": HUGE}, MALFORMED),
    (PROMOTE, {"ref": ""}, GONE_ITEM),
    (PROMOTE, {"ref": "journeys.postit:abc"}, GONE_ITEM),
    (PROMOTE, {"ref": "auth.user:1"}, GONE_ITEM),
    (PROMOTE, {"ref": "nope.nothing:1"}, GONE_ITEM),
    (PROMOTE, {"ref": "x" * 500}, MALFORMED),
    (ADD_TENSION, {"text": ""}, "Say what the tension is."),
    (ADD_TENSION, {"text": " \x00\u202e "}, "Say what the tension is."),
    (ADD_CAUSE, {"kind": "bad_luck"}, "Choose the kind of cause."),
    (ADD_CAUSE, {"kind": ""}, "Choose the kind of cause."),
    (ADD_CAUSE, {"text": "\t"}, "Say what the cause is."),
    (ADD_OPPORTUNITY, {"text": ""}, "Say what the opportunity is."),
    (ADD_CHALLENGE, {"text": "  "}, "Word the challenge."),
    (NEW_SHEET, {"title": ""}, "Give the sheet a title."),
    (NEW_SHEET, {"title": " \x00\u202e "}, "Give the sheet a title."),
    (NEW_SHEET, {"origin": "journeys.postit:1"}, "Choose a challenge or an idea of this workshop."),
    (NEW_SHEET, {"as_participant": "1"}, "Only the facilitator can write for someone else."),
    (EDIT_SHEET, {"field": "workshop"}, MALFORMED),
    (EDIT_SHEET, {"field": ""}, MALFORMED),
    (EDIT_SHEET, {"field": "title", "value": "\t"}, "Give the sheet a title."),
    (EDIT_SHEET, {"field": "start_date", "value": "2026-02-31"}, BAD_DATE),
    (EDIT_SHEET, {"field": "due_date", "value": "demain"}, BAD_DATE),
    (EDIT_SHEET, {"field": "due_date", "value": "9999-01-01"}, BAD_DATE),
    (EDIT_SHEET, {"field": "owner", "value": "abc"}, MALFORMED),
    (EDIT_SHEET, {"field": "owner", "value": HUGE}, MALFORMED),
    (EDIT_SHEET, {"field": "owner", "value": "999999"}, GONE_PERSON),
    (EDIT_SHEET, {"field": "co_owners", "value": "-2"}, MALFORMED),
    (EDIT_SHEET, {"field": "origin", "value": "auth.user:1"}, None),
    (SIGN, {"confirm": ""}, "Confirm your signature first."),
    (SIGN, {"hash": "0" * 64}, None),
    (SIGN, {"hash": ""}, None),
    (SIGN, {"as_participant": "1"}, "Only the facilitator can write for someone else."),
    (SIGN_FOR, {"as_participant": ""}, "Choose who signs: someone you added without a phone."),
    (SIGN_FOR, {"as_participant": "abc"}, MALFORMED),
    (NEW_ROW, {"label": ""}, "Name the service."),
    (NEW_ROW, {"label": "Service vide"}, "This service already has a row."),
    (PREFILL, {"circle": "centre"}, "Choose the clients' or the suppliers' circle."),
    (PREFILL, {"circle": ""}, "Choose the clients' or the suppliers' circle."),
    (TAKE_ROW, {"row": "abc"}, "This row is no longer in the table."),
    (TAKE_ROW, {"row": HUGE}, "This row is no longer in the table."),
    (CELL, {"field": "label"}, "Choose a column of the table."),
    (CELL, {"field": ""}, "Choose a column of the table."),
    (
        CELL,
        {"field": "they_commit"},
        "This column opens when someone of that service is in the room.",
    ),
    (CELL, {"row": "-1"}, "This row is no longer in the table."),
    (
        MEETING,
        {"met": "", "met_on": "2026-01-02"},
        "Tick that you met the interface before giving a date.",
    ),
    (MEETING, {"met_on": "32/13/2026"}, "Give the date as day, month and year."),
    (MEETING, {"met_on": "2999-01-01"}, "The meeting's date cannot be in the future."),
    (NEW_PROMISE, {"client": ""}, "This promise is already on the board."),
    (PARAGRAPH, {"position": "9"}, None),
    (PARAGRAPH, {"position": "abc"}, "Choose a paragraph of the promise."),
    (PARAGRAPH, {"position": "1", "text": ""}, "Write the paragraph."),
    (PARAGRAPH, {"promise": HUGE}, "This promise is no longer on the board."),
    (KEEP, {"text": ""}, "Write the way of working."),
    (SIGN_PROMISE, {"promise": "abc"}, "This promise is no longer on the board."),
    (NEW_COMMITMENT, {"text": ""}, "Complete the sentence."),
    (NEW_COMMITMENT, {"text": "\u202e\u2066\x07"}, "Complete the sentence."),
    (NEW_COMMITMENT, {"sentence": "both"}, "Choose one of the two sentences."),
    (NEW_COMMITMENT, {"sentence": ""}, "Choose one of the two sentences."),
    (NEW_COMMITMENT, {"sentence": "relation", "target": "x" * 500}, "Choose whom it is about."),
    (
        NEW_COMMITMENT,
        {"sentence": "relation", "target": "mapping.actor:999999"},
        "This actor is no longer on the map.",
    ),
    (
        NEW_COMMITMENT,
        {"sentence": "relation", "target": "other", "target_name": " \t "},
        "Write the name of the service or person.",
    ),
    (
        NEW_COMMITMENT,
        {"sentence": "relation", "target": "journeys.postit:1"},
        "This actor is no longer on the map.",
    ),
    (NEW_COMMITMENT, {"as_participant": "1"}, "Only the facilitator can write for someone else."),
    (EDIT_COMMITMENT, {"text": ""}, "Complete the sentence."),
    (
        EDIT_COMMITMENT,
        {"sentence": "relation", "target": "other", "target_name": ""},
        "Write the name of the service or person.",
    ),
    (EDIT_COMMITMENT, {"target_name": "é" * 121}, None),
    (TREE_VIEW, {"view": "pie"}, "Show the tree or the alliance map."),
    (TREE_VIEW, {"view": ""}, "Show the tree or the alliance map."),
]


def test_it_refuses_unknown_values_and_wrong_types_with_a_message(world):
    problems = []
    for route, fields, message in UNKNOWN_OR_WRONG:
        data = _fields(world, route) | fields | {"op_id": "unknown-values-0001"}
        response, touched, flashed = _try(world, route, data=data)
        if touched or response.status_code >= 500 or not refused(response, flashed, message):
            problems.append(f"{route} {fields}: {response.status_code} {touched}")
    assert not problems, "\n".join(problems)


def test_it_answers_ids_beyond_any_integer_with_404(world):
    client = world.client("camille")
    for path in (
        f"/workshops/{HUGE}/",
        f"/w/{HUGE}/",
        f"/w/{world.workshop.pk}/postits/{HUGE}/",
        f"/workshops/{world.workshop.pk}/stages/{HUGE}/edit/",
        f"/w/{world.workshop.pk}/stages/{world.map.pk}/actors/{HUGE}/edit/",
        f"/w/{world.workshop.pk}/flows/{HUGE}/edit/",
        f"/w/{world.workshop.pk}/journey-postits/{HUGE}/edit/",
        f"/w/{world.workshop.pk}/stages/{HUGE}/journey/",
    ):
        assert client.get(path, **HTMX).status_code == 404, path


# Oversized fields and bodies ------------------------------------------------

TOO_LONG = "Too long: %(length)d characters, %(max)d at most."

OVERSIZED = [
    (ADD_POSTIT, "text", 501, 500),
    (ADD_POSTIT, "text", 10_000, 500),
    ("w/<int:pk>/postits/<int:postit_pk>/edit/", "text", 10_000, 500),
    ("workshops/<int:pk>/stages/<int:stage_pk>/themes/", "name", 81, 80),
    ("workshops/<int:pk>/themes/<int:cluster_pk>/rename/", "name", 10_000, 80),
    (NEW_ACTOR, "name", 10_000, 80),
    (NEW_ACTOR, "description", 10_000, 300),
    ("w/<int:pk>/stages/<int:stage_pk>/actors/<str:ref>/edit/", "name", 81, 80),
    (NEW_FLOW, "label", 10_000, 120),
    (NEW_FLOW, "they_expect", 10_000, 500),
    ("w/<int:pk>/flows/<int:flow_pk>/edit/", "mismatch", 10_000, 500),
    ("workshops/<int:pk>/edit/", "title", 10_000, None),
    ("workshops/<int:pk>/edit/", "intention", 10_000, None),
    ("workshops/<int:pk>/stages/add/", "title", 10_000, None),
    ("workshops/<int:pk>/stages/<int:stage_pk>/edit/", "instructions", 10_000, None),
    (ADD_PARTICIPANT, "display_name", 10_000, None),
    (ADD_PARTICIPANT, "organisation", 10_000, None),
    (NEW_IDEA, "text", 501, 500),
    (NEW_IDEA, "text", 10_000, 500),
    (NEW_CHALLENGE, "text", 301, 300),
    (OPEN_VOTE, "first_label", 61, 60),
    (OPEN_VOTE, "second_label", 10_000, 60),
    (J_POSTIT, "text", 501, 500),
    (J_EDIT, "text", 10_000, 500),
    ("w/<int:pk>/stages/<int:stage_pk>/journey/steps/", "name", 81, 80),
    ("w/<int:pk>/stages/<int:stage_pk>/journey/situations/", "name", 10_000, 80),
    ("workshops/<int:pk>/journey-situations/<int:situation_pk>/edit/", "name", 81, 80),
    (J_STEP, "name", 10_000, 80),
    (ADD_TENSION, "text", 501, 500),
    (ADD_CAUSE, "text", 301, 300),
    (ADD_OPPORTUNITY, "text", 10_000, 300),
    (ADD_CHALLENGE, "text", 271, 270),
    (NEW_SHEET, "title", 161, 160),
    (EDIT_SHEET, "value", 10_000, 1000),
    (NEW_ROW, "label", 121, 120),
    (CELL, "text", 501, 500),
    (CELL, "text", 10_000, 500),
    (MEETING, "feedback", 1001, 1000),
    (NEW_PROMISE, "client", 121, 120),
    (PARAGRAPH, "text", 301, 300),
    (KEEP, "text", 161, 160),
    (NEW_COMMITMENT, "text", 301, 300),
    (NEW_COMMITMENT, "text", 10_000, 300),
    (EDIT_COMMITMENT, "text", 10_000, 300),
]


def test_it_refuses_oversized_fields_with_a_message(world):
    problems = []
    for route, name, length, limit in OVERSIZED:
        data = _fields(world, route) | {name: "é" * length, "op_id": "oversized-field-01"}
        response, touched, flashed = _try(world, route, data=data)
        body = response.content.decode()
        if limit is not None:
            message = french(TOO_LONG) % {"length": length, "max": limit}
            ok = response.status_code == 400 and escape(message) in body
        else:  # a Django form: its own message, in French
            ok = refused(response, flashed) and "caractères" in body
        if touched or not ok:
            problems.append(f"{route} {name}×{length}: {response.status_code} {touched}")
    assert not problems, "\n".join(problems)


def test_it_refuses_a_10000_character_name_or_organisation_at_the_door(world):
    client = Client()
    join = reverse("join", args=[world.workshop.join_token])
    count = Participant.objects.count()
    for fields in (
        {"display_name": "Z" * 10_000, "profile": "agent"},
        {"display_name": "Zoé", "profile": "agent", "organisation": "O" * 10_000},
        {"display_name": "Zoé", "profile": "king"},
        {"display_name": "\x00", "profile": "agent"},
        {"display_name": "\u202e\u2066\x07", "profile": "agent"},
    ):
        response = client.post(join, fields)
        assert response.status_code == 400, fields
        assert "invalid-feedback" in response.content.decode(), fields
    assert Participant.objects.count() == count


def test_it_refuses_bodies_above_the_upload_limit_early(world, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 256 * 1024
    for size in (300 * 1024, 3 * 1024 * 1024 // 2):
        for route in (ADD_POSTIT, "workshops/<int:pk>/lock/", "w/<int:pk>/done/"):
            data = _fields(world, route) | {"text": "x" * size, "op_id": "big-body-00001"}
            response, touched, _flashed = _try(world, route, data=data)
            assert response.status_code in (400, 413), (route, size, response.status_code)
            assert not touched


# A hostile import: refused in the facilitator's language, nothing stored ------

HOSTILE_IMPORTS = [
    ("postit", "x" * 10_002, "Too long: %(length)d characters, %(max)d at most.", (10_002, 500)),
    (
        "column",
        'k"><img src=x onerror=alert(1)>',
        "Use lowercase letters, digits, “-” and “_” only.",
        None,
    ),
    ("kind", "<script>", "This export holds a stage of an unknown kind: %(kind)s.", "<script>"),
]


def _hostile_document(world, what, value):
    from workshops.exports import transfer

    document = json.loads(json.dumps(transfer.export_workshop(world.workshop)))
    wall = next(s for s in document["stages"] if s["kind"] in ("framing", "wall"))
    if what == "postit":
        wall["data"]["postits"] = [{"column": wall["config"]["columns"][0]["key"], "text": value}]
    elif what == "column":
        wall["config"]["columns"][0]["key"] = value
    else:
        document["stages"][0]["kind"] = value
    return json.dumps(document).encode()


@pytest.mark.parametrize(("what", "value", "message", "args"), HOSTILE_IMPORTS)
def test_it_refuses_a_hostile_import_in_french_and_stores_nothing(
    world, what, value, message, args
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("x.json", _hostile_document(world, what, value))
    with transaction.atomic():
        client = world.client("camille")
        before = fingerprint()
        response = client.post(reverse("exports:import"), {"file": upload})
        touched = changed(before, fingerprint())
        flashed = [str(m) for m in get_messages(response.wsgi_request)]
        transaction.set_rollback(True)
    assert response.status_code == 302 and not touched
    expected = french(message)
    if isinstance(args, tuple):
        expected = expected % {"length": args[0], "max": args[1]}
    elif args is not None:
        expected = expected % {"kind": args}
    assert any(expected in m for m in flashed), flashed


# Control characters, right-to-left overrides, emoji ------------------------

EMOJI = "👩‍💻 🇫🇷 👍🏽 1️⃣ 🏴󠁧󠁢󠁳󠁣󠁴󠁿"
# No NUL: Django's forms refuse it outright (a 400 with its own message, tested above).
HOSTILE = "\x07\x1b\x7f\u0085\u202e\u202a\u2066\u2067\u2068\u2069\u200e\u200f"
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def clean(value, multiline=False):
    """No control character (but line breaks in long text), no bidi override."""
    allowed = "\n\r\t" if multiline else ""
    return not any(
        (unicodedata.category(ch) == "Cc" and ch not in allowed) or ch in BIDI for ch in value
    )


def test_it_keeps_emoji_and_drops_control_and_bidi_characters_everywhere(world):
    typed = f"Zoé{HOSTILE} {EMOJI}"
    client = world.client("camille")
    w = world.workshop
    client.post(
        reverse("workshops:edit", args=[w.pk]),
        {
            "title": typed,
            "observed_service": typed,
            "perimeter": typed + "\nligne 2",
            "intention": typed,
            "language": "fr",
            "op_id": "controls-ws-0001",
        },
    )
    client.post(
        reverse("workshops:stage_edit", args=[w.pk, world.wall.pk]),
        {
            "title": typed,
            "kind": "wall",
            "duration_minutes": "10",
            "instructions": typed,
            "columns_text": f"{typed} | red",
            "op_id": "controls-stage-01",
        },
    )
    client.post(
        reverse("journeys:cluster_rename", args=[w.pk, world.cluster.pk]),
        {"name": typed, "op_id": "controls-theme-01"},
        **HTMX,
    )
    phone = Client()
    phone.post(
        reverse("join", args=[w.join_token]),
        {"display_name": typed, "profile": "agent", "organisation": typed},
    )
    alice = world.client("alice")
    route = ADD_POSTIT
    alice.post(
        url_for(route, world.ids(route)),
        _fields(world, route) | {"text": typed, "op_id": "controls-postit-1"},
        **HTMX,
    )
    Workshop.objects.filter(pk=w.pk).update(current_stage=world.map)
    alice.post(
        reverse("mapping:actor_new", args=[w.pk, world.map.pk]),
        {"name": typed, "circle": "suppliers", "description": typed, "op_id": "controls-actor1"},
        **HTMX,
    )
    alice.post(
        reverse("mapping:flow_edit", args=[w.pk, world.flow.pk]),
        _fields(world, "w/<int:pk>/flows/<int:flow_pk>/edit/")
        | {"label": typed, "they_expect": typed, "op_id": "controls-flow-001"},
        **HTMX,
    )

    workshop = Workshop.objects.get(pk=w.pk)
    stage = Stage.objects.get(pk=world.wall.pk)
    values = {
        "workshop title": workshop.title,
        "observed service": workshop.observed_service,
        "perimeter": workshop.perimeter,
        "intention": workshop.intention,
        "stage title": stage.title,
        "instructions": stage.instructions,
        "column": stage.config["columns"][0]["label"],
        "theme": Cluster.objects.get(pk=world.cluster.pk).name,
        "name": Participant.objects.order_by("-pk").first().display_name,
        "organisation": Participant.objects.order_by("-pk").first().organisation,
        "post-it": PostIt.objects.order_by("-pk").first().text,
        "actor": Actor.objects.order_by("-pk").first().name,
        "actor description": Actor.objects.order_by("-pk").first().description,
        "flow": Flow.objects.get(pk=world.flow.pk).label,
        "flow answer": Flow.objects.get(pk=world.flow.pk).they_expect,
    }
    problems = []
    for name, value in values.items():
        multiline = name in ("perimeter", "instructions", "post-it", "flow answer")
        if not clean(value, multiline):
            problems.append(f"{name}: control or bidi characters kept: {value!r}")
        if "Zoé" not in value:
            problems.append(f"{name}: the text was not saved: {value!r}")
        elif name != "column" and EMOJI not in value:  # a column label is cut at 60
            problems.append(f"{name}: emoji mangled: {value!r}")
    assert not problems, "\n".join(problems)


# Floods and rate limits ------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    return now


TOO_MANY = "Too many requests at once. Wait a few seconds, then try again."


def test_it_throttles_one_flooding_participant_and_not_the_others(world, settings, clock):
    limit = settings.RECIPROQUE["RATE_LIMIT_PER_PARTICIPANT"]
    assert limit == 20
    done = reverse("workshops:done", args=[world.workshop.pk])
    alice, bruno = world.client("alice"), log_in_participant(Client(), world.bruno)
    for i in range(limit):
        response = alice.post(done, {"done": str(i % 2), "op_id": f"flood-alice-{i:05d}"}, **HTMX)
        assert response.status_code == 200, i
    seq = Workshop.objects.get(pk=world.workshop.pk).seq
    response = alice.post(done, {"done": "1", "op_id": "flood-alice-over1"}, **HTMX)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= settings.RECIPROQUE["RATE_LIMIT_WINDOW_SECONDS"]
    assert escape(french(TOO_MANY)) in response.content.decode()
    assert 'id="toast"' in response.content.decode()
    # Nothing was applied, and Bruno writes as usual.
    assert Workshop.objects.get(pk=world.workshop.pk).seq == seq
    assert bruno.post(done, {"done": "1", "op_id": "bruno-not-flooding"}, **HTMX).status_code == 200
    # Without htmx (no JavaScript): a page that says so, still a 429.
    page = alice.post(done, {"done": "1", "op_id": "flood-alice-page1"})
    assert page.status_code == 429
    assert escape(french(TOO_MANY)) in page.content.decode()
    # The next window, Alice writes again.
    clock[0] += settings.RECIPROQUE["RATE_LIMIT_WINDOW_SECONDS"]
    assert alice.post(done, {"done": "1", "op_id": "flood-alice-later"}, **HTMX).status_code == 200


def test_it_throttles_one_address_and_not_another(world, settings, clock):
    settings.RECIPROQUE["RATE_LIMIT_PER_ADDRESS"] = 12
    nat = {"REMOTE_ADDR": "192.0.2.10"}
    done = reverse("workshops:done", args=[world.workshop.pk])
    people = [world.client("alice"), log_in_participant(Client(), world.bruno)]
    for i in range(12):
        response = people[i % 2].post(done, {"done": "1", "op_id": f"nat-{i:012d}"}, **HTMX, **nat)
        assert response.status_code == 200, i
    over = people[0].post(done, {"done": "1", "op_id": "nat-over-limit"}, **HTMX, **nat)
    assert over.status_code == 429
    assert escape(french(TOO_MANY)) in over.content.decode()
    # Any write from that address, joining and guessing codes included.
    anonymous = Client()
    assert anonymous.post(reverse("join_code"), {"code": "QQQQQQ"}, **nat).status_code == 429
    join = reverse("join", args=[world.workshop.join_token])
    count = Participant.objects.count()
    assert anonymous.post(join, {"display_name": "Zoé", "profile": "agent"}, **nat).status_code == (
        429
    )
    assert Participant.objects.count() == count
    # Another address is not concerned; reading is never throttled.
    other = {"REMOTE_ADDR": "192.0.2.99"}
    assert (
        people[1].post(done, {"done": "0", "op_id": "other-address-1"}, **HTMX, **other).status_code
        == 200
    )
    assert (
        people[0].get(reverse("workshops:live", args=[world.workshop.pk]), **nat).status_code == 200
    )


def test_it_says_too_many_in_the_workshops_language(world, settings, clock):
    settings.RECIPROQUE["RATE_LIMIT_PER_ADDRESS"] = 1
    Workshop.objects.filter(pk=world.workshop.pk).update(language="en")
    join = reverse("join", args=[world.workshop.join_token])
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.post(join, {"display_name": "", "profile": "agent"})
    response = client.post(join, {"display_name": "Zoé", "profile": "agent"})
    assert response.status_code == 429
    assert TOO_MANY in response.content.decode().replace("&#x27;", "'")


def test_it_lets_writes_through_when_the_cache_is_down(world, monkeypatch):
    """A limiter must not turn a Redis hiccup into a room that cannot write."""
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", down)
    monkeypatch.setattr(cache, "get", down)
    done = reverse("workshops:done", args=[world.workshop.pk])
    alice = world.client("alice")
    for i in range(3):
        response = alice.post(done, {"done": "1", "op_id": f"cache-down-{i:06d}"}, **HTMX)
        assert response.status_code == 200
    assert Client().post(reverse("join_code"), {"code": "QQQQQQ"}).status_code == 404


def test_it_takes_the_limits_from_settings_and_the_environment(settings, monkeypatch, tmp_path):
    import runpy

    # The defaults (this process's settings come from the same module, without the variables).
    if "RATE_LIMIT_PER_ADDRESS" not in os.environ:
        assert settings.RECIPROQUE["RATE_LIMIT_PER_ADDRESS"] == 200
    if "RATE_LIMIT_PER_PARTICIPANT" not in os.environ:
        assert settings.RECIPROQUE["RATE_LIMIT_PER_PARTICIPANT"] == 20
    assert settings.RECIPROQUE["RATE_LIMIT_WINDOW_SECONDS"] == 10
    monkeypatch.setenv("RECIPROQUE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RATE_LIMIT_PER_ADDRESS", "100000")
    monkeypatch.setenv("RATE_LIMIT_PER_PARTICIPANT", "5000")
    raised = runpy.run_path(str(ROOT / "config" / "settings.py"))["RECIPROQUE"]
    assert raised["RATE_LIMIT_PER_ADDRESS"] == 100000
    assert raised["RATE_LIMIT_PER_PARTICIPANT"] == 5000
    # `make bench` raises both: ~100 writes/s from 127.0.0.1 must not be throttled.
    bench = (ROOT / "bench" / "run.py").read_text()
    assert 'RATE_LIMIT_PER_ADDRESS="1000000"' in bench
    assert 'RATE_LIMIT_PER_PARTICIPANT="1000000"' in bench
    # The offline queue keeps a throttled post-it and retries it.
    assert "response.status === 429" in (ROOT / "static" / "js" / "live.js").read_text()


# The websocket, in process ------------------------------------------------

SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
WAIT = 3

# (what is sent, the error code expected back)
BAD_FRAMES = [
    ("not json", "json"),
    ('{"type": "hel', "json"),  # truncated
    ('{"type": "hello", "last_seq": 1', "json"),
    ("[1, 2, 3]", "json"),
    ('"hello"', "json"),
    ("null", "json"),
    ("42", "json"),
    ("{}", "type"),
    ('{"type": "nope"}', "type"),
    ('{"type": 5}', "type"),
    ('{"type": null}', "type"),
    ('{"type": ["hello"]}', "type"),
    ('{"type": {"x": 1}}', "type"),
    ('{"type": "HELLO"}', "type"),
    ('{"type": "hello\\u0000"}', "type"),
    ('{"type": "\\u202eolleh"}', "type"),
    ('{"type": "👋"}', "type"),
    ('{"type": "write", "text": "post-it over the socket"}', "type"),
    (json.dumps({"type": "ping", "pad": "x" * 5000}), "frame"),  # above MAX_FRAME
    ("x" * 100_000, "frame"),
]
# hello with a last_seq that is not a usable integer: a snapshot, not an error.
ODD_HELLOS = ['"41"', "true", "null", "1e999", "NaN", "-5", str(10**200), "[1]", "41.5"]


async def _socket(workshop_pk, cookie):
    from config.asgi import application

    socket = WebsocketCommunicator(
        application, f"/ws/w/{workshop_pk}/", headers=[*SAME_ORIGIN, (b"cookie", cookie.encode())]
    )
    connected, _code = await socket.connect(timeout=WAIT)
    assert connected
    return socket


async def _reply(socket, text=None, binary=None):
    await socket.send_to(text_data=text, bytes_data=binary)
    return json.loads(await socket.receive_from(timeout=WAIT))


def _cookie(client):
    from django.conf import settings

    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@pytest.mark.django_db(transaction=True)
async def test_it_answers_bad_frames_with_an_error_and_nobody_else_notices(room, settings):
    from workshops.live.hub import hub

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    workshop = room.workshop
    alice_cookie = await sync_to_async(lambda: _cookie(log_in_participant(Client(), room.alice)))()
    bruno_cookie = await sync_to_async(lambda: _cookie(log_in_participant(Client(), room.bruno)))()
    alice = await _socket(workshop.pk, alice_cookie)
    bruno = await _socket(workshop.pk, bruno_cookie)
    try:
        seq = await sync_to_async(lambda: Workshop.objects.get(pk=workshop.pk).seq)()
        events = await sync_to_async(Event.objects.count)()
        for socket in (alice, bruno):
            assert (await _reply(socket, json.dumps({"type": "hello", "last_seq": seq})))[
                "type"
            ] == "synced"

        problems = []
        for text, code in BAD_FRAMES:
            reply = await _reply(alice, text)
            if reply != {"type": "error", "code": code}:
                problems.append(f"{text[:40]!r}: {reply}")
        reply = await _reply(alice, binary=b"\x00\xff" * 10)
        if reply != {"type": "error", "code": "frame"}:
            problems.append(f"binary frame: {reply}")
        for last_seq in ODD_HELLOS:
            reply = await _reply(alice, f'{{"type": "hello", "last_seq": {last_seq}}}')
            if reply.get("type") != "snapshot":
                problems.append(f"hello last_seq={last_seq}: {reply.get('type')}")
        assert not problems, "\n".join(problems)

        # A flood of pings: each is answered, in order, and the socket stays fine.
        for _ in range(300):
            await alice.send_to(text_data='{"type": "ping"}')
        for _ in range(300):
            assert json.loads(await alice.receive_from(timeout=WAIT))["type"] == "pong"

        # Nothing was written; and a real write still reaches both phones.
        assert await sync_to_async(Event.objects.count)() == events
        await sync_to_async(_write, thread_sensitive=False)(room)
        for socket in (alice, bruno):
            frame = json.loads(await socket.receive_from(timeout=WAIT))
            assert frame["seq"] == seq + 1
    finally:
        await alice.disconnect()
        await bruno.disconnect()
        hub.rooms.clear()
        hub.delivered.clear()
        await sync_to_async(connections.close_all)()


def _write(room):
    stage = room.stage
    fields = {"column": columns_of(stage)[0]["key"]}
    if colour_choices(stage):
        fields["colour"] = colour_choices(stage)[0]["value"]
    journeys.add_postit(stage, participant=room.bruno, text="Toujours là", **fields)
    connections.close_all()


@pytest.mark.django_db(transaction=True)
async def test_it_answers_a_deeply_nested_frame_with_an_error(room, settings):
    from workshops.live.hub import hub

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cookie = await sync_to_async(lambda: _cookie(log_in_participant(Client(), room.alice)))()
    alice = await _socket(room.workshop.pk, cookie)
    try:
        await alice.send_to(text_data="[" * 2000 + "]" * 2000)  # 4000 characters
        reply = json.loads(await alice.receive_from(timeout=1))
        assert reply == {"type": "error", "code": "json"}
        assert (await _reply(alice, '{"type": "ping"}'))["type"] == "pong"
    finally:
        await alice.disconnect()
        hub.rooms.clear()
        await sync_to_async(connections.close_all)()


# The websocket and the body limit, on a real Daphne -----------------------


def _ws(server, cookie, **options):
    return websockets.sync.client.connect(
        f"ws://{server.host}/ws/w/{server.room['workshop']}/",
        origin=server.url,
        additional_headers={"Cookie": cookie},
        open_timeout=10,
        close_timeout=5,
        **options,
    )


@pytest.fixture(scope="module")
def real_server():
    """The real Daphne of this test process (tests/test_tokens.py starts it once)."""
    return make_run_server()


def test_it_closes_a_socket_that_sends_more_than_a_mebibyte_and_stays_flat(real_server):
    server = real_server
    cookie = server.join("Wanda")

    def flood_once():
        with _ws(server, cookie, max_size=None) as socket:
            socket.send('{"type": "ping"}')
            assert json.loads(socket.recv(timeout=10))["type"] == "pong"
            socket.send("x" * 8_192)  # above our limit: an error frame
            assert json.loads(socket.recv(timeout=10)) == {"type": "error", "code": "frame"}
            socket.send("x" * (3 * 1024 * 1024 // 2))  # above Daphne's 1 MiB: closed
            with pytest.raises(websockets.ConnectionClosed) as closed:
                socket.recv(timeout=10)
            # 1009 "message too big", unless the connection was cut before it arrived.
            assert closed.value.rcvd is None or closed.value.rcvd.code == 1009

    def big_body():
        return _post_big_body(server, f"/w/{server.room['workshop']}/done/")

    with _ws(server, server.join("Xavier")) as bystander:
        bystander.send('{"type": "hello", "last_seq": 0}')
        assert json.loads(bystander.recv(timeout=10))["type"] == "snapshot"
        flood_once()  # warm up: the first time allocates what later times reuse
        big_body()
        before = server.rss_kib()
        for _ in range(15):
            flood_once()
            assert big_body() in (400, 403, 413)
        after = server.rss_kib()
        assert after - before < 40 * 1024, f"RSS grew from {before} KiB to {after} KiB"
        # The bystander never noticed.
        bystander.send('{"type": "ping"}')
        assert json.loads(bystander.recv(timeout=10))["type"] == "pong"
    assert "Traceback" not in server.output()


def _post_big_body(server, path):
    """POST a 1.5 MiB form body with urllib; the status code."""
    import urllib.error
    import urllib.request

    body = b"done=1&text=" + b"x" * (3 * 1024 * 1024 // 2)
    request = urllib.request.Request(
        server.url + path,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    opener = server.opener()
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_it_never_applies_a_body_cut_by_the_network(real_server):
    """Content-Length says more than arrives: the request never reaches a view."""
    import socket
    import sqlite3

    server = real_server
    cookie = server.join("Yann")
    database = server.var_dir / "reciproque.sqlite3"

    def postits():
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM journeys_postit").fetchone()[0]

    before = postits()
    body = b"text=Coup%C3%A9+en+plein+vol&op_id=cut-by-the-network-1"
    host, port = server.host.split(":")
    path = f"/w/{server.room['workshop']}/stages/{server.room['wall']}/postits/"
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {server.host}\r\nCookie: {cookie}\r\n"
            "HX-Request: true\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body) + 40}\r\n\r\n".encode()
            + body
        )
        raw.shutdown(socket.SHUT_WR)
        raw.settimeout(5)
        try:
            answer = raw.recv(1000)
        except TimeoutError:
            answer = b""
    assert not answer.startswith(b"HTTP/1.1 200"), answer
    assert postits() == before


@pytest.mark.django_db(transaction=True)
async def test_it_folds_a_flood_of_hellos_into_few_snapshots(room, settings):
    """A snapshot is real server work: a page saying hello in a loop gets one a second."""
    from workshops.live.hub import hub

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cookie = await sync_to_async(lambda: _cookie(log_in_participant(Client(), room.alice)))()
    await sync_to_async(
        lambda: journeys.add_postit(room.stage, participant=room.bruno, text="Un mot")
    )()
    alice = await _socket(room.workshop.pk, cookie)
    try:
        for _ in range(30):
            await alice.send_to(text_data=json.dumps({"type": "hello", "last_seq": 0}))
        # (A receive timeout would cancel the consumer: wait, then read up to a pong.)
        await asyncio.sleep(1.6)
        await alice.send_to(text_data='{"type": "ping"}')
        kinds = []
        while not kinds or kinds[-1] != "pong":
            kinds.append(json.loads(await alice.receive_from(timeout=5)).get("type"))
        # The first at once, the other 29 folded into one, a second later.
        assert kinds.count("snapshot") == 2
    finally:
        await alice.disconnect()
        hub.rooms.clear()
        await sync_to_async(connections.close_all)()
