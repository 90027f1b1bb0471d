from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = _("Votes, action sheets and commitments")

    def ready(self):
        from .ideas import kinds as ideas
        from .promise import kinds as promise
        from .reciprocal import kinds as reciprocal
        from .sheets import kinds as sheets
        from .tree import kinds as tree

        ideas.register_all()
        sheets.register_all()
        reciprocal.register_all()
        promise.register_all()
        tree.register_all()
