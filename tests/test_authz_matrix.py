"""Who may do what: every URL of the project and every websocket message, for every persona.

The URL conf is walked, and each pattern must be classified in `ROUTES`: an
endpoint added without a line here fails `test_it_classifies_every_url`. Each
classified action is then tried by the six personas (the facilitator of this
workshop, the facilitator of another, a participant, a removed participant, a
participant of another workshop, a stranger), and every forbidden cell must be
refused and change nothing. Ids that belong to another workshop get 404, never
data. The websocket gets the same treatment: the message types the consumer
answers are probed, each must be classified, and each role is tried by each
persona.
"""

import ast
import inspect
import json
from dataclasses import dataclass

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from commitments.ideas import actions as ideas
from commitments.promise import actions as promise
from commitments.reciprocal import actions as reciprocal
from commitments.sheets import actions as sheets
from commitments.tree import actions as tree
from commitments.votes import actions as votes
from journeys import actions as journeys
from journeys.journey import actions as journey
from journeys.kinds import colour_choices, columns_of
from journeys.tensions import actions as matrix
from mapping import actions as mapping
from workshops import actions, trace
from workshops.exports import report
from workshops.models import Profile, Workshop
from workshops.trace import ref

from .base import Room, log_in_participant

# Access classes -----------------------------------------------------------------------------

PUBLIC = "public"  # anyone
LOGIN = "login"  # any facilitator account
FACILITATOR = "facilitator"  # the facilitator of this workshop only
MEMBER = "member"  # the facilitator, or an active participant of this workshop
PARTICIPANT = "participant"  # an active participant of this workshop only
ADMIN = "admin"  # Django's admin: staff only, and no persona is staff

PERSONAS = ("camille", "oscar", "alice", "removed", "olga", "anonymous")
LOGIN_REDIRECT = "login redirect"
ADMIN_REDIRECT = "admin login redirect"

ALLOWED = {
    PUBLIC: set(PERSONAS),
    LOGIN: {"camille", "oscar"},
    FACILITATOR: {"camille"},
    MEMBER: {"camille", "alice"},
    PARTICIPANT: {"alice"},
    ADMIN: set(),
}

# How a forbidden cell is refused.
REFUSAL = {
    LOGIN: dict.fromkeys(("alice", "removed", "olga", "anonymous"), LOGIN_REDIRECT),
    FACILITATOR: {
        "oscar": 404,  # another facilitator's workshop does not exist for him
        **dict.fromkeys(("alice", "removed", "olga", "anonymous"), LOGIN_REDIRECT),
    },
    MEMBER: dict.fromkeys(("oscar", "removed", "olga", "anonymous"), 403),
    PARTICIPANT: dict.fromkeys(("camille", "oscar", "removed", "olga", "anonymous"), 403),
    ADMIN: dict.fromkeys(PERSONAS, ADMIN_REDIRECT),
}


@dataclass
class Route:
    access: str
    methods: tuple = ("GET",)
    data: object = None  # dict, or a function of the world giving the POST data
    stage: str = "wall"  # which stage <stage_pk> names, and which one is current


def _postit_fields(world):
    stage = world.wall
    data = {"text": "Encore un irritant", "column": columns_of(stage)[0]["key"]}
    if colour_choices(stage):
        data["colour"] = colour_choices(stage)[0]["value"]
    return data


def _flow_fields(world):
    return {"source": str(world.actor.pk), "target": "centre", "kind": "request", "label": "Devis"}


def _journey_postit_fields(world):
    return {
        "situation": world.situation.pk,
        "step": world.step.pk,
        "perspective": "client",
        "colour": "red",
        "text": "Personne ne répond",
    }


def _journey_rating(world):
    return {
        "situation": world.situation.pk,
        "step": world.step.pk,
        "perspective": "client",
        "value": "-1",
    }


def _sign_fields(world):
    from commitments.sheets.kinds import sheets_of

    [sheet] = sheets_of(world.sheets, pk=world.sheet.pk)
    return {"hash": sheet.hash, "confirm": "1"}


STAGE_FIELDS = {"title": "Étape", "kind": "wall", "duration_minutes": "10", "instructions": ""}

