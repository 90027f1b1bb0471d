import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from journeys import actions as journey_actions
from journeys.models import Cluster, PostIt
from mapping import actions as mapping
from mapping.models import Actor, Flow
from workshops import actions
from workshops.exports.storage import workshop_exports
from workshops.live import presence
from workshops.models import Connection, Event, Participant, Stage, Workshop

pytestmark = pytest.mark.django_db


def _write(room):
    return journey_actions.add_postit(room.stage, participant=room.alice, text="Un irritant")


def test_it_hard_deletes_everything_of_a_workshop(room):
    _write(room)
    pk = room.workshop.pk

    actions.delete_workshop(room.workshop)

    assert not Workshop.objects.filter(pk=pk).exists()
    for model in (Participant, Stage, PostIt, Event):
        assert not model.objects.filter(workshop_id=pk).exists()
    # The other workshop is untouched.
    assert Participant.objects.filter(pk=room.olga.pk).exists()


def test_it_removes_export_files_once_the_deletion_commits(
    room, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.VAR_DIR = tmp_path
    folder = workshop_exports(room.workshop.pk)
    folder.mkdir(parents=True)
    (folder / "report.pdf").write_bytes(b"%PDF")
    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_workshop(room.workshop)
    assert not folder.exists()


def test_it_purges_only_workshops_idle_past_the_retention(room):
    _write(room)
    old = timezone.now() - timedelta(days=500)
    Workshop.objects.filter(pk=room.other_workshop.pk).update(updated_at=old)
    Workshop.objects.filter(pk=room.workshop.pk).update(updated_at=old)

    call_command("purge", days=400, stdout=io.StringIO())

    # The first workshop had a write just now: it is active. The other is gone.
    assert Workshop.objects.filter(pk=room.workshop.pk).exists()
    assert not Workshop.objects.filter(pk=room.other_workshop.pk).exists()


def test_it_lists_without_deleting_on_a_dry_run(room):
    Workshop.objects.update(updated_at=timezone.now() - timedelta(days=500))
    call_command("purge", days=400, dry_run=True, stdout=io.StringIO())
    assert Workshop.objects.count() == 2


def test_it_erases_everything_through_the_delete_button(
    room, settings, tmp_path, client, django_capture_on_commit_callbacks
):
    """Map, themes, sockets and files too; the other workshop keeps all of its own."""
    settings.VAR_DIR = tmp_path

    def furnish(workshop, person):
        wall = actions.add_stage(workshop, kind="wall", title="Mur")
        actions.go_to_stage(workshop, wall)
        journey_actions.add_postit(wall, participant=person, text="Un irritant")
        journey_actions.add_cluster(wall, name="Délais")
        board = actions.add_stage(workshop, kind="map", title="Carte")
        actor = mapping.add_actor(board, participant=None, name="Achats", circle="suppliers")
        mapping.add_flow(
            board,
            participant=None,
            source=str(actor.pk),
            target="centre",
            kind="request",
            label="Devis",
        )
        presence.opened(workshop.pk, person.pk, "participant", "test-process")
        folder = workshop_exports(workshop.pk)
        folder.mkdir(parents=True)
        (folder / "report-1.pdf").write_bytes(b"%PDF")
        return folder

    mine = furnish(room.workshop, room.alice)
    theirs = furnish(room.other_workshop, room.olga)
    pk, other = room.workshop.pk, room.other_workshop.pk
    client.force_login(room.facilitator)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("workshops:delete", args=[pk])).status_code == 302

    for model in (Stage, Participant, PostIt, Event, Actor, Flow, Connection):
        assert not model.objects.filter(workshop_id=pk).exists(), model
        assert model.objects.filter(workshop_id=other).exists(), model
    assert not Cluster.objects.filter(stage__workshop_id=pk).exists()
    assert Cluster.objects.filter(stage__workshop_id=other).exists()
    assert not mine.exists()
    assert (theirs / "report-1.pdf").exists()


def test_it_purges_the_files_of_a_purged_workshop(
    room, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.VAR_DIR = tmp_path
    folder = workshop_exports(room.other_workshop.pk)
    folder.mkdir(parents=True)
    (folder / "report-1.pdf").write_bytes(b"%PDF")
    Workshop.objects.filter(pk=room.other_workshop.pk).update(
        updated_at=timezone.now() - timedelta(days=500)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge", days=400, stdout=io.StringIO())
    assert not Workshop.objects.filter(pk=room.other_workshop.pk).exists()
    assert not folder.exists()
