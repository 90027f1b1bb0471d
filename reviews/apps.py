from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Reviews at 30 days and 6 months")

    def ready(self):
        from . import kinds

        kinds.register_all()
