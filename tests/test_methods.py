"""Method templates are data: they load, they copy into a workshop, their kinds exist."""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from workshops import actions, methods
from workshops.registry import FALLBACK, all_kinds, get_kind

METHOD_FILES = sorted((Path(methods.__file__).parent).glob("*.json"))
METHOD_KEYS = [json.loads(p.read_text("utf-8"))["key"] for p in METHOD_FILES]


@pytest.fixture
def camille(db):
    return get_user_model().objects.create_user("camille", password="pw-camille-123")


def test_it_has_the_five_methods_of_the_seeds_in_their_order():
    assert len(METHOD_FILES) == 5
    loaded = methods.all_methods()
    assert sorted(m["key"] for m in loaded) == sorted(METHOD_KEYS)
    assert [m["key"] for m in loaded][0] == "diagnostic"
    orders = [m["order"] for m in loaded]
    assert orders == sorted(orders)
    assert len(set(orders)) == 5


@pytest.mark.parametrize("key", METHOD_KEYS)
def test_it_loads_each_method_in_french_and_english(key):
    method = methods.get_method(key)
    assert method is not None
    for language in ("fr", "en"):
        assert methods.method_title(method, language)
        assert methods.method_summary(method, language)
    assert methods.method_title(method, "fr") != methods.method_title(method, "en")
    assert method["stages"], "a method has stages"
    for stage in method["stages"]:
        assert stage["title"]["fr"] and stage["title"]["en"]
        assert stage["instructions"]["fr"] and stage["instructions"]["en"]
        assert isinstance(stage["duration_minutes"], int) and stage["duration_minutes"] > 0
        for column in (stage.get("config") or {}).get("columns", []):
            assert column["label"]["fr"] and column["label"]["en"]


def test_it_knows_no_method_it_was_not_given():
    assert methods.get_method("nope") is None
    with pytest.raises(KeyError):
        methods.stages_for("nope", "fr")


@pytest.mark.parametrize("key", METHOD_KEYS)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_it_copies_the_stages_of_a_method_in_the_workshops_language(camille, key, language):
    template = methods.get_method(key)["stages"]
    workshop = actions.create_workshop(
        facilitator=camille, method_key=key, title="Atelier", language=language
    )
    stages = list(workshop.stages.all())
    assert workshop.method == key
    assert len(stages) == len(template)
    assert workshop.current_stage_id == stages[0].pk
    assert [s.position for s in stages] == list(range(len(template)))
    for stage, data in zip(stages, template, strict=True):
        assert stage.kind == data["kind"]
        assert stage.title == data["title"][language]
        assert stage.instructions == data["instructions"][language]
        assert stage.duration_minutes == data["duration_minutes"]
        assert stage.private_writing == data.get("private_writing", False)
        assert stage.anonymous == data.get("anonymous", False)
        labels = [c["label"] for c in stage.config.get("columns", [])]
        expected = [c["label"][language] for c in (data.get("config") or {}).get("columns", [])]
        assert labels == expected
        if data.get("planned_kind"):
            assert stage.config["planned_kind"] == data["planned_kind"]


def test_it_copies_the_stages_so_that_editing_them_leaves_the_method_alone():
    stages = methods.stages_for("diagnostic", "fr")
    stages[0]["config"]["columns"][0]["label"] = "Changé"
    stages[0]["title"] = "Changé"
    again = methods.stages_for("diagnostic", "fr")
    assert again[0]["config"]["columns"][0]["label"] != "Changé"
    assert again[0]["title"] != "Changé"


def test_it_starts_a_blank_workshop_with_one_framing_stage(camille):
    workshop = actions.create_workshop(facilitator=camille, title="Vierge", language="fr")
    stages = list(workshop.stages.all())
    assert [s.kind for s in stages] == ["framing"]
    assert workshop.current_stage_id == stages[0].pk
    assert workshop.method == ""
    assert stages[0].config["columns"], "the framing wall has its column"


@pytest.mark.parametrize("key", METHOD_KEYS)
def test_it_uses_only_registered_stage_kinds(key):
    registered = {kind.key for kind in all_kinds()}
    for stage in methods.get_method(key)["stages"]:
        assert stage["kind"] in registered
        assert get_kind(stage["kind"]) is not FALLBACK


def test_it_falls_back_to_a_plain_stage_for_an_unknown_kind():
    assert get_kind("no-such-kind") is FALLBACK
    assert not FALLBACK.writable
