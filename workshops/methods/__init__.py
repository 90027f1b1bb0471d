"""Method templates: data, not code.

Each JSON file beside this one is a method from the seeds: an ordered list of
stages, each of a stage kind, with its instructions (FR and EN) and the
duration the method suggests. Creating a workshop copies the stages in the
workshop's language; the facilitator then edits them freely.
"""

import json
from functools import cache
from pathlib import Path

from django.utils import translation

from ..registry import FALLBACK, get_kind, opening_kind

HERE = Path(__file__).parent


@cache
def _load():
    methods = [json.loads(path.read_text("utf-8")) for path in sorted(HERE.glob("*.json"))]
    return {m["key"]: m for m in sorted(methods, key=lambda m: m["order"])}


def all_methods():
    return list(_load().values())


def get_method(key):
    return _load().get(key)


def localise(value, language):
    if isinstance(value, dict):
        return value.get(language) or value.get("fr") or next(iter(value.values()), "")
    return value


def localise_config(value, language):
    """Any {"fr": ..., "en": ...} inside a stage's config (a map's labels) in `language`."""
    if isinstance(value, dict):
        if value and set(value) <= {"fr", "en"}:
            return localise(value, language)
        return {key: localise_config(item, language) for key, item in value.items()}
    if isinstance(value, list):
        return [localise_config(item, language) for item in value]
    return value


def _stage_fields(data, language):
    """One stage of a method (or of one of its variants) as Stage fields, in `language`."""
    config = localise_config(dict(data.get("config") or {}), language)
    if "columns" in config:  # a wall's (a journey has none)
        config["columns"] = [
            {**column, "label": localise(column["label"], language)} for column in config["columns"]
        ]
    if data.get("planned_kind"):
        config["planned_kind"] = data["planned_kind"]
    return {
        "kind": data["kind"],
        "title": localise(data["title"], language),
        "instructions": localise(data["instructions"], language),
        "duration_minutes": data["duration_minutes"],
        "private_writing": data.get("private_writing", False),
        "anonymous": data.get("anonymous", False),
        "config": config,
    }


def stages_for(key, language):
    """The method's stages as Stage fields, in `language`."""
    method = get_method(key)
    if method is None:
        raise KeyError(key)
    return [_stage_fields(data, language) for data in method["stages"]]


def variants_for(key, language, kinds_present=()):
    """The optional stages a method offers (seed 000: "Variante possible"), as
    [{key, label, stage}], for the kinds installed and not yet in the workshop."""
    method = get_method(key) if key else None
    return [
        {
            "key": variant["key"],
            "label": localise(variant["label"], language),
            "stage": _stage_fields(variant["stage"], language),
        }
        for variant in (method or {}).get("variants", [])
        if get_kind(variant["stage"]["kind"]) is not FALLBACK
        and variant["stage"]["kind"] not in kinds_present
    ]


def blank_stages(language):
    """A blank workshop starts with the stage its opening kind offers (the framing wall)."""
    kind = opening_kind()
    if kind is None:
        return []
    with translation.override(language):
        return [{"kind": kind.key, **kind.blank_stage()}]


def method_title(method, language=None):
    return localise(method["title"], language or translation.get_language() or "fr")


def method_summary(method, language=None):
    return localise(method["summary"], language or translation.get_language() or "fr")
