"""Instagram's first comment: posted after media_publish, journaled, reconciled, resumed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from crosspost.adapter import Post, Published, Resume, Sent
from crosspost.errors import UnknownOutcomeError
from crosspost.journal import stamp
from crosspost_adapters.instagram import InstagramAdapter
from tests.adapters.support import Crashed, Recorder, RecordingJournal, crash_at, run
from tests.adapters.test_instagram import (
    MEDIA,
    PUBLISH,
    context,
    hosted,
    post_with,
    publish,
)
from tests.fakes.instagram import FakeInstagram

COMMENTS = r"^POST /v\d+\.\d+/\d+/comments$"
LIST_COMMENTS = r"^GET /v\d+\.\d+/\d+/comments$"
PERMALINK = r"^GET /v\d+\.\d+/179\d+$"
TAGS = "#KPUMelayani #PemiluSerentak2024 #TemanPemilih"


def with_comment(fake: FakeInstagram, text: str = TAGS) -> Post:
    """An image post whose first comment carries the hashtags."""
    post = post_with(hosted(fake, "a.jpg"), text="Halo dari KPU Musi Rawas")
    return dataclasses.replace(post, extra={"first_comment": text})


def reconcile(fake: FakeInstagram, post: Post, sent: Sent, **kw: Any) -> Published | Resume | None:
    """What a later run's ``reconcile`` answers, and the handles it remembered."""

    async def go() -> Published | Resume | None:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, **kw)
            return await InstagramAdapter(ctx.settings).reconcile(post, sent, ctx)

    return run(go())  # type: ignore[no-any-return]


def resume(fake: FakeInstagram, post: Post, previous: dict[str, Any], **kw: Any) -> Published:
    """``publish`` as the runner calls it after ``Resume``: with ``ctx.previous``."""

    async def go() -> Published:
        async with httpx.AsyncClient(transport=fake.transport()) as client:
            ctx = context(fake, client, **kw)
            ctx.previous = dict(previous)
            return await InstagramAdapter(ctx.settings).publish(post, ctx)

    return run(go())  # type: ignore[no-any-return]


def crashed(fake: FakeInstagram, post: Post, pattern: str, *, act: bool) -> RecordingJournal:
    """Publish until the first request matching ``pattern``, where the run dies."""
    journal = RecordingJournal()
    with pytest.raises(Crashed):
        publish(fake, post, crash_at(fake.transport(), pattern, act=act), journal=journal)
    return journal


# -- publishing ----------------------------------------------------------------


def test_first_comment_is_posted_after_media_publish_with_its_message() -> None:
    """The comment goes to /{media-id}/comments with `message`, after the post is public."""
    fake = FakeInstagram()
    result = publish(fake, with_comment(fake))
    [published] = fake.posts
    [call] = fake.calls(COMMENTS)
    assert call.url.path.endswith(f"/{published['id']}/comments")
    assert fake.comments[published["id"]][0]["text"] == TAGS
    # After media_publish: the comment needs the media id it answers.
    assert fake.requests.index(call) > fake.requests.index(fake.calls(PUBLISH)[0])
    assert call.headers["authorization"] == f"Bearer {fake.access_token}"
    comment_id = fake.comments[published["id"]][0]["id"]
    assert result == Published(
        published["id"],
        published["permalink"],
        (published["id"], published["container"], comment_id),
    )


def test_comment_is_journaled_sending_before_and_its_id_after() -> None:
    """comment=sending (with its time) before the comment request, comment_id after it."""
    fake = FakeInstagram()
    journal = RecordingJournal(lambda: len(fake.calls(COMMENTS)))
    publish(fake, with_comment(fake), journal=journal)
    [published] = fake.posts
    comment_id = fake.comments[published["id"]][0]["id"]
    tail = journal.events[2:]
    assert tail[0] == ("remember", {"media_id": published["id"]}, 0)
    kind, handles, seen = tail[1]
    assert (kind, handles["comment"], seen) == ("remember", "sending", 0)
    assert "comment_at" in handles
    assert tail[2] == ("sending", {}, 0)
    assert tail[3] == ("remember", {"comment_id": comment_id}, 1)


def test_a_post_without_a_first_comment_posts_none() -> None:
    """No `first_comment` in the post (or an empty one): no comment request at all."""
    fake = FakeInstagram()
    publish(fake, post_with(hosted(fake, "a.jpg")))
    publish(fake, with_comment(fake, text="  "))
    assert fake.calls(COMMENTS) == []
    assert len(fake.posts) == 2


