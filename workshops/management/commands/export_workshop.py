import json

from django.core.management.base import BaseCommand, CommandError

from workshops.exports import transfer
from workshops.models import Workshop


class Command(BaseCommand):
    help = "Export a whole workshop as JSON (to a file, or to standard output)."

    def add_arguments(self, parser):
        parser.add_argument("workshop_id", type=int)
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args, workshop_id, output=None, **options):
        try:
            workshop = Workshop.objects.get(pk=workshop_id)
        except Workshop.DoesNotExist:
            raise CommandError(f"No workshop with id {workshop_id}.") from None
        text = json.dumps(transfer.export_workshop(workshop), ensure_ascii=False, indent=2)
        if output and output != "-":
            with open(output, "w", encoding="utf-8") as file:
                file.write(text + "\n")
            self.stderr.write(f"Workshop {workshop_id} exported to {output}.")
        else:
            self.stdout.write(text)
