"""User text is text: the XSS corpus in every field, in pages, htmx replies, pushes, the report.

Fast and without a browser: each HTML is parsed with Python's own
`html.parser` (tests/xss_corpus.py), which lists any element or attribute
that only injected text could have produced. The real-browser twin, which
checks that no script runs, is tests/browser/test_xss.py.
"""

import http.server
import subprocess
import threading

import pytest
from django.test import Client
from django.urls import reverse

from commitments.ideas import actions as ideas
from commitments.promise import actions as promise
from commitments.promise import poster
from commitments.reciprocal import actions as reciprocal
from commitments.sheets import actions as sheets
from commitments.sheets.kinds import sheets_of
from commitments.sheets.models import ActionSheet
from commitments.tree import actions as tree
from commitments.votes import actions as votes
from journeys import actions as journeys
from journeys.journey import actions as journey
from journeys.models import CauseKind, PostIt
from journeys.tensions import actions as matrix
from mapping import actions as mapping
from workshops import actions
from workshops.exports import report
from workshops.live.regions import render_live, render_snapshot
from workshops.models import Event, Profile, Stage, Workshop
from workshops.registry import item_of
from workshops.trace import ref

from .base import HTMX, log_in_participant
from .xss_corpus import PAYLOADS, SHORT, inspect_html, text_of


def groups(payloads, size):
    return [payloads[i : i + size] for i in range(0, len(payloads), size)]


def joined(payloads, limit):
    """Payloads side by side, as many as fit in `limit` characters."""
    text = ""
    for payload in payloads:
        candidate = f"{text} | {payload}" if text else payload
        if len(candidate) > limit:
            break
        text = candidate
    return text


