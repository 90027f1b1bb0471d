"""When is "the other service in the room"? The rule the fourth column opens on.

A row's service is in the room when an active participant's organisation
names it: both are compared as sets of words, without accents, case,
punctuation and the filler words of a service's name ("service", "le", "la",
"des", "du", "de", "d'", "l'", "et"). So "Service comptabilité", "la
Comptabilité" and "COMPTABILITE" match; "Comptabilité fournisseurs" does not
match "Comptabilité" (a different team). The profile alone (internal client,
supplier…) says nothing of which service someone is from, so it does not
open the column. The facilitator can always write the column (docs/stage-kinds.md).
"""

import re
import unicodedata

FILLERS = {"service", "services", "le", "la", "les", "des", "du", "de", "d", "l", "et", "the", "of"}


def words(name):
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return frozenset(w for w in re.split(r"[^0-9a-z]+", text) if w and w not in FILLERS)


def organisations(stage):
    """The word sets of the room's organisations (one query)."""
    from workshops.models import Participant

    names = Participant.objects.filter(workshop_id=stage.workshop_id, removed_at__isnull=True)
    return {words(o) for o in names.values_list("organisation", flat=True) if o}


def in_room(label, present):
    found = words(label)
    return bool(found) and found in present


def row_in_room(stage, row):
    return in_room(row.label, organisations(stage))