def test_a_refused_comment_leaves_the_post_published_and_says_why() -> None:
    """Instagram refuses the comment (no permission): the post is public, so the result is
    the post; the refusal is journaled as comment_error and shown as a step."""
    fake = FakeInstagram()
    fake.comments_allowed = False
    journal = RecordingJournal()
    progress = Recorder()
    result = publish(fake, with_comment(fake), journal=journal, progress=progress)
    [published] = fake.posts
    assert result.remote_id == published["id"]
    assert result.url == published["permalink"]
    handles = journal.handles()
    assert handles["comment"] == "failed"
    assert "first comment was not posted" in handles["comment_error"]
    assert "by hand" in handles["comment_error"]
    assert handles["comment_error"] in progress.steps
    assert result.note == handles["comment_error"]  # the run's result says it too
    assert "comment_id" not in handles
    assert fake.access_token not in handles["comment_error"]
    assert len(fake.calls(COMMENTS)) == 1


def test_a_comment_answer_lost_after_it_landed_is_found_at_once() -> None:
    """The connection drops after Instagram posted the comment: the comments list shows it,
    so the run ends published with its id, and it is never sent twice."""
    fake = FakeInstagram()
    fake.fail(COMMENTS, drop=True, after=True)
    journal = RecordingJournal()
    result = publish(fake, with_comment(fake), journal=journal)
    [published] = fake.posts
    [comment] = fake.comments[published["id"]]
    assert result.ids[-1] == comment["id"]
    assert journal.handles()["comment_id"] == comment["id"]
    assert len(fake.calls(COMMENTS)) == 1


def test_a_comment_5xx_that_did_not_land_is_unknown_and_sent_once() -> None:
    """A 500 on the comment and no such comment: unknown (the next run decides), never
    a second comment now; the message says the post itself is public."""
    fake = FakeInstagram()
    fake.fail(COMMENTS, 500)
    with pytest.raises(UnknownOutcomeError, match="first comment") as caught:
        publish(fake, with_comment(fake))
    [published] = fake.posts
    assert published["permalink"] in str(caught.value)
    assert len(fake.calls(COMMENTS)) == 1
    assert fake.comments == {}


# -- reconcile and resume ------------------------------------------------------


def test_crash_before_the_comment_was_marked_resumes_to_post_it() -> None:
    """Dead after media_publish answered, before the comment was journaled: Resume."""
    fake = FakeInstagram()
    post = with_comment(fake)
    journal = crashed(fake, post, PERMALINK, act=False)
    handles = journal.handles()
    assert "media_id" in handles and "comment" not in handles
    found = reconcile(fake, post, journal.sent())
    assert isinstance(found, Resume)
    assert "first comment" in found.step
    assert fake.calls(LIST_COMMENTS) == []  # never sent: nothing to look for


def test_resume_posts_only_the_comment_exactly_once() -> None:
    """publish with ctx.previous: no container, no media_publish; one comment; the post's
    own id and permalink are the result."""
    fake = FakeInstagram()
    post = with_comment(fake)
    journal = crashed(fake, post, PERMALINK, act=False)
    before = len(fake.calls(MEDIA)), len(fake.calls(PUBLISH))
    result = resume(fake, post, journal.handles())
    assert (len(fake.calls(MEDIA)), len(fake.calls(PUBLISH))) == before
    [published] = fake.posts
    [comment] = fake.comments[published["id"]]
    assert comment["text"] == TAGS
    assert result.remote_id == published["id"]
    assert result.url == published["permalink"]


def test_resume_without_the_media_id_finds_the_post_by_its_caption() -> None:
    """Dead in media_publish after Instagram acted (no media id journaled): reconcile says
    Resume; publish finds the post on the account and comments on it."""
    fake = FakeInstagram()
    post = with_comment(fake)
    journal = crashed(fake, post, PUBLISH, act=True)
    assert "media_id" not in journal.handles()
    assert isinstance(reconcile(fake, post, journal.sent()), Resume)
    result = resume(fake, post, journal.handles())
    [published] = fake.posts
    assert result.remote_id == published["id"]
    assert len(fake.comments[published["id"]]) == 1