class XssRoom:
    """A workshop where everything a person types is hostile, built through the actions.

    Workshop-level fields (title, observed service, perimeter, intention)
    hold six payloads each (as many as fit), in one small workshop per group; everything
    that comes many at a time (participants, post-its, themes, stages, columns,
    actors, flows) holds one payload each in the main workshop.
    """

    def __init__(self):
        from django.contrib.auth import get_user_model

        self.facilitator = get_user_model().objects.create_user("camille", password="pw-xss-1")
        self.workshops = []
        for group in groups(PAYLOADS, 6):
            self.workshops.append(
                actions.create_workshop(
                    facilitator=self.facilitator,
                    method_key=None,
                    title=joined(group, 200),
                    observed_service=joined(reversed(group), 200),
                    perimeter="\n".join(group),
                    intention=" ".join(group),
                    language="fr",
                )
            )
        self.workshop = workshop = self.workshops[0]
        self.people = [
            actions.join(
                workshop,
                display_name=payload,
                profile=Profile.values[i % len(Profile.values)],
                organisation=SHORT[-1 - i],
            )
            for i, payload in enumerate(SHORT)
        ]
        self.alice = self.people[0]
        # People without a phone, added from the console: the console's "write for" choice,
        # its presence list, and the post-its marked as entered by the facilitator.
        self.proxies = [
            actions.add_participant(
                workshop,
                display_name=payload,
                profile=Profile.PARTNER,
                organisation=SHORT[i],
            )
            for i, payload in enumerate(SHORT[:8])
        ]
        columns = [
            {"key": f"col{i}", "label": payload[:60], "colour": "yellow"}
            for i, payload in enumerate(PAYLOADS[:8])
        ]
        self.wall = actions.add_stage(
            workshop,
            kind="wall",
            title=PAYLOADS[1],
            instructions=PAYLOADS[2],
            config={"columns": columns},
        )
        self.secret = actions.add_stage(
            workshop, kind="wall", title=PAYLOADS[3], private_writing=True
        )
        self.map = actions.add_stage(
            workshop,
            kind="map",
            title=PAYLOADS[4],
            config={
                "circles": dict(
                    zip(("suppliers", "centre", "clients"), PAYLOADS[5:8], strict=True)
                ),
                "questions": PAYLOADS[8:12],
                "answers": dict(
                    zip(("they_expect", "we_expect", "mismatch"), PAYLOADS[12:15], strict=True)
                ),
            },
        )
        # Stage titles, instructions and column labels: a few stages, eight payloads each.
        self.stages = [
            actions.add_stage(
                workshop,
                kind="wall",
                title=joined(group, 200),
                instructions="\n".join(group),
                config={
                    "columns": [
                        {"key": f"k{i}", "label": p[:60], "colour": "blue"}
                        for i, p in enumerate(group)
                    ]
                },
            )
            for group in groups(PAYLOADS[8:], 8)
        ]

        # The map first, while it is not on screen (a redraw of the whole map per write
        # would cost minutes): the redraws come with moving there, and one write after.
        mapping.edit_actor(
            self.map, "centre", participant=None, name=PAYLOADS[0][:80], scope="internal"
        )
        self.actors = [
            mapping.add_actor(
                self.map,
                participant=None,
                name=payload,
                circle=("suppliers", "clients")[i % 2],
                description=PAYLOADS[-1 - i][:300],
            )
            for i, payload in enumerate(p for p in PAYLOADS if len(p) <= 80)
        ]
        self.flows = [
            mapping.add_flow(
                self.map,
                participant=None,
                source=str(self.actors[i].pk),
                target="centre",
                kind="information",
                label=payload[:120],
                they_expect=payload,
                we_expect=PAYLOADS[-1 - i],
                mismatch=payload,
            )
            for i, payload in enumerate(PAYLOADS[:20])
        ]
        actions.go_to_stage(workshop, self.map)
        mapping.rate_flow(self.flows[0], participant=self.alice, rating="friction")

        # The tension matrix: a flow in friction promoted while the map is on screen (its
        # "Led to…" chip), then every field written off screen, and a few writes live.
        self.tensions = actions.add_stage(workshop, kind="tensions", title=PAYLOADS[5])
        matrix.promote_item(self.tensions, item_of(self.flows[0]))
        tensions = [
            matrix.add_tension(self.tensions, participant=self.proxies[i % 8], text=payload)
            for i, payload in enumerate(PAYLOADS[:20])
        ]
        for i, payload in enumerate(PAYLOADS):
            tension = tensions[i % len(tensions)]
            cause = matrix.add_cause(
                tension, participant=None, kind=CauseKind.values[i % 5], text=payload[:300]
            )
            if i < 3:
                matrix.me_too(cause, participant=self.proxies[1])
            opportunity = matrix.add_opportunity(tension, participant=None, text=payload[:300])
            if i % 3 == 0:
                matrix.add_challenge(opportunity, participant=None, text=payload[:200])
        actions.go_to_stage(workshop, self.tensions)
        matrix.add_cause(tensions[0], participant=self.alice, kind="other", text=PAYLOADS[-1])
        live = matrix.add_opportunity(tensions[1], participant=self.alice, text=PAYLOADS[-2])
        matrix.add_challenge(live, participant=self.alice, text=PAYLOADS[-3])

        # Themes (while the wall is empty: each redraws it), then post-its, written live.
        actions.go_to_stage(workshop, self.wall)
        clusters = [
            journeys.add_cluster(self.wall, name=group[0])
            for group in groups([p for p in PAYLOADS if len(p) <= 80], 8)
        ]
        self.postits = [
            journeys.add_postit(
                self.wall,
                participant=self.people[i % len(self.people)],
                text=payload,
                column=f"col{i % 8}",
            )
            for i, payload in enumerate(PAYLOADS)
        ]
        self.postits += [
            journeys.add_postit(
                self.wall, participant=proxy, text=PAYLOADS[-3 - i], column=f"col{i % 8}"
            )
            for i, proxy in enumerate(self.proxies)
        ]
        for i, cluster in enumerate(clusters):
            journeys.assign_cluster(self.wall, [self.postits[i].pk], cluster)
        journeys.rename_cluster(clusters[0], name=PAYLOADS[-2][:80])
        journeys.edit_postit(self.postits[0], participant=self.alice, text=PAYLOADS[-1])

        # The empathy map: its persona and verbatim post-its (written off screen).
        self.empathy = actions.add_stage(workshop, kind="empathy", title=PAYLOADS[6])
        persona = {"name": SHORT[1], "role": SHORT[2], "sentence": PAYLOADS[3][:200]}
        actions.update_stage(self.empathy, config={**self.empathy.config, "persona": persona})
        self.empathy.refresh_from_db()
        for i, payload in enumerate(PAYLOADS[:12]):
            journeys.add_postit(
                self.empathy,
                participant=None,
                text=payload,
                column=("says", "thinks", "does", "feels", "pains", "gains")[i % 6],
                verbatim=i % 2 == 0,
            )

        # Private post-its: their author's frames.
        actions.go_to_stage(workshop, self.secret)
        for payload in PAYLOADS[:10]:
            journeys.add_postit(self.secret, participant=self.alice, text=payload)

        # Ideas: challenges, ideas under them, a promoted post-it, a merge, and a named
        # double vote shown live (ballots, ranking, the chart's labels), all hostile.
        self.ideas = actions.add_stage(workshop, kind="ideas", title=PAYLOADS[5])
        actions.go_to_stage(workshop, self.ideas)
        self.challenges = [
            ideas.add_challenge(self.ideas, participant=self.people[i], text=payload[:300])
            for i, payload in enumerate(PAYLOADS[:4])
        ]
        self.ideas_written = [
            ideas.add_idea(
                self.ideas,
                participant=self.people[i % len(self.people)],
                text=payload[:500],
                challenge=f"c{self.challenges[i % 4].pk}",
            )
            for i, payload in enumerate(PAYLOADS[4:16])
        ]
        item = next(
            i for i in ideas.other_items(self.ideas)["postit"] if i.obj.pk == self.postits[3].pk
        )
        self.ideas_written.append(ideas.promote_item(self.ideas, item))
        ideas.merge_ideas(
            self.ideas, source=self.ideas_written[1].pk, target=self.ideas_written[0].pk
        )
        self.vote = votes.open_vote(
            self.ideas,
            budget=5,
            cap=3,
            double=True,
            first_label=SHORT[20],
            second_label=SHORT[21],
            anonymous=False,
            hidden=False,
            item_type="idea",
        )
        for i, idea in enumerate(self.ideas_written[2:7]):
            votes.add_dot(self.vote, participant=self.alice, item=ref(idea), budget="first")
            votes.add_dot(
                self.vote, participant=self.people[i + 1], item=ref(idea), budget="second"
            )

        # The journey: perspectives, situations, steps and post-its (written while it is
        # not on screen, then a few live, and every kind of redraw with it).
        short = [p for p in PAYLOADS if len(p) <= 60]
        self.journey = actions.add_stage(
            workshop,
            kind="journey",
            title=PAYLOADS[5],
            instructions=PAYLOADS[6],
            config={
                "perspectives": [
                    {"key": key, "label": label}
                    for key, label in zip(("client", "service", "supplier"), short, strict=False)
                ]
            },
        )
        self.situations = [
            journey.add_situation(self.journey, participant=None, name=p) for p in short[:6]
        ]
        self.steps = [
            journey.add_step(self.journey, participant=None, name=p, moment_of_truth=i % 3 == 0)
            for i, p in enumerate(short[6:14])
        ]

        def jpostit(i, payload, participant):
            return journey.add_postit(
                self.journey,
                participant=participant,
                situation=self.situations[0].pk,
                step=self.steps[i % len(self.steps)].pk,
                perspective=("client", "service", "supplier")[i % 3],
                colour=("green", "red", "orange")[i % 3],
                text=payload,
            )

        # Off screen, the facilitator writes (participants write on the current stage only).
        self.jpostits = [jpostit(i, p, None) for i, p in enumerate(PAYLOADS[:-12])]
        actions.go_to_stage(workshop, self.journey)
        self.jpostits += [
            jpostit(i, p, self.people[i % len(self.people)]) for i, p in enumerate(PAYLOADS[-12:])
        ]
        journey.add_situation(self.journey, participant=self.alice, name=short[14])
        journey.add_step(self.journey, participant=self.alice, name=short[15])
        journey.rate(
            self.journey,
            participant=self.alice,
            situation=self.situations[0].pk,
            step=self.steps[0].pk,
            perspective="client",
            value=-2,
        )
        journey.edit_postit(
            self.jpostits[-12], participant=self.people[0], text=PAYLOADS[-1], colour="red"
        )
        journey.set_view(self.journey, view="heatmap")
        # Action sheets: every field a payload, written while the stage is not on screen;
        # then signatures (names, profiles, organisations are payloads) with the room on it.
        self.sheets = actions.add_stage(
            workshop, kind="actions", title=PAYLOADS[5], config={"signatures": "any_two"}
        )
        self.action_sheets = []
        for i, payload in enumerate(PAYLOADS[:6]):
            sheet = sheets.add_sheet(self.sheets, participant=None, title=payload[:160])
            for j, field in enumerate(ActionSheet.TEXT_FIELDS[1:]):
                value = "\n".join(PAYLOADS[(i + j) % len(PAYLOADS) :][:3])
                sheets.edit_sheet(sheet, participant=None, field=field, value=value[:1000])
            self.action_sheets.append(sheet)
        actions.go_to_stage(workshop, self.sheets)
        for i, sheet in enumerate(self.action_sheets[:3]):
            sheets.edit_sheet(
                sheet, participant=self.people[i], field="owner", value=str(self.people[i].pk)
            )
            sheets.edit_sheet(
                sheet,
                participant=self.proxies[i],
                field="co_owners",
                value=[str(p.pk) for p in self.people[i + 1 : i + 4]],
            )
        for i, sheet in enumerate(self.action_sheets[:3]):
            for signer in (self.people[i], self.proxies[i]):
                [current] = sheets_of(self.sheets, pk=sheet.pk)
                sheets.sign_sheet(
                    sheet,
                    participant=signer,
                    content_hash=current.hash,
                    by_facilitator=signer.added_by_facilitator,
                )
        sheets.edit_sheet(
            self.action_sheets[0], participant=self.alice, field="indicators", value=PAYLOADS[7]
        )
        # The table of reciprocal commitments, from the map's hostile actors and typed in,
        # with pairs, every column (the fourth opened by a hostile organisation) and a meeting.
        self.table = actions.add_stage(workshop, kind="reciprocal", title=PAYLOADS[6])
        actions.go_to_stage(workshop, self.table)
        self.rows = [
            *reciprocal.prefill_rows(self.table, circle="clients"),
            *(
                reciprocal.add_row(self.table, label=f"R{i} {p}"[:120])
                for i, p in enumerate(SHORT[30:34])
            ),
        ]
        actions.join(
            workshop, display_name="Org", profile=Profile.AGENT, organisation=self.rows[-1].label
        )
        for i, row in enumerate(self.rows[-4:]):
            reciprocal.take_row(self.table, participant=self.people[i], row=row.pk)
            for n, field in enumerate(
                ("expects_from_us", "we_commit", "we_expect", "acceptable", "unacceptable")
            ):
                reciprocal.write_cell(
                    self.table,
                    participant=self.people[i],
                    row=row.pk,
                    field=field,
                    text=PAYLOADS[(i * 5 + n) % len(PAYLOADS)][:500],
                )
        reciprocal.write_cell(
            self.table,
            participant=None,
            row=self.rows[-1].pk,
            field="they_commit",
            text=PAYLOADS[7][:500],
        )
        reciprocal.record_meeting(
            self.table, participant=None, row=self.rows[-1].pk, met="1", feedback=PAYLOADS[8]
        )
        # The promise: hostile client, paragraphs by hostile names, ways of working, signatures.
        self.promise_stage = actions.add_stage(workshop, kind="promise", title=PAYLOADS[9])
        actions.go_to_stage(workshop, self.promise_stage)
        self.promise = promise.add_promise(self.promise_stage, client=SHORT[35][:120])
        for position in range(4):
            promise.write_paragraph(
                self.promise_stage,
                participant=self.people[position],
                promise=self.promise.pk,
                position=position,
                text=PAYLOADS[10 + position][:300],
            )
        for i in range(5):
            promise.add_commitment(
                self.promise_stage,
                participant=self.people[i],
                promise=self.promise.pk,
                text=SHORT[36 + i][:160],
            )
        for person in self.people[:3]:
            promise.sign(self.promise_stage, participant=person, promise=self.promise.pk)
        # The commitment tree: hostile commitments towards hostile actors and typed-in
        # services, by hostile names, drawn in the tree's and the alliance map's SVG.
        self.tree = actions.add_stage(
            workshop, kind="tree", title=PAYLOADS[6], config={"per_person": 10}
        )
        actions.go_to_stage(workshop, self.tree)
        for i, payload in enumerate(PAYLOADS[:24]):
            fields = {"sentence": "commit"}
            if i % 3 == 1:
                fields = {"sentence": "relation", "target": ref(self.actors[i % len(self.actors)])}
            elif i % 3 == 2:
                fields = {"sentence": "relation", "target": "other", "target_name": SHORT[i][:120]}
            tree.add_commitment(
                self.tree,
                participant=self.people[i % len(self.people)],
                text=payload[:300],
                **fields,
            )
        tree.show_view(self.tree, view="alliances")
        tree.show_view(self.tree, view="tree")
        # A review with a hostile name: every kind's statuses and texts, hostile, written
        # live on each review stage (the then-and-now table, the trend, the report).
        from reviews import actions as reviews
        from reviews.kinds import SPECS
        from workshops.registry import workshop_items

        opened = reviews.open_review(workshop, label=SHORT[3][:80], day="2027-01-05")
        self.review_stages = opened
        for stage in opened:
            actions.go_to_stage(workshop, stage)
            spec = SPECS[stage.kind]
            for i, item in enumerate(workshop_items(workshop, spec.item_type)[:6]):
                author = next((p for p in self.people if p.pk == item.author_id), None)
                who = author if spec.by_author else self.people[i % len(self.people)]
                texts = {
                    name: PAYLOADS[(i + n) % len(PAYLOADS)][:1000]
                    for n, name in enumerate(spec.fields)
                }
                reviews.record(
                    stage,
                    participant=who if (who is not None or not spec.by_author) else None,
                    item=item.ref,
                    status=spec.statuses[i % len(spec.statuses)][0],
                    texts=texts,
                )

        for stage in self.stages:
            actions.go_to_stage(workshop, stage)
        actions.go_to_stage(workshop, self.wall)


