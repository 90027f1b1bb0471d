"""The empathy map (`empathy`): a post-it wall laid out around a persona.

Seed 001, step 2. A kind of its own rather than a wall option, because it
reads as a different board: a persona in the centre (a name, a role, one
sentence), the quadrants Dit / Pense / Fait / Ressent around it and Douleurs /
Gains under it, stacked on a phone. Its post-its are the wall's (same model,
actions, pushes, exports), and may be marked as a verbatim quote.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.registry import StageKind, register
from workshops.text import clean_text

from ..kinds import (
    wall_clean_config,
    wall_context,
    wall_export,
    wall_import,
    wall_items,
    wall_owners,
    wall_rows,
)
from .forms import EmpathyConfigForm

PERSONA_FIELDS = {"name": 60, "role": 80, "sentence": 200}
QUADRANTS = ("says", "thinks", "does", "feels", "pains", "gains")


def empathy_columns():
    return [
        {"key": "says", "label": _("Says"), "colour": "yellow"},
        {"key": "thinks", "label": _("Thinks"), "colour": "blue"},
        {"key": "does", "label": _("Does"), "colour": "green"},
        {"key": "feels", "label": _("Feels"), "colour": "pink"},
        {"key": "pains", "label": _("Pains"), "colour": "red"},
        {"key": "gains", "label": _("Gains"), "colour": "purple"},
    ]


def empathy_config():
    return {
        "columns": empathy_columns(),
        "persona": {"name": "", "role": "", "sentence": ""},
        "verbatim": True,
    }


def persona_of(stage):
    persona = stage.config.get("persona") if isinstance(stage.config, dict) else None
    persona = persona if isinstance(persona, dict) else {}
    return {key: str(persona.get(key) or "") for key in PERSONA_FIELDS}


def empathy_context(stage, audience, participant):
    context = wall_context(stage, audience, participant)
    context["persona"] = persona_of(stage)
    context["empathy"] = True
    return context


def empathy_report_context(stage):
    return empathy_context(stage, "report", None)


def empathy_clean_config(config):
    """The wall's rules, and the persona's three lines under the text rule."""
    config = wall_clean_config(config)
    persona = config.get("persona", {})
    if not isinstance(persona, dict):
        raise ValidationError(_("The stage's settings are damaged."))
    config["persona"] = {
        key: clean_text(persona.get(key) or "", size, required=False, multiline=False)
        for key, size in PERSONA_FIELDS.items()
    }
    config["verbatim"] = True
    return config


def register_empathy():
    register(
        StageKind(
            key="empathy",
            label=gettext_lazy("Empathy map"),
            template="journeys/wall.html",
            context=empathy_context,
            default_config=empathy_config,
            owners=wall_owners,
            report_template="journeys/wall.html",
            report_context=empathy_report_context,
            report_css="journeys/empathy/report.css",
            export=wall_export,
            import_=wall_import,
            rows=wall_rows,
            clean_config=empathy_clean_config,
            config_form=EmpathyConfigForm,
            items=wall_items,
        )
    )
