"""The French catalogue is complete, compiled, and the right language reaches each page.

French is the default; English is the second language. A workshop's own
language decides its participant pages, whatever the phone's browser asks for.
"""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from tests.base import Room, log_in_participant
from workshops.models import Workshop

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ("fr", "en")
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);", "en": "nplurals=2; plural=(n != 1);"}
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdif]|%%")


def po_path(language):
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def mo_path(language):
    return LOCALE / language / "LC_MESSAGES" / "django.mo"


def live_entries(catalogue):
    return [e for e in catalogue if not e.obsolete]


def placeholders(text):
    return sorted(PLACEHOLDER.findall(text))


# (a) the French catalogue is complete -------------------------------------------------


def test_every_french_msgid_is_translated_and_none_is_fuzzy():
    po = polib.pofile(str(po_path("fr")))
    entries = live_entries(po)
    assert entries, "the French catalogue is empty: run `make messages`"
    assert not po.metadata_is_fuzzy, "the French header is marked fuzzy"
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy French entries: {fuzzy}"
    missing = []
    for entry in entries:
        if entry.msgid_plural:
            forms = [entry.msgstr_plural.get(i, "") for i in range(2)]
            if not all(form.strip() for form in forms):
                missing.append(entry.msgid)
        elif not entry.msgstr.strip():
            missing.append(entry.msgid)
    assert not missing, f"untranslated French msgids: {missing}"


def test_french_translations_keep_their_placeholders():
    po = polib.pofile(str(po_path("fr")))
    wrong = []
    for entry in live_entries(po):
        if entry.msgid_plural:
            pairs = [
                (entry.msgid, entry.msgstr_plural[0]),
                (entry.msgid_plural, entry.msgstr_plural[1]),
            ]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, translation in pairs:
            if placeholders(source) != placeholders(translation):
                wrong.append((source, translation))
    assert not wrong, f"placeholders differ: {wrong}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_header_has_the_plural_rule(language):
    po = polib.pofile(str(po_path(language)))
    assert po.metadata.get("Language") == language
    assert po.metadata.get("Plural-Forms") == PLURAL_FORMS[language]
    assert not po.metadata_is_fuzzy


def test_english_catalogue_lists_the_same_msgids():
    french = {(e.msgctxt, e.msgid) for e in live_entries(polib.pofile(str(po_path("fr"))))}
    english = {(e.msgctxt, e.msgid) for e in live_entries(polib.pofile(str(po_path("en"))))}
    assert french == english, "run `make messages` to refresh both catalogues"


# (b) the compiled .mo files match the .po files -----------------------------------------


def _translations(catalogue):
    table = {}
    for entry in catalogue:
        if entry.obsolete or "fuzzy" in entry.flags:
            continue
        if entry.msgid_plural:
            forms = tuple(entry.msgstr_plural.get(i, "") for i in range(len(entry.msgstr_plural)))
            if all(forms):
                table[(entry.msgctxt, entry.msgid, entry.msgid_plural)] = forms
        elif entry.msgstr:
            table[(entry.msgctxt, entry.msgid, None)] = entry.msgstr
    return table


@pytest.mark.parametrize("language", LANGUAGES)
def test_mo_file_is_up_to_date_with_po(language):
    assert mo_path(language).exists(), f"{mo_path(language)} is missing: run `make messages`"
    po = polib.pofile(str(po_path(language)))
    mo = polib.mofile(str(mo_path(language)))
    assert _translations(mo) == _translations(po), (
        f"{mo_path(language)} is stale: run `manage.py compilemessages --ignore=.venv`"
    )
    assert mo.metadata.get("Plural-Forms") == po.metadata.get("Plural-Forms")


# (c) a workshop's language decides its participant pages -----------------------------


def _set_language(workshop, language):
    Workshop.objects.filter(pk=workshop.pk).update(language=language)


@pytest.mark.django_db
@pytest.mark.parametrize("browser_language", ["", "fr", "en"])
def test_english_workshop_renders_participant_page_in_english(client, browser_language):
    room = Room()
    _set_language(room.workshop, "en")
    log_in_participant(client, room.alice)
    headers = {"HTTP_ACCEPT_LANGUAGE": browser_language} if browser_language else {}
    page = client.get(f"/w/{room.workshop.pk}/", **headers).content.decode()
    assert '<html lang="en">' in page
    assert "I'm done" in page
    assert "Stage 1 of" in page
    assert "You are Alice (Internal client)" in page
    assert "Not sent yet" in page  # the live script's words
    assert "J’ai fini" not in page
    assert "Étape 1 sur" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("browser_language", ["", "fr", "en"])
def test_french_workshop_renders_participant_page_in_french(client, browser_language):
    room = Room()
    log_in_participant(client, room.alice)
    headers = {"HTTP_ACCEPT_LANGUAGE": browser_language} if browser_language else {}
    page = client.get(f"/w/{room.workshop.pk}/", **headers).content.decode()
    assert '<html lang="fr">' in page
    assert "J’ai fini" in page
    assert "Étape 1 sur" in page
    assert "Vous êtes Alice (Client interne)" in page
    assert "Pas encore envoyé" in page
    assert "Reconnexion…" in page
    assert "I'm done" not in page
    assert "Stage 1 of" not in page


@pytest.mark.django_db
def test_join_page_speaks_the_workshop_language(client):
    room = Room()
    _set_language(room.workshop, "en")
    page = client.get(f"/j/{room.workshop.join_token}/", HTTP_ACCEPT_LANGUAGE="fr")
    text = page.content.decode()
    assert "Enter the workshop" in text
    assert "Agent of the observed service" in text
    room_fr = Workshop.objects.get(pk=room.other_workshop.pk)
    text = client.get(f"/j/{room_fr.join_token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Entrer dans l’atelier" in text
    assert "Agent du service observé" in text


@pytest.mark.django_db
def test_refusals_are_worded_in_the_workshop_language(client):
    """An ActionError reaches an English workshop in English, even from a French phone."""
    room = Room()
    _set_language(room.workshop, "en")
    log_in_participant(client, room.alice)
    stage = room.stage
    response = client.post(
        f"/w/{room.workshop.pk}/stages/{stage.pk}/postits/",
        {"text": "   ", "op_id": "i18n-empty-0001"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    assert "Write something first." in response.content.decode()

    _set_language(room.workshop, "fr")
    response = client.post(
        f"/w/{room.workshop.pk}/stages/{stage.pk}/postits/",
        {"text": "   ", "op_id": "i18n-empty-0002"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "Écrivez d’abord quelque chose." in response.content.decode()


# (d) French by default ------------------------------------------------------------------


@pytest.mark.django_db
def test_home_page_defaults_to_french_without_accept_language(client):
    get_user_model().objects.create_user("camille", password="pw-camille-123")
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert "Rejoindre un atelier" in page
    assert "Join a workshop" not in page
    assert response["Content-Language"] == "fr"


@pytest.mark.django_db
def test_home_page_follows_an_english_browser(client):
    get_user_model().objects.create_user("camille", password="pw-camille-123")
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in page
    assert "Join a workshop" in page
