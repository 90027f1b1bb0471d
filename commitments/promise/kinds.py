"""The `promise` stage kind: the service promise, co-written live, and its A3 poster."""

from django.utils import timezone
from django.utils.translation import gettext_lazy

from workshops.registry import Item, StageKind, register
from workshops.text import clean_key
from workshops.trace import document_refs, ref

from .models import (
    MAX_COMMITMENTS,
    MAX_PARAGRAPHS,
    MIN_COMMITMENTS,
    Paragraph,
    Promise,
    PromiseCommitment,
    PromiseSignature,
)

TEMPLATE = "commitments/promise/promise.html"


def build_promises(stage, audience="report", participant=None):
    promises = list(Promise.objects.filter(stage=stage))
    paragraphs = list(Paragraph.objects.filter(promise__stage=stage).select_related("edited_by"))
    commitments = list(
        PromiseCommitment.objects.filter(promise__stage=stage).select_related("author")
    )
    signatures = list(
        PromiseSignature.objects.filter(promise__stage=stage).select_related("participant")
    )
    for promise in promises:
        promise.shown_paragraphs = [p for p in paragraphs if p.promise_id == promise.pk]
        promise.shown_commitments = [c for c in commitments if c.promise_id == promise.pk]
        promise.signature_list = [
            s for s in signatures if s.promise_id == promise.pk and s.participant.removed_at is None
        ]
        promise.signatories = [s.participant for s in promise.signature_list]
        promise.can_add_paragraph = len(promise.shown_paragraphs) < MAX_PARAGRAPHS
        promise.next_position = len(promise.shown_paragraphs)
        promise.can_add_commitment = len(promise.shown_commitments) < MAX_COMMITMENTS
        promise.few_commitments = len(promise.shown_commitments) < MIN_COMMITMENTS
        promise.signed_by_me = participant is not None and any(
            p.pk == participant.pk for p in promise.signatories
        )
    return {
        "promises": promises,
        "min_commitments": MIN_COMMITMENTS,
        "max_commitments": MAX_COMMITMENTS,
        "service_name": stage.workshop.observed_service or stage.workshop.title,
    }


def promise_context(stage, audience, participant):
    return build_promises(stage, audience, participant)


def promise_report_context(stage):
    from django.conf import settings
    from django.urls import reverse

    context = build_promises(stage)
    for promise in context["promises"]:
        # A link in a PDF needs the whole address: without PUBLIC_URL, only the words.
        promise.poster_url = settings.PUBLIC_URL and settings.PUBLIC_URL + reverse(
            "commitments:poster", args=[stage.workshop_id, stage.pk, promise.pk]
        )
    return context


def poster_context(stage, promise):
    from workshops.models import Workshop

    workshop = Workshop.objects.get(pk=stage.workshop_id)
    stage.workshop = workshop
    built = build_promises(stage)
    promise = next(p for p in built["promises"] if p.pk == promise.pk)
    # The type is set by how much there is to say: a short promise fills the wall in large
    # type, the longest one still fits the page (tests/test_reciprocal_promise.py).
    said = sum(len(p.text) for p in promise.shown_paragraphs)
    kept = sum(len(c.text) for c in promise.shown_commitments)
    text_size = next(size for limit, size in POSTER_TEXT_SIZES if said <= limit)
    keep_size = next(size for limit, size in POSTER_KEEP_SIZES if kept <= limit)
    return {
        "workshop": workshop,
        "promise": promise,
        "service_name": built["service_name"],
        "day": workshop.date or timezone.localdate(),
        "text_size": text_size,
        "keep_size": keep_size,
        "name_size": next(
            size for limit, size in POSTER_NAME_SIZES if len(built["service_name"]) <= limit
        ),
        "roomy": said <= 260 and kept <= 300,
    }


# (up to this many characters, this type size in points)
POSTER_TEXT_SIZES = ((150, 40), (260, 33), (450, 25), (800, 19), (10**9, 16))
POSTER_KEEP_SIZES = ((160, 22), (300, 18), (550, 15), (10**9, 13))
POSTER_NAME_SIZES = ((12, 72), (30, 48), (10**9, 32))


