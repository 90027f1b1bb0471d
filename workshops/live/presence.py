"""Who is connected now, across processes: socket rows of live processes."""

from datetime import timedelta

from django.utils import timezone

from ..models import Connection, ServerProcess

# A process beats every few seconds; one silent for this long is dead.
ALIVE = timedelta(seconds=30)


def opened(workshop_id, participant_id, role, process):
    ServerProcess.objects.update_or_create(name=process, defaults={"beat_at": timezone.now()})
    return Connection.objects.create(
        workshop_id=workshop_id, participant_id=participant_id, role=role, process=process
    ).pk


def closed(connection_id):
    Connection.objects.filter(pk=connection_id).delete()


def live_processes():
    return ServerProcess.objects.filter(beat_at__gte=timezone.now() - ALIVE).values("name")


def online_participant_ids(workshop):
    return set(
        Connection.objects.filter(
            workshop=workshop, participant__isnull=False, process__in=live_processes()
        ).values_list("participant_id", flat=True)
    )


def projector_count(workshop):
    return Connection.objects.filter(
        workshop=workshop, role="projector", process__in=live_processes()
    ).count()


def forget_dead_processes():
    """Drop the socket rows and beats of processes silent for long."""
    dead = ServerProcess.objects.filter(beat_at__lt=timezone.now() - 10 * ALIVE)
    Connection.objects.filter(process__in=dead.values("name")).delete()
    dead.delete()
