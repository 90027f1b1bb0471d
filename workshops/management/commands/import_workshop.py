import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from workshops.exports import transfer


class Command(BaseCommand):
    help = "Import a workshop from an exported JSON file, as a new workshop of a facilitator."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--facilitator", required=True, help="username of the facilitator who gets it"
        )

    def handle(self, *args, file, facilitator, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(facilitator)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No facilitator named {facilitator!r}.") from None
        try:
            with open(file, encoding="utf-8-sig") as handle:
                document = json.load(handle)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        try:
            workshop = transfer.import_workshop(document, user)
        except transfer.ImportRefused as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Imported as workshop {workshop.pk}: {workshop.title}")