def promise_config():
    return {}


def promise_clean_config(config):
    config = dict(config)
    if "planned_kind" in config:
        config["planned_kind"] = clean_key(config["planned_kind"])
    return config


def promise_owners(stage):
    owners = {}
    for commitment in PromiseCommitment.objects.filter(promise__stage=stage, author__isnull=False):
        owners.setdefault(commitment.author_id, []).append(commitment.pk)
    # Minus the signature's id: the signatories' list marks one's own line (promise.html).
    for signature in PromiseSignature.objects.filter(promise__stage=stage):
        owners.setdefault(signature.participant_id, []).append(-signature.pk)
    return owners


def promise_items(stage):
    return [
        Item(ref(c), "promise_commitment", c.text, stage.pk, c.author_id, c)
        for c in PromiseCommitment.objects.filter(promise__stage=stage)
    ]


def promise_export(stage, people):
    names = document_refs()
    return {
        "promises": [
            {
                "client": p.client,
                "trace_ref": names.name(p),
                "paragraphs": [
                    {
                        "position": g.position,
                        "text": g.text,
                        "edited_by": people.get(g.edited_by_id),
                    }
                    for g in p.paragraphs.order_by("position")
                ],
                "commitments": [
                    {"text": c.text, "author": people.get(c.author_id)}
                    for c in p.commitments.order_by("pk")
                ],
                "signatures": [people.get(s.participant_id) for s in p.signatures.order_by("pk")],
            }
            for p in Promise.objects.filter(stage=stage).order_by("pk")
        ]
    }


def promise_import(stage, data, people):
    from workshops.exports.transfer import store, text_of

    data = data if isinstance(data, dict) else {}
    names = document_refs()
    for item in data.get("promises") or []:
        promise = store(
            Promise(workshop=stage.workshop, stage=stage, client=text_of(item, "client", Promise))
        )
        names.bind(item.get("trace_ref"), promise)
        for paragraph in item.get("paragraphs") or []:
            store(
                Paragraph(
                    promise=promise,
                    position=int(paragraph.get("position") or 0),
                    text=text_of(paragraph, "text", Paragraph),
                    edited_by=people.get(paragraph.get("edited_by")),
                )
            )
        for commitment in item.get("commitments") or []:
            store(
                PromiseCommitment(
                    promise=promise,
                    text=text_of(commitment, "text", PromiseCommitment, required=True),
                    author=people.get(commitment.get("author")),
                )
            )
        for person in item.get("signatures") or []:
            participant = people.get(person)
            if participant is not None:
                store(PromiseSignature(promise=promise, participant=participant))


def promise_rows(stage):
    from django.utils.translation import gettext as _

    rows = []
    for promise in build_promises(stage)["promises"]:
        rows.append(
            {
                "type": _("promise"),
                "category": str(promise),
                "text": "\n\n".join(p.text for p in promise.shown_paragraphs if p.text),
                "author": ", ".join(p.display_name for p in promise.signatories),
                "state": _("signed by %(count)d") % {"count": len(promise.signatories)},
                "created_at": promise.created_at.isoformat(),
            }
        )
        rows += [
            {
                "type": _("way of working"),
                "category": str(promise),
                "text": c.text,
                "author": c.author.display_name if c.author else "",
                "created_at": c.created_at.isoformat(),
            }
            for c in promise.shown_commitments
        ]
    return rows


def register_all():
    register(
        StageKind(
            key="promise",
            label=gettext_lazy("Service promise"),
            template=TEMPLATE,
            context=promise_context,
            report_template=TEMPLATE,
            report_context=promise_report_context,
            report_css="commitments/promise/report.css",
            default_config=promise_config,
            writable=True,
            export=promise_export,
            import_=promise_import,
            rows=promise_rows,
            owners=promise_owners,
            clean_config=promise_clean_config,
            items=promise_items,
        )
    )