def test_a_comment_that_landed_before_the_crash_is_found_not_reposted() -> None:
    """Dead after the comment reached Instagram: reconcile finds its exact text: published."""
    fake = FakeInstagram()
    post = with_comment(fake)
    journal = crashed(fake, post, COMMENTS, act=True)
    assert journal.handles()["comment"] == "sending"
    found = reconcile(fake, post, journal.sent())
    [published] = fake.posts
    [comment] = fake.comments[published["id"]]
    assert isinstance(found, Published)
    assert found.remote_id == published["id"]
    assert found.url == published["permalink"]
    assert found.ids[-1] == comment["id"]
    assert len(fake.calls(COMMENTS)) == 1


def test_a_lost_comment_is_resumed_once_settle_has_passed() -> None:
    """Marked sending, not on the post, sent longer ago than settle: Resume, and the resumed
    publish posts it once."""
    fake = FakeInstagram()
    post = with_comment(fake)
    journal = crashed(fake, post, COMMENTS, act=False)
    handles = journal.handles()
    handles["comment_at"] = stamp(datetime.now(UTC) - timedelta(seconds=700))
    found = reconcile(fake, post, Sent(journal.sent().at, handles))
    assert isinstance(found, Resume)
    resume(fake, post, handles)
    [published] = fake.posts
    assert len(fake.comments[published["id"]]) == 1


def test_a_lost_comment_younger_than_settle_is_unknown() -> None:
    """Marked sending a moment ago and not shown yet: it may be on its way: unknown."""
    fake = FakeInstagram()
    post = with_comment(fake)
    journal = crashed(fake, post, COMMENTS, act=False)
    with pytest.raises(UnknownOutcomeError, match="not shown yet"):
        reconcile(fake, post, journal.sent())
    assert fake.comments == {}


def test_a_comment_is_matched_by_its_exact_text_across_pages() -> None:
    """Other people's comments (and a near-identical one) do not count; the lookup pages on."""
    fake = FakeInstagram()
    post = with_comment(fake)
    journal = crashed(fake, post, COMMENTS, act=True)
    [published] = fake.posts
    media = published["id"]
    mine = fake.comments[media][0]
    for n in range(120):
        fake.comments[media].append({**mine, "id": f"9{n:05d}", "text": f"{TAGS} ({n})"})
    found = reconcile(fake, post, journal.sent())
    assert isinstance(found, Published)
    assert found.ids[-1] == mine["id"]
    assert len(fake.calls(LIST_COMMENTS)) == 3  # 50 + 50 + the rest


def test_a_published_comment_id_means_nothing_is_left() -> None:
    """comment_id recorded: the post and its comment are out; no comment lookup."""
    fake = FakeInstagram()
    post = with_comment(fake)
    journal = RecordingJournal()
    publish(fake, post, journal=journal)
    found = reconcile(fake, post, journal.sent())
    assert isinstance(found, Published)
    assert fake.calls(LIST_COMMENTS) == []


def test_comments_that_cannot_be_read_leave_the_outcome_unknown() -> None:
    """The comments lookup keeps failing: unknown, no token in the message."""
    fake = FakeInstagram()
    post = with_comment(fake)
    journal = crashed(fake, post, COMMENTS, act=False)
    fake.fail(LIST_COMMENTS, 500, times=10)
    with pytest.raises(UnknownOutcomeError, match="cannot be read") as caught:
        reconcile(fake, post, journal.sent(age=3600))
    assert fake.access_token not in str(caught.value)


# -- the fake is as strict as Instagram ----------------------------------------


def _ask(fake: FakeInstagram, method: str, node: str, **data: str) -> httpx.Response:
    request = httpx.Request(
        method,
        f"http://testserver/v25.0/{node}/comments",
        data=data or None,
        headers={"Authorization": f"Bearer {fake.access_token}"},
    )
    return fake(request)


def test_fake_refuses_a_comment_on_a_container_or_without_a_message() -> None:
    """A container is not a media (100/33), `message` is required, 2,200 characters at most,
    and every refusal is a Graph error object."""
    fake = FakeInstagram()
    publish(fake, post_with(hosted(fake, "a.jpg")))
    [published] = fake.posts
    on_container = _ask(fake, "POST", published["container"], message="x")
    assert on_container.status_code == 400
    assert on_container.json()["error"]["code"] == 100
    assert _ask(fake, "POST", published["id"]).json()["error"]["code"] == 100
    too_long = _ask(fake, "POST", published["id"], message="x" * 2_201)
    assert too_long.json()["error"]["code"] == 100
    assert _ask(fake, "POST", published["id"], message="x" * 2_200).status_code == 200
    assert _ask(fake, "GET", published["container"]).status_code == 400
