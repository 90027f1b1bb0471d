"""The named personas of the test suite.

- the facilitator (Camille) of the workshop;
- two participants with different profiles: Alice (internal client) and
  Bruno (supplier);
- an outsider: Olga, participant of another workshop (facilitated by Oscar).
"""

from django.contrib.auth import get_user_model

from workshops import actions
from workshops.access import SESSION_KEY
from workshops.models import Profile


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


def log_in_participant(client, participant):
    session = client.session
    known = dict(session.get(SESSION_KEY) or {})
    known[str(participant.workshop_id)] = participant.pk
    session[SESSION_KEY] = known
    session.save()
    return client
