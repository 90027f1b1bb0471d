import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from journeys import actions as journey_actions
from journeys.models import PostIt
from workshops import actions
from workshops.exports_dir import workshop_exports
from workshops.models import Event, Participant, Stage, Workshop

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
