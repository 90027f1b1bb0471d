"""The ideas stage's operations: write challenges and ideas, merge two ideas, tap dots on
and off, close and reopen the vote. Its reading: which ideas each page shows, with which
text, and the ranking's totals (the vote shows its results live)."""

from commitments.ideas import views as idea_views
from commitments.models import Idea
from commitments.votes import tally
from commitments.votes import views as vote_views
from tests.sync_fuzz.base import KindOps
from workshops import actions


def ideas_truth(stage):
    return {str(i.pk): i.text for i in Idea.objects.filter(stage=stage, merged_into__isnull=True)}


def ranking_truth(stage):
    vote = tally.current_vote(stage)
    if vote is None:
        return {}
    items = tally.vote_items(vote, stage)
    ranking = tally.results(vote, items, tally.counted_dots(vote))["ranking"]
    return {row["item"].ref: row["total"] for row in ranking}


def shown_ideas(page):
    seen = {}
    for node in page.dom.elements():
        if node.tag == "li" and "idea" in node.classes() and node.attrs.get("id"):
            pk = node.attrs["id"].removeprefix("idea-")
            text = next(n for n in node.elements() if "idea-text" in n.classes()).text()
            if pk in seen:
                seen[("twice", pk)] = text
            seen[pk] = text
    return seen


def shown_ranking(page):
    return {
        node.attrs["data-ref"]: int(node.attrs["data-total"])
        for node in page.dom.elements()
        if node.tag == "li" and "vote-rank" in node.classes()
    }


def shown_vote(page):
    """The vote the page shows (its pk), if any."""
    for node in page.dom.elements():
        if node.tag == "section" and "vote-panel" in node.classes():
            return node.attrs["id"].removeprefix("vote-")
    return None


class IdeasOps(KindOps):
    name = "ideas"
    residues = frozenset({4})

    def pick_stage(self, stages):
        found = next((s for s in stages if s.kind == self.name), None)
        if found is None:  # the test room's method has none: one more stage
            found = actions.add_stage(stages[0].workshop, kind="ideas", title="Idéation")
        return found

    def prepare(self, fixture, stage):
        from commitments.ideas import actions as ideas
        from commitments.votes import actions as votes

        challenge = ideas.add_challenge(stage, participant=None, text="Comment aller plus vite ?")
        for person, text in zip(fixture.participants[:2], ("Un guichet", "Un SMS"), strict=True):
            ideas.add_idea(stage, participant=person, text=text, challenge=f"c{challenge.pk}")
        votes.open_vote(stage, budget=3, cap=2, double=True, hidden=False, item_type="idea")

    def write(self, world, page):
        rng = world.rng
        stage = world.stage
        if page.audience == "projector":
            return
        ideas = list(shown_ideas(page))
        ideas = [pk for pk in ideas if isinstance(pk, str)]
        vote = shown_vote(page)
        roll = rng.random()
        if page.participant is not None and vote and ideas and roll < 0.7:
            pk = rng.choice(ideas)
            view = vote_views.add_dot if rng.random() < 0.65 else vote_views.remove_dot
            data = {
                "item": f"commitments.idea:{pk}",
                "budget": rng.choice(["first", "second"]),
                "op_id": world.new_op(),
            }
            page.log(view.__name__, pk)
            world.send(page, view, data, vote_pk=int(vote))
        elif page.participant is None and len(ideas) > 2 and roll < 0.25:
            source, target = rng.sample(ideas, 2)
            page.log("merge", source, target)
            world.send(
                page,
                idea_views.merge,
                {"source": source, "target": target, "op_id": world.new_op()},
                stage_pk=stage.pk,
            )
        elif page.participant is None and vote and roll < 0.32:
            page.log("close vote", vote)
            world.send(page, vote_views.close_vote, {"op_id": world.new_op()}, vote_pk=int(vote))
        elif page.participant is None and roll < 0.4:
            page.log("open vote")
            data = {"budget": "3", "cap": "2", "double": "1", "live": "1", "item_type": "idea"}
            world.send(
                page, vote_views.open_vote, data | {"op_id": world.new_op()}, stage_pk=stage.pk
            )
        elif page.participant is None and roll < 0.5:
            page.log("add challenge")
            world.send(
                page,
                idea_views.add_challenge,
                {"text": world.text(), "op_id": world.new_op()},
                stage_pk=stage.pk,
            )
        else:
            page.log("add idea")
            world.send(
                page,
                idea_views.add_idea,
                {"text": world.text(), "challenge": "", "op_id": world.new_op()},
                stage_pk=stage.pk,
            )

    def check(self, world):
        problems = []
        ideas = ideas_truth(world.stage)
        ranking = ranking_truth(world.stage)
        vote = tally.current_vote(world.stage)
        for page in world.pages:
            if page.audience != "projector" or vote is None:
                seen = shown_ideas(page)
                if seen != ideas:
                    problems.append(
                        f"{page.name}'s ideas differ from the database:\n"
                        f"  page: {sorted(seen.items(), key=str)}\n"
                        f"  db:   {sorted(ideas.items())}"
                    )
            shown = shown_vote(page)
            if vote is not None and shown != str(vote.pk):
                problems.append(f"{page.name} shows vote {shown}, the room has {vote.pk}")
            if vote is not None and vote.shows_results and shown_ranking(page) != ranking:
                problems.append(
                    f"{page.name}'s ranking differs from the database:\n"
                    f"  page: {sorted(shown_ranking(page).items())}\n"
                    f"  db:   {sorted(ranking.items())}"
                )
        return problems


KIND = IdeasOps()