ROUTES = {
    "": Route(PUBLIC),
    "setup/": Route(PUBLIC),
    "signup/": Route(PUBLIC),
    "login/": Route(PUBLIC),
    "logout/": Route(PUBLIC, ("POST",)),
    "join/": Route(PUBLIC, ("GET", "POST"), {"code": "QQQQQQ"}),
    "j/<str:token>/": Route(PUBLIC),
    # A phone without its session asks to be someone again; only the facilitator decides.
    "j/<str:token>/retrouver/": Route(
        PUBLIC, ("POST",), lambda world: {"participant": world.bruno.pk}
    ),
    "j/<str:token>/retrouver/attente/": Route(PUBLIC),
    "workshops/<int:pk>/reclaims/": Route(FACILITATOR),
    "workshops/<int:pk>/reclaims/<int:reclaim_pk>/decide/": Route(
        FACILITATOR, ("POST",), {"accept": "0"}
    ),
    "i18n/setlang/": Route(PUBLIC, ("POST",), {"language": "en", "next": "/"}),
    "favicon.ico": Route(PUBLIC),
    "admin/": Route(ADMIN),  # every admin/… pattern: see _classify()
    "workshops/": Route(LOGIN),
    "workshops/new/": Route(LOGIN),
    "workshops/import/": Route(LOGIN, ("POST",)),
    "workshops/<int:pk>/": Route(FACILITATOR),
    "workshops/<int:pk>/edit/": Route(
        FACILITATOR, ("GET", "POST"), {"title": "Atelier renommé", "language": "fr"}
    ),
    "workshops/<int:pk>/delete/": Route(FACILITATOR, ("POST",)),
    "workshops/<int:pk>/projector/": Route(FACILITATOR),
    "workshops/<int:pk>/projector/state/": Route(
        FACILITATOR, ("POST",), {"instructions": "shown", "qr": "large"}
    ),
    "workshops/<int:pk>/presence/": Route(FACILITATOR),
    "workshops/<int:pk>/qr.svg": Route(FACILITATOR),
    "workshops/<int:pk>/timer/": Route(FACILITATOR, ("POST",), {"command": "start", "minutes": 5}),
    "workshops/<int:pk>/lock/": Route(FACILITATOR, ("POST",), {"locked": "1"}),
    "workshops/<int:pk>/join-link/renew/": Route(FACILITATOR, ("POST",)),
    "workshops/<int:pk>/participants/<int:participant_pk>/remove/": Route(FACILITATOR, ("POST",)),
    "workshops/<int:pk>/participants/add/": Route(
        FACILITATOR, ("POST",), {"display_name": "Denise", "profile": "partner"}
    ),
    # The world's last move (to the wall) came from the ideas stage: that is where back goes.
    "workshops/<int:pk>/stages/back/": Route(
        FACILITATOR, ("POST",), lambda world: {"stage": world.workshop.previous_stage_id}
    ),
    "workshops/<int:pk>/stages/add/": Route(FACILITATOR, ("GET", "POST"), STAGE_FIELDS),
    "workshops/<int:pk>/stages/<int:stage_pk>/edit/": Route(
        FACILITATOR, ("GET", "POST"), STAGE_FIELDS
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/delete/": Route(FACILITATOR, ("POST",)),
    "workshops/<int:pk>/stages/<int:stage_pk>/move/": Route(
        FACILITATOR, ("POST",), {"direction": "up"}
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/go/": Route(FACILITATOR, ("POST",)),
    "workshops/<int:pk>/stages/<int:stage_pk>/reveal/": Route(
        FACILITATOR, ("POST",), {"revealed": "1"}
    ),
    "w/<int:pk>/": Route(PARTICIPANT),
    "w/<int:pk>/done/": Route(PARTICIPANT, ("POST",), {"done": "1"}),
    "w/<int:pk>/stages/<int:stage_pk>/postits/": Route(MEMBER, ("POST",), _postit_fields),
    "w/<int:pk>/stages/<int:stage_pk>/mine/": Route(PARTICIPANT),
    "w/<int:pk>/postits/<int:postit_pk>/": Route(MEMBER),
    "w/<int:pk>/postits/<int:postit_pk>/edit/": Route(
        MEMBER, ("GET", "POST"), {"text": "Reformulé"}
    ),
    "w/<int:pk>/postits/<int:postit_pk>/delete/": Route(MEMBER, ("POST",)),
    "workshops/<int:pk>/stages/<int:stage_pk>/themes/": Route(
        FACILITATOR, ("POST",), {"name": "Délais"}
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/themes/assign/": Route(
        FACILITATOR,
        ("POST",),
        lambda world: {"cluster": world.cluster.pk, "postits": [world.postit.pk]},
    ),
    "workshops/<int:pk>/themes/<int:cluster_pk>/rename/": Route(
        FACILITATOR, ("POST",), {"name": "Délais de réponse"}
    ),
    "workshops/<int:pk>/themes/<int:cluster_pk>/delete/": Route(FACILITATOR, ("POST",)),
    "w/<int:pk>/stages/<int:stage_pk>/actors/new/": Route(
        MEMBER, ("GET", "POST"), {"name": "Achats", "circle": "suppliers"}, stage="map"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/actors/<str:ref>/edit/": Route(
        MEMBER, ("GET", "POST"), {"name": "Achats groupés", "circle": "suppliers"}, stage="map"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/actors/<str:ref>/delete/": Route(
        MEMBER, ("POST",), stage="map"
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/actors/<str:ref>/move/": Route(
        FACILITATOR, ("POST",), {"x": "100", "y": "100"}, stage="map"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/flows/new/": Route(
        MEMBER, ("GET", "POST"), _flow_fields, stage="map"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/map/close/": Route(MEMBER, stage="map"),
    "w/<int:pk>/flows/<int:flow_pk>/edit/": Route(
        MEMBER, ("GET", "POST"), _flow_fields, stage="map"
    ),
    "w/<int:pk>/flows/<int:flow_pk>/delete/": Route(MEMBER, ("POST",), stage="map"),
    "w/<int:pk>/flows/<int:flow_pk>/rate/": Route(
        MEMBER, ("POST",), {"rating": "smooth"}, stage="map"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/ideas/new/": Route(
        MEMBER, ("POST",), {"text": "Un guichet unique", "challenge": ""}, stage="ideas"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/challenges/new/": Route(
        MEMBER, ("POST",), {"text": "répondre plus vite ?"}, stage="ideas"
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/ideas/promote/": Route(
        FACILITATOR, ("POST",), lambda world: {"item": ref(world.postit)}, stage="ideas"
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/ideas/merge/": Route(
        FACILITATOR,
        ("POST",),
        lambda world: {"source": world.idea.pk, "target": world.other_idea.pk},
        stage="ideas",
    ),
    # On a second ideas stage, with no vote open yet.
    "workshops/<int:pk>/stages/<int:stage_pk>/votes/open/": Route(
        FACILITATOR, ("POST",), {"budget": "5", "cap": "2", "double": "1"}, stage="ideas2"
    ),
    "workshops/<int:pk>/votes/<int:vote_pk>/close/": Route(FACILITATOR, ("POST",), stage="ideas"),
    # Alice's dots on Bruno's idea (she has one there already, to take back).
    "w/<int:pk>/votes/<int:vote_pk>/dot/": Route(
        PARTICIPANT,
        ("POST",),
        lambda world: {"item": ref(world.other_idea), "budget": "second"},
        stage="ideas",
    ),
    "w/<int:pk>/votes/<int:vote_pk>/undot/": Route(
        PARTICIPANT,
        ("POST",),
        lambda world: {"item": ref(world.other_idea), "budget": "first"},
        stage="ideas",
    ),
    "w/<int:pk>/votes/<int:vote_pk>/ballot/": Route(PARTICIPANT, stage="ideas"),
    "w/<int:pk>/stages/<int:stage_pk>/journey/": Route(MEMBER, stage="journey"),
    "w/<int:pk>/stages/<int:stage_pk>/journey/close/": Route(MEMBER, stage="journey"),
    "w/<int:pk>/stages/<int:stage_pk>/journey/postits/": Route(
        MEMBER, ("POST",), _journey_postit_fields, stage="journey"
    ),
    "w/<int:pk>/journey-postits/<int:postit_pk>/edit/": Route(
        MEMBER, ("GET", "POST"), _journey_postit_fields, stage="journey"
    ),
    "w/<int:pk>/journey-postits/<int:postit_pk>/delete/": Route(MEMBER, ("POST",), stage="journey"),
    "w/<int:pk>/stages/<int:stage_pk>/journey/rate/": Route(
        PARTICIPANT, ("POST",), _journey_rating, stage="journey"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/journey/situations/": Route(
        MEMBER, ("POST",), {"name": "Livraison ratée"}, stage="journey"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/journey/steps/": Route(
        MEMBER, ("POST",), {"name": "Relance"}, stage="journey"
    ),
    "workshops/<int:pk>/journey-situations/<int:situation_pk>/edit/": Route(
        FACILITATOR, ("POST",), {"name": "Alerte client urgente", "adopt": "1"}, stage="journey"
    ),
    "workshops/<int:pk>/journey-situations/<int:situation_pk>/delete/": Route(
        FACILITATOR, ("POST",), stage="journey"
    ),
    "workshops/<int:pk>/journey-steps/<int:step_pk>/edit/": Route(
        FACILITATOR, ("POST",), {"name": "Premier appel", "moment_of_truth": "1"}, stage="journey"
    ),
    "workshops/<int:pk>/journey-steps/<int:step_pk>/move/": Route(
        FACILITATOR, ("POST",), {"direction": "down"}, stage="journey"
    ),
    "workshops/<int:pk>/journey-steps/<int:step_pk>/delete/": Route(
        FACILITATOR, ("POST",), stage="journey"
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/journey/view/": Route(
        FACILITATOR, ("POST",), {"view": "heatmap"}, stage="journey"
    ),
    "workshops/<int:pk>/promote/": Route(
        FACILITATOR,
        ("POST",),
        lambda world: {"ref": trace.ref(world.red), "stage": world.tensions.pk},
    ),
    "w/<int:pk>/stages/<int:stage_pk>/tensions/": Route(
        MEMBER, ("POST",), {"text": "Des attentes implicites"}, stage="tensions"
    ),
    "workshops/<int:pk>/tensions/<int:tension_pk>/delete/": Route(
        FACILITATOR, ("POST",), stage="tensions"
    ),
    "w/<int:pk>/tensions/<int:tension_pk>/causes/": Route(
        MEMBER, ("POST",), {"kind": "implicit", "text": "Rien d'écrit"}, stage="tensions"
    ),
    "w/<int:pk>/tensions/<int:tension_pk>/opportunities/": Route(
        MEMBER, ("POST",), {"text": "Un contrat de service"}, stage="tensions"
    ),
    "w/<int:pk>/causes/<int:cause_pk>/me-too/": Route(PARTICIPANT, ("POST",), stage="tensions"),
    "w/<int:pk>/opportunities/<int:opportunity_pk>/challenges/": Route(
        MEMBER, ("POST",), {"text": "écrire nos attentes"}, stage="tensions"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/sheets/new/": Route(
        MEMBER, ("GET", "POST"), {"title": "Fiche d’accueil"}, stage="sheets"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/sheets/close/": Route(MEMBER, stage="sheets"),
    "w/<int:pk>/sheets/<int:sheet_pk>/edit/": Route(
        MEMBER, ("POST",), {"field": "test_what", "value": "Un guichet"}, stage="sheets"
    ),
    # Signing is a participant's own act on their own phone; the console enters only the
    # signature of someone it added without a phone (tests/test_sheets.py has the rules).
    "w/<int:pk>/sheets/<int:sheet_pk>/sign/": Route(
        PARTICIPANT, ("GET", "POST"), lambda world: _sign_fields(world), stage="sheets"
    ),
    "workshops/<int:pk>/sheets/<int:sheet_pk>/sign-for/": Route(
        FACILITATOR,
        ("GET", "POST"),
        lambda world: {**_sign_fields(world), "as_participant": str(world.paul.pk)},
        stage="sheets",
    ),
    "w/<int:pk>/sheets/<int:sheet_pk>/calendar.ics": Route(MEMBER, stage="sheets"),
    "workshops/<int:pk>/sheets/calendar.ics": Route(FACILITATOR),
    # The tree allows two each: Alice has written one, and may write another.
    "w/<int:pk>/stages/<int:stage_pk>/commitments/new/": Route(
        MEMBER, ("POST",), {"sentence": "commit", "text": "Répondre vite"}, stage="tree"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/commitments/<int:commitment_pk>/edit/": Route(
        MEMBER,
        ("POST",),
        {"sentence": "relation", "target": "other", "target_name": "DRH", "text": "Un point"},
        stage="tree",
    ),
    "w/<int:pk>/stages/<int:stage_pk>/commitments/<int:commitment_pk>/delete/": Route(
        MEMBER, ("POST",), stage="tree"
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/tree/view/": Route(
        FACILITATOR, ("POST",), {"view": "alliances"}, stage="tree"
    ),
    "workshops/<int:pk>/report/": Route(FACILITATOR, ("POST",)),
    # The table of reciprocal commitments: Alice holds `world.row`; `world.empty_row` is empty.
    "workshops/<int:pk>/stages/<int:stage_pk>/rows/new/": Route(
        FACILITATOR, ("POST",), {"label": "Service achats"}, stage="reciprocal"
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/rows/prefill/": Route(
        FACILITATOR, ("POST",), {"circle": "clients"}, stage="reciprocal"
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/rows/remove/": Route(
        FACILITATOR, ("POST",), lambda world: {"row": world.empty_row.pk}, stage="reciprocal"
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/rows/follow-up/": Route(
        FACILITATOR, ("POST",), {"open": "1"}, stage="reciprocal"
    ),
    # Taking a row, and signing, are a phone's own acts: the facilitator is refused (403).
    "w/<int:pk>/stages/<int:stage_pk>/rows/take/": Route(
        PARTICIPANT, ("POST",), lambda world: {"row": world.empty_row.pk}, stage="reciprocal"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/rows/leave/": Route(
        PARTICIPANT, ("POST",), stage="reciprocal"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/rows/cell/": Route(
        MEMBER,
        ("POST",),
        lambda world: {"row": world.row.pk, "field": "acceptable", "text": "Un délai tenu"},
        stage="reciprocal",
    ),
    "w/<int:pk>/stages/<int:stage_pk>/rows/meeting/": Route(
        MEMBER,
        ("POST",),
        lambda world: {"row": world.row.pk, "met": "1", "feedback": "Vu"},
        stage="reciprocal",
    ),
    "w/<int:pk>/stages/<int:stage_pk>/suivi/": Route(MEMBER, stage="reciprocal"),
    # The service promise and its poster.
    "workshops/<int:pk>/stages/<int:stage_pk>/promises/new/": Route(
        FACILITATOR, ("POST",), {"client": "Service achats"}, stage="promise_stage"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/promise/paragraph/": Route(
        MEMBER,
        ("POST",),
        lambda world: {"promise": world.promise.pk, "position": "0", "text": "Nous répondons."},
        stage="promise_stage",
    ),
    "w/<int:pk>/stages/<int:stage_pk>/promise/commitment/": Route(
        MEMBER,
        ("POST",),
        lambda world: {"promise": world.promise.pk, "text": "Rappeler sous 24 h"},
        stage="promise_stage",
    ),
    "w/<int:pk>/stages/<int:stage_pk>/promise/commitment/remove/": Route(
        MEMBER, ("POST",), lambda world: {"commitment": world.way.pk}, stage="promise_stage"
    ),
    "w/<int:pk>/stages/<int:stage_pk>/promise/sign/": Route(
        PARTICIPANT, ("POST",), lambda world: {"promise": world.promise.pk}, stage="promise_stage"
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/promises/<int:promise_pk>/poster.pdf": Route(
        FACILITATOR, stage="promise_stage"
    ),
    # A review: a signatory confirms on their phone (the facilitator is refused, 403).
    "workshops/<int:pk>/reviews/open/": Route(
        FACILITATOR, ("POST",), {"label": "Bilan à six mois", "date": "2027-06-01"}
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/review/record/": Route(
        MEMBER,
        ("POST",),
        lambda world: {"item": ref(world.sheet), "status": "done"},
        stage="review",
    ),
    "workshops/<int:pk>/stages/<int:stage_pk>/review/confirm/": Route(
        PARTICIPANT, ("POST",), lambda world: {"item": ref(world.review_sheet)}, stage="review"
    ),
    "workshops/<int:pk>/reviews/<slug:key>/report.pdf": Route(FACILITATOR, stage="review"),
    "workshops/<int:pk>/reviews/<slug:key>/calendar.ics": Route(MEMBER, stage="review"),
    # After the workshop, from the phone that joined: one's own commitments (read-only).
    "w/<int:pk>/mes-engagements/": Route(PARTICIPANT),
    "workshops/<int:pk>/report/status/": Route(FACILITATOR),
    "workshops/<int:pk>/report/download/": Route(FACILITATOR),
    "workshops/<int:pk>/export.json": Route(FACILITATOR),
    "workshops/<int:pk>/export.csv": Route(FACILITATOR),
}

# What some cells look like besides the plain "allowed": the answer must be one of these.
# Signup is closed (404), setup is done (to login), logging out (to login), the favicon (302).
PUBLIC_STATUSES = {200, 301, 302, 404, LOGIN_REDIRECT}


def url_patterns(patterns=None, prefix=""):
    """(route, pattern) for every pattern of the URL conf, includes flattened."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern), pattern


def _classify(route):
    if route.startswith("admin/"):
        return "admin/"
    return route


def test_it_classifies_every_url():
    """A new endpoint must say here who may use it, or this fails."""
    routes = {_classify(route) for route, _pattern in url_patterns()}
    unclassified = sorted(routes - set(ROUTES))
    assert not unclassified, (
        "These URL patterns are in no access class of tests/test_authz_matrix.py ROUTES; "
        f"add them with who may use them: {unclassified}"
    )
    stale = sorted(set(ROUTES) - routes)
    assert not stale, f"ROUTES names patterns that no longer exist: {stale}"


# The world ------------------------------------------------------------------------------------


class World:
    """Two workshops with something of every kind in each, built through the real actions.

    This workshop (Camille's): Alice, Bruno and a removed participant (Rémi);
    a wall with post-its by Alice and Bruno and a theme; a map with an actor
    and a flow; an ideas stage with a challenge, an idea each and an open
    double vote (Alice has a dot on Bruno's idea), and a second ideas stage
    with no vote. The other workshop (Oscar's, with Olga): the same objects.
    """

    SECRET = "secret-de-l-atelier"
    # Two columns and the journey's colours: a post-it needs both.
    JOURNEY = {
        "columns": [
            {"key": "client_view", "label": "Vue client", "colour": "blue"},
            {"key": "service_view", "label": "Vue service", "colour": "yellow"},
        ],
        "colours": ["green", "orange", "red"],
    }

    def __init__(self):
        self.room = room = Room()
        self.facilitator = room.facilitator
        self.other_facilitator = room.other_facilitator
        self.workshop, self.other_workshop = room.workshop, room.other_workshop
        self.alice, self.bruno, self.olga = room.alice, room.bruno, room.olga
        self.removed = actions.join(self.workshop, display_name="Rémi", profile=Profile.AGENT)
        actions.remove_participant(self.workshop, self.removed)

        mine = self._furnish(self.workshop, self.alice, self.bruno)
        self.wall, self.map, self.postit, self.cluster, self.actor, self.flow = mine[:6]
        self.ideas, self.ideas2, self.idea, self.other_idea, self.vote = mine[6:11]
        self.journey, self.situation, self.step, self.jpostit = self._journey(
            self.workshop, self.alice
        )
        self.red, self.tensions, self.tension, self.cause, self.opportunity = mine[11:16]
        self.sheets, self.sheet, self.paul = mine[16:19]
        self.tree, self.commitment = mine[19:]
        theirs = self._furnish(self.other_workshop, self.olga, self.olga)
        (
            self.other_journey,
            self.other_situation,
            self.other_step,
            self.other_jpostit,
        ) = self._journey(self.other_workshop, self.olga)
        (
            self.other_wall,
            self.other_map,
            self.other_postit,
            self.other_cluster,
            self.other_actor,
            self.other_flow,
        ) = theirs[:6]
        (self.other_ideas, self.other_ideas2, _their_idea, _their_other, self.other_vote) = theirs[
            6:11
        ]
        (
            self.other_red,
            self.other_tensions,
            self.other_tension,
            self.other_cause,
            self.other_opportunity,
        ) = theirs[11:16]
        self.other_sheets, self.other_sheet, self.other_paul = theirs[16:19]
        self.other_tree, self.other_commitment = theirs[19:]
        (
            self.reciprocal,
            self.row,
            self.empty_row,
            self.promise_stage,
            self.promise,
            self.way,  # a way of working of the promise's
        ) = self._furnish_commitments(self.workshop, self.alice)
        (
            self.other_reciprocal,
            _their_row,
            _their_empty,
            self.other_promise_stage,
            self.other_promise,
            _their_commitment,
        ) = self._furnish_commitments(self.other_workshop, self.olga)
        self.review, self.review_key, self.review_sheet = self._furnish_review(
            self.workshop, self.alice, self.sheets
        )
        self.other_review, self.other_review_key, _their_sheet = self._furnish_review(
            self.other_workshop, self.olga, self.other_sheets
        )
        self.reclaim = actions.ask_reclaim(self.workshop, participant_id=self.bruno.pk)
        self.other_reclaim = actions.ask_reclaim(self.other_workshop, participant_id=self.olga.pk)
        self.workshop.refresh_from_db()
        self.other_workshop.refresh_from_db()
        self.handler = Client().handler

    def _furnish(self, workshop, author, someone_else):
        wall = actions.add_stage(
            workshop, kind="wall", title="Mur", duration_minutes=10, config=self.JOURNEY
        )
        wall.refresh_from_db()
        map_stage = actions.add_stage(workshop, kind="map", title="Carte", duration_minutes=10)
        actions.go_to_stage(workshop, wall)
        fields = {"column": columns_of(wall)[0]["key"]}
        if colour_choices(wall):
            fields["colour"] = colour_choices(wall)[0]["value"]
        postit = journeys.add_postit(
            wall, participant=author, text=f"{self.SECRET} {workshop.pk}", **fields
        )
        journeys.add_postit(wall, participant=someone_else, text=self.SECRET, **fields)
        cluster = journeys.add_cluster(wall, name=f"Thème {self.SECRET}")
        actor = mapping.add_actor(
            map_stage, participant=None, name=f"Acteur {workshop.pk}", circle="clients"
        )
        flow = mapping.add_flow(
            map_stage,
            participant=None,
            source=str(actor.pk),
            target="centre",
            kind="information",
            label=f"Flux {self.SECRET}",
        )
        ideas_stage = actions.add_stage(workshop, kind="ideas", title="Idées", duration_minutes=10)
        ideas2 = actions.add_stage(workshop, kind="ideas", title="Idées 2", duration_minutes=10)
        actions.go_to_stage(workshop, ideas_stage)
        challenge = ideas.add_challenge(ideas_stage, participant=None, text=f"Défi {self.SECRET}")
        idea = ideas.add_idea(
            ideas_stage,
            participant=author,
            text=f"Idée {self.SECRET}",
            challenge=f"c{challenge.pk}",
        )
        other_idea = ideas.add_idea(ideas_stage, participant=someone_else, text="Autre idée")
        vote = votes.open_vote(ideas_stage, budget=5, cap=3, double=True, item_type="idea")
        votes.add_dot(vote, participant=author, item=ref(other_idea))
        tree_stage = actions.add_stage(
            workshop, kind="tree", title="Arbre", duration_minutes=10, config={"per_person": 2}
        )
        actions.go_to_stage(workshop, tree_stage)
        commitment = tree.add_commitment(
            tree_stage, participant=author, sentence="commit", text=f"Engagement {self.SECRET}"
        )
        actions.go_to_stage(workshop, wall)
        # The tension matrix, and a red post-it it may take.
        red = journeys.add_postit(
            wall, participant=someone_else, text=self.SECRET, column=fields["column"], colour="red"
        )
        tensions = actions.add_stage(workshop, kind="tensions", title="Matrice")
        tension = matrix.add_tension(tensions, participant=None, text=f"Tension {self.SECRET}")
        cause = matrix.add_cause(tension, participant=None, kind="control", text=self.SECRET)
        opportunity = matrix.add_opportunity(tension, participant=None, text=self.SECRET)
        sheets_stage = actions.add_stage(
            workshop, kind="actions", title="Fiches-actions", duration_minutes=10
        )
        sheet = sheets.add_sheet(sheets_stage, participant=None, title=f"Fiche {self.SECRET}")
        # Someone without a phone, whose signature the console enters.
        paul = actions.add_participant(workshop, display_name="Paul", profile=Profile.SUPPLIER)
        return (
            wall,
            map_stage,
            postit,
            cluster,
            actor,
            flow,
            ideas_stage,
            ideas2,
            idea,
            other_idea,
            vote,
            red,
            tensions,
            tension,
            cause,
            opportunity,
            sheets_stage,
            sheet,
            paul,
            tree_stage,
            commitment,
        )

    def _journey(self, workshop, author):
        """A journey with a situation, steps, a post-it and a rating (the wall stays current)."""
        stage = actions.add_stage(workshop, kind="journey", title="Parcours", duration_minutes=10)
        wall = Workshop.objects.get(pk=workshop.pk).current_stage
        actions.go_to_stage(workshop, stage)
        situation = journey.add_situation(stage, participant=None, name=f"Alerte {self.SECRET}")
        step = journey.add_step(stage, participant=None, name="Premier appel")
        journey.add_step(stage, participant=None, name="Suivi")
        postit = journey.add_postit(
            stage,
            participant=author,
            situation=situation.pk,
            step=step.pk,
            perspective="client",
            colour="red",
            text=f"{self.SECRET} {workshop.pk}",
        )
        journey.rate(
            stage,
            participant=author,
            situation=situation.pk,
            step=step.pk,
            perspective="client",
            value=1,
        )
        actions.go_to_stage(workshop, wall)
        return stage, situation, step, postit

    def _furnish_commitments(self, workshop, author):
        """A reciprocal table (a row the author holds, an empty one) and a promise."""
        table = actions.add_stage(workshop, kind="reciprocal", title="Engagements")
        promise_stage = actions.add_stage(workshop, kind="promise", title="Promesse")
        row = reciprocal.add_row(table, label=f"Service {self.SECRET}")
        empty = reciprocal.add_row(table, label="Service vide")
        Workshop.objects.filter(pk=workshop.pk).update(current_stage=table)
        reciprocal.take_row(table, participant=author, row=row.pk)
        reciprocal.write_cell(
            table, participant=author, row=row.pk, field="we_commit", text=self.SECRET
        )
        whole = promise.add_promise(promise_stage, client="")
        Workshop.objects.filter(pk=workshop.pk).update(current_stage=promise_stage)
        commitment = promise.add_commitment(
            promise_stage, participant=author, promise=whole.pk, text=f"Tenir {self.SECRET}"
        )
        wall = workshop.stages.get(kind="wall", title="Mur")
        Workshop.objects.filter(pk=workshop.pk).update(current_stage=wall)
        return table, row, empty, promise_stage, whole, commitment

    def _furnish_review(self, workshop, author, sheets_stage):
        """The author signs a sheet of their own; a review is opened and records its status."""
        from commitments.sheets.kinds import sheets_of
        from reviews import actions as reviews

        Workshop.objects.filter(pk=workshop.pk).update(current_stage=sheets_stage)
        sheet = sheets.add_sheet(sheets_stage, participant=None, title="Fiche du bilan")
        [current] = sheets_of(sheet.stage, pk=sheet.pk)
        if author.profile != Profile.PARTNER:  # a partner is on neither side: cannot sign
            sheets.sign_sheet(sheet, participant=author, content_hash=current.hash)
        opened = reviews.open_review(workshop, label="Bilan à 30 jours", day="2027-01-05")
        stage = next(s for s in opened if s.kind == "review_actions")
        reviews.record(stage, participant=None, item=ref(sheet), status="in_progress")
        wall = workshop.stages.get(kind="wall", title="Mur")
        Workshop.objects.filter(pk=workshop.pk).update(current_stage=wall)
        return stage, stage.config["review"], sheet

    def finish_report(self):
        """A finished report on disk, so that downloading it is a 200 for whoever may."""
        from workshops.exports.storage import workshop_exports

        folder = workshop_exports(self.workshop.pk)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report-x.pdf").write_bytes(b"%PDF-1.7 " + self.SECRET.encode())
        report._write_status(
            self.workshop.pk, {"state": "ready", "job": "x", "file": "report-x.pdf"}
        )

    def ids(self, route, other=False):
        """URL kwargs for `route`, with this workshop's objects (or the other's)."""
        stage_name = ROUTES[route].stage
        if other:
            workshop, stage = self.other_workshop, getattr(self, f"other_{stage_name}")
            postit, cluster = self.other_postit, self.other_cluster
            actor, flow, participant = self.other_actor, self.other_flow, self.olga
            vote = self.other_vote
            situation, step = self.other_situation, self.other_step
            if stage_name == "journey":
                postit = self.other_jpostit
            tension, cause = self.other_tension, self.other_cause
            opportunity = self.other_opportunity
            sheet = self.other_sheet
            vote, commitment = self.other_vote, self.other_commitment
        else:
            workshop, stage = self.workshop, getattr(self, stage_name)
            postit, cluster = self.postit, self.cluster
            actor, flow, participant = self.actor, self.flow, self.bruno
            vote = self.vote
            situation, step = self.situation, self.step
            if stage_name == "journey":
                postit = self.jpostit
            tension, cause, opportunity = self.tension, self.cause, self.opportunity
            sheet = self.sheet
            vote, commitment = self.vote, self.commitment
        return {
            "situation_pk": situation.pk,
            "step_pk": step.pk,
            "pk": workshop.pk,
            "stage_pk": stage.pk,
            "postit_pk": postit.pk,
            "cluster_pk": cluster.pk,
            "participant_pk": participant.pk,
            "flow_pk": flow.pk,
            "sheet_pk": sheet.pk,
            "ref": str(actor.pk),
            "vote_pk": vote.pk,
            "promise_pk": (self.other_promise if other else self.promise).pk,
            "key": self.other_review_key if other else self.review_key,
            "reclaim_pk": (self.other_reclaim if other else self.reclaim).pk,
            "commitment_pk": commitment.pk,
            "token": workshop.join_token,
            "tension_pk": tension.pk,
            "cause_pk": cause.pk,
            "opportunity_pk": opportunity.pk,
        }

    def client(self, persona):
        client = Client()
        # One handler for all: each new one would load the middleware (and WhiteNoise's scan).
        client.handler = self.handler
        if persona == "camille":
            client.force_login(self.facilitator)
        elif persona == "oscar":
            client.force_login(self.other_facilitator)
        elif persona in ("alice", "removed", "olga"):
            log_in_participant(client, getattr(self, persona))
        return client


# Rendered HTML, immutable once written: a new event shows as a new row anyway.
HEAVY_FIELDS = {"frames", "payload", "owners"}


def fingerprint():
    """Every row of the project's own models (and the accounts): what a write would change."""
    rows = {}
    with connection.cursor() as cursor:
        for label, table, columns in _tables():
            cursor.execute(f"SELECT {columns} FROM {table} ORDER BY 1")
            rows[label] = cursor.fetchall()
    return rows


def _tables():
    for model in apps.get_models():
        label = model._meta.label
        ours = model._meta.app_label in ("workshops", "journeys", "mapping", "commitments")
        if not (ours or model is get_user_model()):
            continue
        if label in ("workshops.Connection", "workshops.ServerProcess"):
            continue
        quote = connection.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if f.name not in HEAVY_FIELDS]
        # The primary key first: rows are compared in its order.
        fields.sort(key=lambda f: not f.primary_key)
        yield label, quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)


def changed(before, after):
    return sorted(label for label in before if before[label] != after[label])


def url_for(route, kwargs):
    """The concrete path of a route for these kwargs (the route's own converters)."""
    if route == "admin/":
        return "/admin/"
    path = "/" + route
    for name, value in kwargs.items():
        for converter in ("int", "str", "slug"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    assert "<" not in path, f"no value for a converter of {route}"
    return path


def _data(world, route):
    data = ROUTES[route].data
    return (data(world) if callable(data) else dict(data or {})) | {"op_id": _op_id()}


_counter = [0]


def _op_id():
    _counter[0] += 1
    return f"matrix-op-{_counter[0]:08d}"


def build_shared_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One World per test module, built once (it takes seconds), in a transaction never committed.

    A module makes it its fixture with `pytest.fixture(scope="module")(build_shared_world)`,
    and `pytest.fixture(world_in_savepoint)` gives each test the world in a savepoint that
    is rolled back: as Django's TestCase.setUpTestData does. The tests that use it are not
    marked django_db, so pytest-django runs them after the transactional ones, whose
    flushes would not mix with a transaction left open.
    """
    from django.test.utils import override_settings

    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            VAR_DIR=tmp_path_factory.mktemp("var"),
        ),
        pytest.MonkeyPatch.context() as patch,
    ):
        # The report job would start WeasyPrint in a thread: starting it is all that matters.
        patch.setattr(report, "spawn", lambda *args: None)
        with transaction.atomic():
            world = World()
            world.finish_report()
            yield world
            transaction.set_rollback(True)


def world_in_savepoint(shared_world):
    with transaction.atomic():
        yield shared_world
        transaction.set_rollback(True)


shared_world = pytest.fixture(scope="module")(build_shared_world)
world = pytest.fixture(world_in_savepoint)


def _send(client, method, path, data):
    headers = {"HTTP_HX_REQUEST": "true"}
    if method == "GET":
        return client.get(path, **headers)
    return client.post(path, data, **headers)


def _outcome(response):
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/admin/login/"):
            return ADMIN_REDIRECT
        if location.startswith(settings.LOGIN_URL) or location.startswith("/login/"):
            return LOGIN_REDIRECT
    return response.status_code


def _cell(world, persona, route, method, kwargs, watch=True):
    """Try one cell in a savepoint that is rolled back: (outcome, changed models, body).

    With `watch`, the database is compared before and after (a refused cell changes nothing).
    """
    from django.core.cache import cache

    cache.clear()  # rate-limit counters
    with transaction.atomic():
        if ROUTES[route].stage != "wall":
            # Participants write on the current stage only (no event needed: rolled back).
            make_current(world, ROUTES[route].stage)
        if route.endswith("/report/download/"):
            world.finish_report()  # starting a report (another cell) replaced it on disk
        client = world.client(persona)
        before = fingerprint() if watch else None
        response = _send(client, method, url_for(route, kwargs), _data(world, route))
        touched = changed(before, fingerprint()) if watch else []
        transaction.set_rollback(True)
    body = b"" if response.streaming else response.content
    return _outcome(response), touched, body


def make_current(world, stage_name):
    """The route's stage becomes the current one, in both workshops."""
    for workshop, stage in (
        (world.workshop, getattr(world, stage_name)),
        (world.other_workshop, getattr(world, f"other_{stage_name}")),
    ):
        Workshop.objects.filter(pk=workshop.pk).update(current_stage=stage)


def test_it_refuses_every_forbidden_cell_and_serves_every_allowed_one(world):
    problems = []
    for route, spec in ROUTES.items():
        for method in spec.methods:
            for persona in PERSONAS:
                allowed = persona in ALLOWED[spec.access]
                outcome, touched, body = _cell(
                    world, persona, route, method, world.ids(route), watch=not allowed
                )
                cell = f"{method} {route} as {persona}: {outcome}"
                if allowed:
                    if spec.access == PUBLIC:
                        if outcome not in PUBLIC_STATUSES:
                            problems.append(f"{cell}, expected one of {PUBLIC_STATUSES}")
                    elif outcome in (LOGIN_REDIRECT, ADMIN_REDIRECT) or outcome >= 400:
                        problems.append(f"{cell}, expected to be served")
                    continue
                expected = REFUSAL[spec.access][persona]
                if outcome != expected:
                    problems.append(f"{cell}, expected {expected}")
                if touched:
                    problems.append(f"{cell} changed {touched}")
                if World.SECRET.encode() in body:
                    problems.append(f"{cell} leaked the workshop's content")
    assert not problems, "\n".join(problems)


def test_it_answers_ids_of_another_workshop_with_404_and_changes_nothing(world):
    """This workshop's URL with the other workshop's stage, post-it, theme, actor, flow…"""
    problems = []
    for route, spec in ROUTES.items():
        if "<int:pk>/" not in route or not (set(world.ids(route)) & _object_kwargs(route)):
            continue
        for persona in sorted(ALLOWED[spec.access]):
            mixed = {**world.ids(route), **_only_objects(world.ids(route, other=True), route)}
            for method in spec.methods:
                outcome, touched, body = _cell(world, persona, route, method, mixed)
                cell = f"{method} {route} as {persona} with another workshop's ids: {outcome}"
                if outcome != 404:
                    problems.append(f"{cell}, expected 404")
                if touched:
                    problems.append(f"{cell} changed {touched}")
                if World.SECRET.encode() in body:
                    problems.append(f"{cell} leaked the other workshop's content")
    assert not problems, "\n".join(problems)


def test_it_does_not_let_an_outsider_reach_this_workshop_through_their_own(world):
    """Oscar and Olga name their own workshop in the URL, and this workshop's objects."""
    problems = []
    for route, spec in ROUTES.items():
        if "<int:pk>/" not in route or not _object_kwargs(route):
            continue
        persona = {FACILITATOR: "oscar", MEMBER: "olga", PARTICIPANT: "olga"}[spec.access]
        # Their own workshop (other=True for pk), with this workshop's objects.
        mixed = {**world.ids(route), "pk": world.other_workshop.pk}
        for method in spec.methods:
            outcome, touched, body = _cell(world, persona, route, method, mixed)
            cell = f"{method} {route} as {persona} through their own workshop: {outcome}"
            if outcome not in (403, 404):
                problems.append(f"{cell}, expected 404 (or 403)")
            if touched:
                problems.append(f"{cell} changed {touched}")
    assert not problems, "\n".join(problems)


def test_it_lets_a_participant_touch_only_their_own_post_its(world):
    """Bruno is in the room, but the post-it (and the commitment) is Alice's."""
    for route in (
        "w/<int:pk>/postits/<int:postit_pk>/edit/",
        "w/<int:pk>/postits/<int:postit_pk>/delete/",
        "w/<int:pk>/journey-postits/<int:postit_pk>/edit/",
        "w/<int:pk>/journey-postits/<int:postit_pk>/delete/",
        "w/<int:pk>/stages/<int:stage_pk>/commitments/<int:commitment_pk>/edit/",
        "w/<int:pk>/stages/<int:stage_pk>/commitments/<int:commitment_pk>/delete/",
    ):
        if ROUTES[route].stage == "tree":
            make_current(world, "tree")
        with transaction.atomic():
            if ROUTES[route].stage == "journey":
                Workshop.objects.filter(pk=world.workshop.pk).update(current_stage=world.journey)
            client = log_in_participant(Client(), world.bruno)
            before = fingerprint()
            response = _send(client, "POST", url_for(route, world.ids(route)), _data(world, route))
            assert response.status_code == 403, route
            assert not changed(before, fingerprint())
            transaction.set_rollback(True)


def test_it_lets_nobody_sign_a_sheet_for_someone_else(world):
    """A phone signs as itself: naming someone else (even a phoneless participant) is refused,
    and the console's entry is only for the people it added without a phone."""
    sign = "w/<int:pk>/sheets/<int:sheet_pk>/sign/"
    sign_for = "workshops/<int:pk>/sheets/<int:sheet_pk>/sign-for/"
    cases = [
        (log_in_participant(Client(), world.bruno), sign, {"as_participant": world.alice.pk}),
        (log_in_participant(Client(), world.bruno), sign, {"as_participant": world.paul.pk}),
        (world.client("camille"), sign_for, {"as_participant": world.alice.pk}),
        (world.client("camille"), sign_for, {"as_participant": ""}),
    ]
    for client, route, extra in cases:
        with transaction.atomic():
            Workshop.objects.filter(pk=world.workshop.pk).update(current_stage=world.sheets)
            before = fingerprint()
            data = _data(world, route) | extra
            response = _send(client, "POST", url_for(route, world.ids(route)), data)
            assert response.status_code in (400, 403, 404), (route, extra, response.status_code)
            assert not changed(before, fingerprint()), (route, extra)
            transaction.set_rollback(True)


def _object_kwargs(route):
    return {
        name
        for name in (
            "stage_pk",
            "postit_pk",
            "cluster_pk",
            "participant_pk",
            "flow_pk",
            "ref",
            "vote_pk",
            "situation_pk",
            "step_pk",
            "tension_pk",
            "cause_pk",
            "opportunity_pk",
            "sheet_pk",
            "ref",
            "promise_pk",
            "commitment_pk",
        )
        if f":{name}>" in route
    }


def _only_objects(kwargs, route):
    return {name: kwargs[name] for name in _object_kwargs(route)}


# The websocket ------------------------------------------------------------------------------------

# Every message type the consumer answers, and what an accepted socket gets back.
WS_MESSAGES = {"hello": {"snapshot", "synced"}, "ping": {"pong"}}
# Who may open which socket, by role: on this workshop, and on the other one (theirs).
WS_ROLES = {
    "facilitator": ({"camille"}, {"oscar"}),
    "projector": ({"camille"}, {"oscar"}),
    None: ({"alice"}, {"olga"}),  # the participant page opens its socket without a role
    "admin": ({"alice"}, {"olga"}),  # an unknown role is a participant's socket
}
SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
WAIT = 3


def _consumer_literals():
    """Every short lowercase string literal in the consumer's source: candidate types."""
    from workshops.live import consumer as consumers

    tree = ast.parse(inspect.getsource(consumers))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.replace("_", "").isalpha()
        and node.value.islower()
        and len(node.value) <= 30
    }


def _cookie(client):
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}" if name in client.cookies else ""


async def _open(workshop_pk, cookie, role):
    from config.asgi import application

    path = f"/ws/w/{workshop_pk}/" + (f"?role={role}" if role else "")
    headers = [*SAME_ORIGIN, *([(b"cookie", cookie.encode())] if cookie else [])]
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await socket.connect(timeout=WAIT)
    # A refusal may also come as accept-then-close(4403), so that a browser sees the
    # code instead of a bare 1006: an accepted socket says nothing until spoken to.
    if connected and not await socket.receive_nothing(timeout=0.1, interval=0.01):
        first = await socket.receive_output(timeout=WAIT)
        assert first["type"] == "websocket.close", first
        return socket, False, first.get("code")
    return socket, connected, code


async def _answer(socket, message):
    await socket.send_to(text_data=json.dumps(message))
    return json.loads(await socket.receive_from(timeout=WAIT))


@pytest.mark.django_db(transaction=True)
async def test_it_classifies_every_websocket_message_and_role(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from workshops.live.consumer import CLOSE_FORBIDDEN
    from workshops.live.hub import hub

    world = await sync_to_async(World)()
    cookies = {}
    for persona in PERSONAS:
        cookies[persona] = await sync_to_async(lambda p=persona: _cookie(world.client(p)))()
    problems = []
    try:
        # Which types does the consumer answer? Probe every literal of its source.
        socket, connected, _code = await _open(world.workshop.pk, cookies["alice"], None)
        assert connected
        answered = set()
        for candidate in sorted(_consumer_literals() | set(WS_MESSAGES) | {"write", "postit"}):
            reply = await _answer(socket, {"type": candidate})
            if not (reply.get("type") == "error" and reply.get("code") == "type"):
                answered.add(candidate)
        await socket.disconnect()
        unclassified = sorted(answered - set(WS_MESSAGES))
        assert not unclassified, f"websocket message types missing from WS_MESSAGES: {unclassified}"

        # Every role, for every persona, on this workshop; and on the other one.
        for role, (here, there) in WS_ROLES.items():
            for persona in PERSONAS:
                for target, name, allowed in (
                    (world.workshop, "this", here),
                    (world.other_workshop, "other", there),
                ):
                    may = persona in allowed
                    socket, connected, code = await _open(target.pk, cookies[persona], role)
                    cell = f"socket role={role} as {persona} on {name} workshop"
                    if not may:
                        if connected or code != CLOSE_FORBIDDEN:
                            problems.append(f"{cell}: accepted={connected} code={code}")
                        continue
                    if not connected:
                        problems.append(f"{cell}: refused ({code})")
                        continue
                    for kind, replies in WS_MESSAGES.items():
                        message = {"type": kind}
                        if kind == "hello":
                            message["last_seq"] = 0
                        reply = await _answer(socket, message)
                        if reply.get("type") not in replies:
                            problems.append(f"{cell}: {kind} answered {reply.get('type')}")
                    await socket.disconnect()
    finally:
        hub.rooms.clear()
        hub.delivered.clear()
        await sync_to_async(connections.close_all)()
    assert not problems, "\n".join(problems)
