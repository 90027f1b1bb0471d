from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = _("Votes, action sheets and commitments")

    def ready(self):
        from .ideas import kinds
        from .tree import kinds as tree

        kinds.register_all()
        tree.register_all()
