from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JourneysConfig(AppConfig):
    name = "journeys"
    verbose_name = _("Journeys and post-its")

    def ready(self):
        from . import kinds
        from .empathy.kinds import register_empathy
        from .tensions.kinds import register_tensions

        kinds.register_all()
        register_tensions()
        register_empathy()
