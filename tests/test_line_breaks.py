"""A line break counts as one character, as the browser's textarea counts it.

Browsers send a textarea's line breaks as CRLF but count each as one
character against its maxlength: the server must count them the same, or a
perimeter the browser let through is refused ("2034 > 2000").
"""

from django.urls import reverse

from journeys import actions as journeys
from workshops.forms import StageForm, WorkshopForm, one_char_line_breaks
from workshops.models import Workshop


def lines_of(total, count):
    """`count` lines of text, `total` characters long when a line break counts one."""
    text_chars = total - (count - 1)
    lengths = [text_chars // count + (1 if i < text_chars % count else 0) for i in range(count)]
    phrase = "Demandes d'intervention et support applicatif, "
    return [(f"{i:02d} " + phrase * 3)[:n] for i, n in enumerate(lengths)]


def crlf(lines):
    return "\r\n".join(lines)


def test_it_builds_the_text_the_issue_describes():
    lines = lines_of(1996, 41)
    assert len(lines) == 41 and len("\n".join(lines)) == 1996
    assert len(crlf(lines)) == 2036 > 2000


def test_it_accepts_a_1996_character_perimeter_on_41_lines_sent_with_crlf(camille, room):
    lines = lines_of(1996, 41)
    response = camille.post(
        reverse("workshops:new"),
        {"title": "Périmètre long", "language": "fr", "perimeter": crlf(lines)},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    workshop = Workshop.objects.get(title="Périmètre long")
    assert workshop.perimeter == "\n".join(lines)
    assert len(workshop.perimeter) == 1996


def test_it_accepts_the_same_intention_when_editing(camille, room):
    lines = lines_of(2000, 41)
    url = reverse("workshops:edit", args=[room.workshop.pk])
    response = camille.post(
        url, {"title": room.workshop.title, "language": "fr", "intention": crlf(lines)}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    room.workshop.refresh_from_db()
    assert room.workshop.intention == "\n".join(lines)


def test_it_still_refuses_a_perimeter_over_the_limit(camille, room):
    lines = lines_of(2001, 41)
    response = camille.post(
        reverse("workshops:new"),
        {"title": "Trop long", "language": "fr", "perimeter": crlf(lines)},
    )
    assert response.status_code == 200
    assert "2001" in response.content.decode()
    assert not Workshop.objects.filter(title="Trop long").exists()


def test_it_counts_crlf_as_one_in_the_form_itself():
    form = WorkshopForm(
        data={"title": "T", "language": "fr", "perimeter": crlf(lines_of(2000, 41))}
    )
    assert form.is_valid(), form.errors
    assert "\r" not in form.cleaned_data["perimeter"]


def test_it_counts_crlf_as_one_in_stage_instructions(room):
    stage = room.stage
    form = StageForm(
        data={
            "kind": stage.kind,
            "title": stage.title,
            "duration_minutes": 10,
            "instructions": crlf(lines_of(4000, 60)),
        },
        instance=stage,
    )
    form.is_valid()
    assert "instructions" not in form.errors
    assert form.cleaned_data["instructions"] == "\n".join(lines_of(4000, 60))


def test_it_keeps_every_value_of_a_repeated_key():
    from django.http import QueryDict

    data = QueryDict("a=1%0D%0A2&a=3%0D%0A4&b=x", mutable=False)
    normalised = one_char_line_breaks(data)
    assert normalised.getlist("a") == ["1\n2", "3\n4"] and normalised["b"] == "x"
    assert data.getlist("a") == ["1\r\n2", "3\r\n4"]  # the request's own data is left alone


def test_it_counts_crlf_as_one_in_a_post_it(room, settings):
    limit = settings.RECIPROQUE["POSTIT_MAX_LENGTH"]
    postit = journeys.add_postit(room.stage, participant=room.alice, text=crlf(lines_of(limit, 10)))
    assert len(postit.text) == limit
