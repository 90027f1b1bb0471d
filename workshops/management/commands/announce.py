import segno
from django.core.management.base import BaseCommand
from django.urls import reverse

from ._urls import base_url


class Command(BaseCommand):
    help = "Print the address phones can reach, with a QR code to scan."

    def handle(self, *args, **options):
        url = base_url()
        join = url + reverse("join_code")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Réciproque is starting."))
        self.stdout.write(f"  Facilitator (this laptop): {url}/")
        self.stdout.write(f"  Participants (phones on the same Wi-Fi): {join}")
        self.stdout.write("  Set PUBLIC_URL if phones reach this machine at another address.")
        self.stdout.write("")
        segno.make(join, error="m").terminal(out=self.stdout, compact=True)
        self.stdout.write("")
