"""Two real Daphne workers sharing PostgreSQL and Redis, as in the scale-out setup."""

import json
import os
import secrets

import pytest

from .cluster import Browser, live_socket, read_frames, two_workers

pytestmark = pytest.mark.scaleout


@pytest.fixture(scope="module")
def cluster():
    # One phone posts 30 post-its in a burst here; the rate limits
    # (workshops/ratelimit.py) are not what this test is about.
    with two_workers(
        "reciproque_scaleout",
        os.environ["REDIS_URL"],
        RATE_LIMIT_PER_PARTICIPANT="0",
        RATE_LIMIT_PER_ADDRESS="0",
    ) as (workers, workshop, _database_url):
        yield workers, workshop


def test_it_delivers_writes_from_one_worker_to_a_phone_on_the_other(cluster):
    (one, two), (workshop_id, token, stage_id) = cluster
    phone, writer = Browser(), Browser()
    assert phone.join(one.url, token, "Alice") == f"/w/{workshop_id}/"
    assert writer.join(two.url, token, "Bruno", profile="supplier") == f"/w/{workshop_id}/"
    start = phone.seq_on_page(one.url, workshop_id)

    with live_socket(one.url, workshop_id, phone) as ws:
        ws.send(json.dumps({"type": "hello", "last_seq": start}))
        assert json.loads(ws.recv(timeout=10))["type"] == "synced"
        texts = [f"Post-it {i} écrit sur le worker 2" for i in range(30)]
        for text in texts:
            status, _body, _url = writer.add_postit(two.url, workshop_id, stage_id, text)
            assert status == 200
        frames = read_frames(ws, until_seq=start + len(texts))

    assert [f["seq"] for f in frames] == list(range(start + 1, start + len(texts) + 1))
    for text, frame in zip(texts, frames, strict=True):
        assert text in frame["html"]


def test_it_applies_a_write_retried_on_the_other_worker_once(cluster):
    (one, two), (workshop_id, token, stage_id) = cluster
    writer = Browser()
    writer.join(one.url, token, "Chloé", profile="partner")
    start = writer.seq_on_page(one.url, workshop_id)
    op_id = secrets.token_hex(16)
    first = writer.add_postit(one.url, workshop_id, stage_id, "Une seule fois", op_id=op_id)
    again = writer.add_postit(two.url, workshop_id, stage_id, "Une seule fois", op_id=op_id)
    assert first[0] == again[0] == 200
    assert writer.seq_on_page(two.url, workshop_id) == start + 1
    page = writer.get(f"{two.url}/w/{workshop_id}/")
    assert page.count("Une seule fois") == 1
