"""The named personas of the test suite.

- the facilitator (Camille) of the workshop;
- two participants with different profiles: Alice (internal client) and
  Bruno (supplier);
- an outsider: Olga, participant of another workshop (facilitated by Oscar).

tests/conftest.py gives each a logged-in test client as a fixture: `camille`,
`oscar` (facilitators), `alice`, `bruno`, `olga` (phones), on the `room`.
"""

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from workshops import actions
from workshops.access import SESSION_KEY
from workshops.models import Profile, Workshop

# What htmx sends with each of its requests.
HTMX = {"HTTP_HX_REQUEST": "true"}


class Room:
    """A workshop with its people, built through the real actions."""

    def __init__(self, method_key="diagnostic"):
        User = get_user_model()
        self.facilitator = User.objects.create_user("camille", password="pw-camille-123")
        self.workshop = actions.create_workshop(
            facilitator=self.facilitator,
            method_key=method_key,
            title="Atelier DSI",
            observed_service="DSI",
            perimeter="Support applicatif",
            intention="Mieux se comprendre",
            language="fr",
        )
        self.alice = actions.join(
            self.workshop, display_name="Alice", profile=Profile.INTERNAL_CLIENT
        )
        self.bruno = actions.join(self.workshop, display_name="Bruno", profile=Profile.SUPPLIER)
        self.other_facilitator = User.objects.create_user("oscar", password="pw-oscar-123")
        self.other_workshop = actions.create_workshop(
            facilitator=self.other_facilitator,
            method_key=None,
            title="Autre atelier",
            language="fr",
        )
        self.olga = actions.join(self.other_workshop, display_name="Olga", profile=Profile.PARTNER)

    @property
    def stage(self):
        self.workshop.refresh_from_db()
        return self.workshop.current_stage


def action_wall(room):
    """A public, named wall of the room with several coloured columns, made on first use
    (Diagnostic's own walls became a matrix, action sheets and a tree)."""
    found = room.workshop.stages.filter(kind="wall", title="Co-construction d’actions").first()
    return found or actions.add_stage(
        room.workshop,
        kind="wall",
        title="Co-construction d’actions",
        config={
            "columns": [
                {
                    "key": "contribution",
                    "label": "Améliorer notre contribution",
                    "colour": "yellow",
                },
                {"key": "clarify", "label": "Clarifier offre et attentes", "colour": "blue"},
                {"key": "action_sheets", "label": "Fiches-actions", "colour": "green"},
            ]
        },
    )


def log_in_participant(client, participant):
    session = client.session
    known = dict(session.get(SESSION_KEY) or {})
    known[str(participant.workshop_id)] = participant.pk
    session[SESSION_KEY] = known
    session.save()
    return client


# Helpers the view tests share ---------------------------------------------------------------


def french(message):
    """`message` as a French page shows it (translated, HTML-escaped)."""
    with translation.override("fr"):
        return escape(gettext(message))


def fresh(workshop):
    return Workshop.objects.get(pk=workshop.pk)


def url(name, room, **kwargs):
    """A URL of the room's workshop."""
    return reverse(name, kwargs={"pk": room.workshop.pk, **kwargs})


def join_url(workshop):
    """The join link as it is now (the token read again: it may have been renewed)."""
    return reverse("join", args=[fresh(workshop).join_token])


# A wall where the author picks the colour (the journey's green/orange/red), picked
# explicitly: the methods' journey stages are of the `journey` kind now.
COLOUR_WALL = {
    "columns": [
        {"key": "client_view", "label": "Côté client", "colour": "blue"},
        {"key": "service_view", "label": "Côté service", "colour": "yellow"},
    ],
    "colours": ["green", "orange", "red"],
}
