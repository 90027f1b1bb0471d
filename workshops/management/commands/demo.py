import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.urls import reverse
from django.utils import timezone

from workshops import actions

from ._urls import base_url


class Command(BaseCommand):
    help = "Create a demo facilitator and a live demo workshop, and print their URLs."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--method", default="diagnostic")

    def handle(self, *args, username, method, **options):
        User = get_user_model()
        password = secrets.token_urlsafe(9)
        user, created = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.save()
        workshop = actions.create_workshop(
            facilitator=user,
            method_key=method,
            title="Atelier démo : la DSI et ses services clients",
            observed_service="Direction des systèmes d'information",
            perimeter=(
                "Demandes d'intervention, projets applicatifs et support aux directions métier."
            ),
            intention=(
                "Clarifier ce que chacun attend de l'autre et s'engager sur trois améliorations."
            ),
            language="fr",
            date=timezone.localdate(),
        )
        url = base_url()
        self.stdout.write(self.style.SUCCESS("Demo workshop ready."))
        self.stdout.write(f"  Facilitator login:   {url}{reverse('login')}")
        self.stdout.write(f"    username: {username}")
        self.stdout.write(f"    password: {password}")
        self.stdout.write(
            f"  Facilitator console: {url}{reverse('workshops:console', args=[workshop.pk])}"
        )
        self.stdout.write(
            f"  Projected view:      {url}{reverse('workshops:projector', args=[workshop.pk])}"
        )
        self.stdout.write(
            f"  Participant join:    {url}{reverse('join', args=[workshop.join_token])}"
        )
        self.stdout.write(f"  Or type code {workshop.short_code} at {url}{reverse('join_code')}")