@pytest.fixture(scope="module")
def xss(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module (it takes a few seconds); never committed."""
    from django.db import transaction
    from django.test.utils import override_settings

    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            VAR_DIR=tmp_path_factory.mktemp("var"),
        ),
        transaction.atomic(),
    ):
        yield XssRoom()
        transaction.set_rollback(True)


def _problems(where, html, **options):
    return [f"{where}: {problem}" for problem in inspect_html(html, **options)]


def _camille(room):
    client = Client()
    client.force_login(room.facilitator)
    return client


def test_the_corpus_is_big_and_varied_enough():
    assert len(PAYLOADS) >= 40
    assert len(SHORT) >= 40  # enough to fill names, which are 60 characters at most
    kinds = ("<script", "onerror", "javascript:", "<svg", "<math", "hx-", "{{", "{%")
    for kind in kinds:
        assert any(kind in payload for payload in PAYLOADS), kind
    # The checker would see every markup payload, had one got through unescaped.
    for payload in PAYLOADS:
        if "<" in payload and "<%" not in payload and not payload.startswith("&"):
            assert inspect_html(f"<div>{payload}</div>"), payload


def test_it_keeps_every_field_inert_in_full_pages(xss):
    room = xss
    camille = _camille(room)
    alice = log_in_participant(Client(), room.alice)
    problems = []
    pages = {
        "dashboard": (camille, reverse("workshops:dashboard")),
        "console": (camille, reverse("workshops:console", args=[room.workshop.pk])),
        "projector": (camille, reverse("workshops:projector", args=[room.workshop.pk])),
        "phone": (alice, reverse("workshops:live", args=[room.workshop.pk])),
        "join": (Client(), reverse("join", args=[room.workshop.join_token])),
        "workshop form": (camille, reverse("workshops:edit", args=[room.workshop.pk])),
        "stage form": (
            camille,
            reverse("workshops:stage_edit", args=[room.workshop.pk, room.stages[0].pk]),
        ),
        # A new stage's form offers every journey to mirror, by its (hostile) title.
        "new stage form": (camille, reverse("workshops:stage_add", args=[room.workshop.pk])),
    }
    for workshop in room.workshops[1:]:
        pages[f"console {workshop.pk}"] = (
            camille,
            reverse("workshops:console", args=[workshop.pk]),
        )
        pages[f"workshop form {workshop.pk}"] = (
            camille,
            reverse("workshops:edit", args=[workshop.pk]),
        )
    for name, (client, url) in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        problems += _problems(name, html)
    # The text is there, as text.
    console = text_of(camille.get(pages["console"][1]).content.decode())
    for payload in (PAYLOADS[0], SHORT[5], "{{ 7*7 }}"):
        assert payload in console or payload.replace("\n", " ") in console
    assert not problems, "\n".join(problems)


def test_it_keeps_every_field_inert_in_htmx_replies(xss):
    room = xss
    camille = _camille(room)
    alice = log_in_participant(Client(), room.alice)
    w = room.workshop.pk
    problems = []
    replies = {
        "presence": (camille, reverse("workshops:presence", args=[w])),
        "mine": (alice, reverse("journeys:mine", args=[w, room.secret.pk])),
        "actor form": (camille, reverse("mapping:actor_new", args=[w, room.map.pk])),
        "flow form": (camille, reverse("mapping:flow_new", args=[w, room.map.pk])),
        "ballot": (alice, reverse("commitments:ballot", args=[w, room.vote.pk])),
        "journey panel": (alice, reverse("journeys:journey_panel", args=[w, room.journey.pk])),
    }
    for postit in room.jpostits[::12]:
        replies[f"journey edit form {postit.pk}"] = (
            camille,
            reverse("journeys:journey_edit_postit", args=[w, postit.pk]),
        )
    for postit in room.postits[:: max(1, len(room.postits) // 12)]:
        replies[f"post-it {postit.pk}"] = (
            camille,
            reverse("journeys:show_postit", args=[w, postit.pk]),
        )
        replies[f"edit form {postit.pk}"] = (
            camille,
            reverse("journeys:edit_postit", args=[w, postit.pk]),
        )
    for actor in room.actors[::6]:
        replies[f"actor {actor.pk}"] = (
            camille,
            reverse("mapping:actor_edit", args=[w, room.map.pk, actor.ref]),
        )
    for flow in room.flows[::5]:
        replies[f"flow {flow.pk}"] = (camille, reverse("mapping:flow_edit", args=[w, flow.pk]))
    replies["new sheet form"] = (camille, reverse("sheets:new", args=[w, room.sheets.pk]))
    for sheet in room.action_sheets[:2]:
        for field in ActionSheet.EDITABLE:
            url = reverse("sheets:edit", args=[w, sheet.pk]) + f"?field={field}"
            replies[f"sheet {sheet.pk} {field} form"] = (camille, url)
        replies[f"sheet {sheet.pk} sign"] = (alice, reverse("sheets:sign", args=[w, sheet.pk]))
        replies[f"sheet {sheet.pk} sign for"] = (
            camille,
            reverse("sheets:sign_for", args=[w, sheet.pk]),
        )
    for name, (client, url) in replies.items():
        response = client.get(url, **HTMX)
        assert response.status_code == 200, name
        problems += _problems(name, response.content.decode())
    # A refused write answers with the text it refused, in the form again.
    response = camille.post(
        reverse("journeys:edit_postit", args=[w, room.postits[1].pk]),
        {"text": PAYLOADS[6] * 20, "op_id": "xss-refused-edit-01"},
        **HTMX,
    )
    assert response.status_code == 400
    problems += _problems("refused edit", response.content.decode())
    # And a write's own reply: the new post-it, for its author.
    response = alice.post(
        reverse("journeys:add_postit", args=[w, room.wall.pk]),
        {"text": PAYLOADS[10], "column": "col0", "op_id": "xss-new-postit-01"},
        **HTMX,
    )
    assert response.status_code == 200
    problems += _problems("new post-it", response.content.decode())
    # The console writing for someone without a phone, and adding another.
    response = camille.post(
        reverse("journeys:add_postit", args=[w, room.wall.pk]),
        {
            "text": PAYLOADS[12],
            "column": "col0",
            "as_participant": str(room.proxies[1].pk),
            "op_id": "xss-proxy-postit-01",
        },
        **HTMX,
    )
    assert response.status_code == 200
    problems += _problems("post-it written for someone", response.content.decode())
    response = camille.post(
        reverse("workshops:add_participant", args=[w]),
        {"display_name": SHORT[9], "profile": "partner", "organisation": SHORT[10]},
        **HTMX,
    )
    assert response.status_code == 200
    assert SHORT[9] in text_of(response.content.decode())
    problems += _problems("someone added from the console", response.content.decode())
    assert not problems, "\n".join(problems)


def test_it_keeps_every_field_inert_in_websocket_pushes_and_snapshots(xss):
    room = xss
    problems = []
    events = list(Event.objects.filter(workshop=room.workshop))
    assert len(events) > len(PAYLOADS)
    for event in events:
        for audience, html in event.frames.items():
            problems += _problems(f"event {event.seq} {event.type} ({audience})", html)
    workshop = Workshop.objects.select_related("current_stage").get(pk=room.workshop.pk)
    # (The other stages' live regions are in the frames of moving there, checked above.)
    for stage in [
        room.wall,
        room.secret,
        room.map,
        room.ideas,
        room.journey,
        room.tensions,
        room.empathy,
        room.sheets,
        room.table,
        room.promise_stage,
        room.tree,
        *room.review_stages,
    ]:
        Workshop.objects.filter(pk=workshop.pk).update(current_stage=stage)
        workshop.refresh_from_db()
        # (The projector's board is the console's without its tools.)
        for audience in ("facilitator", "participant"):
            participant = room.alice if audience == "participant" else None
            html, _own = render_snapshot(workshop, audience, participant)
            problems += _problems(f"snapshot of {stage.pk} ({audience})", html)
            if audience == "participant":
                html, _own = render_live(workshop, audience)
                problems += _problems(f"live region of {stage.pk}", html)
    assert not problems, "\n".join(problems)


def test_it_keeps_every_field_inert_in_the_report(xss):
    room = xss
    problems = []
    for workshop in room.workshops:
        html = report.report_html(workshop)
        # The report's stylesheet is the template's own.
        problems += _problems(f"report of {workshop.pk}", html, allow=("style",))
    text = text_of(report.report_html(room.workshop))
    assert PAYLOADS[0] in text
    from reviews.report import report_html as review_html

    html = review_html(room.workshop, room.review_stages)
    problems += _problems("review report", html, allow=("style",))
    assert SHORT[3][:80].split()[0] in text_of(html)
    assert not problems, "\n".join(problems)


def test_it_keeps_every_field_inert_in_the_poster_and_its_pdf(xss, tmp_path):
    room = xss
    html = poster.poster_html(room.promise_stage, room.promise)
    problems = _problems("poster", html, allow=("style",))
    assert not problems, "\n".join(problems)
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(poster.render_pdf(room.promise_stage, room.promise))
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    # Printed as text: the first paragraph's markup is there, character for character.
    assert "".join(PAYLOADS[10][:300].split()) in flat


def test_it_keeps_the_follow_up_page_inert(xss):
    room = xss
    page = _camille(room).get(
        reverse("commitments:follow_up_page", args=[room.workshop.pk, room.table.pk])
    )
    assert page.status_code == 200
    problems = _problems("follow-up page", page.content.decode())
    assert not problems, "\n".join(problems)


class _Spy(http.server.BaseHTTPRequestHandler):
    hits = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        _Spy.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


def test_it_prints_hostile_text_as_text_and_fetches_nothing_for_the_pdf(db, settings, tmp_path):
    """WeasyPrint runs no script, but would fetch URLs of markup that got through."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.VAR_DIR = tmp_path
    spy = http.server.HTTPServer(("127.0.0.1", 0), _Spy)
    threading.Thread(target=spy.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{spy.server_port}"
    fetching = [
        f'<img src="{base}/img" rqxss>',
        f'<link rel=stylesheet href="{base}/css">',
        f"<style>@import url({base}/import);</style>",
        f'<object data="{base}/object"></object>',
        '<img src="file:///etc/passwd">',
        '<a href="javascript:__xss=1">lien</a>',
    ]
    try:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user("camille", password="pw-xss-1")
        workshop = actions.create_workshop(
            facilitator=user,
            method_key=None,
            title=fetching[0],
            observed_service=fetching[1],
            perimeter=fetching[2],
            intention="{{ 7*7 }}",
            language="fr",
        )
        alice = actions.join(workshop, display_name=fetching[5][:60], profile=Profile.AGENT)
        wall = actions.add_stage(workshop, kind="wall", title=fetching[3], instructions="x")
        actions.go_to_stage(workshop, wall)
        for payload in [*fetching, *PAYLOADS[:15]]:
            journeys.add_postit(wall, participant=alice, text=payload)
        pdf = report.write_pdf(Workshop.objects.get(pk=workshop.pk), tmp_path / "report.pdf")
    finally:
        spy.shutdown()
    assert _Spy.hits == [], f"the PDF fetched {_Spy.hits}"
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "{{ 7*7 }}" in flat
    assert "<img src=" in flat  # printed as text, not drawn
    assert PostIt.objects.filter(stage=wall).count() == len(fetching) + 15
    assert Stage.objects.filter(workshop=workshop).count() == 2
