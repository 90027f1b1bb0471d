from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Max
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from workshops.actions import delete_workshop
from workshops.models import Workshop


class Command(BaseCommand):
    help = "Delete workshops with no activity for longer than the retention period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.RETENTION_DAYS,
            help="Retention in days (default: RETENTION_DAYS, %(default)s).",
        )
        parser.add_argument("--dry-run", action="store_true", help="List, delete nothing.")

    def handle(self, *args, days, dry_run, **options):
        cutoff = timezone.now() - timedelta(days=days)
        stale = (
            Workshop.objects.annotate(
                last_event=Max("events__created_at"),
            )
            .annotate(active_at=Greatest("updated_at", Coalesce("last_event", "updated_at")))
            .filter(active_at__lt=cutoff)
        )
        count = 0
        for workshop in stale:
            self.stdout.write(
                f"{'Would delete' if dry_run else 'Deleting'} #{workshop.pk} {workshop.title}"
            )
            if not dry_run:
                delete_workshop(workshop)
            count += 1
        self.stdout.write(self.style.SUCCESS(f"{count} workshop(s) past {days} days."))
