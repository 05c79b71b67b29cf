"""Crash harness for Instagram's first comment: `crosspost publish` is SIGKILLed between
media_publish and the comment, or in the comment request (before or after Instagram
acted); a rerun leaves exactly one post with exactly one first comment.

The runs are real processes against the fakes on loopback (``tests/crash.py``, whose
config sets ``settle = "0s"``: a comment the lookup does not show counts as never
sent). The config asks for ``first_comment = "hashtags"``: the render moves the
hashtags out of the caption into the first comment, which publish posts.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest
import tomli_w

from crosspost.planning import plan_file
from tests.crash import ANNOUNCEMENT, Outcome, Setup, crash_world

pytestmark = pytest.mark.crash

PUBLISH = r"^POST /v[\d.]+/\d+/media_publish$"
PERMALINK = r"^GET /v[\d.]+/179\d+$"
COMMENTS = r"^POST /v[\d.]+/179\d+/comments$"


class CommentSetup(Setup):
    """Instagram only, with ``first_comment = "hashtags"`` in its config table."""

    def __post_init__(self) -> None:
        super().__post_init__()
        data = tomllib.loads(self.config.read_text("utf-8"))
        data["platforms"]["instagram"]["first_comment"] = "hashtags"
        self.config.write_text(tomli_w.dumps(data), encoding="utf-8")

    def start(self, *args: str) -> subprocess.Popen[str]:
        """``crosspost publish --now --platform instagram ARGS``: Instagram only."""
        return super().start("--platform", "instagram", *args)

    def first_comment(self) -> str:
        """The first comment the plan gives the example's Instagram post."""
        [post] = plan_file(ANNOUNCEMENT, config_path=self.config, only=["instagram"]).posts
        text = post.extra.get("first_comment")
        assert isinstance(text, str) and text.startswith("#"), post.extra
        return text


def _crash_then_settle(tmp_path: Path, match: str, *, act: bool) -> tuple[Outcome, int]:
    """Kill at the first request matching ``match``, rerun until settled, check exactly one
    post with exactly one first comment; the crashed run and how many comment requests
    reached Instagram."""
    world = crash_world()
    with world.serving():
        setup = CommentSetup(world, tmp_path)
        wanted = setup.first_comment()
        crashed = setup.crash(1, act=act, match=match)
        runs = setup.settle()
    fake = world.instagram
    assert crashed.signalled is not None, crashed
    [post] = fake.posts
    comments = fake.comments.get(post["id"], [])
    final = runs[-1]
    assert [c["text"] for c in comments] == [wanted], (crashed, runs)
    assert wanted not in post["caption"]  # moved, not repeated
    assert final.code == 0 and final.statuses == {"instagram": "published"}, final
    assert final.results["instagram"]["url"] == post["permalink"]
    assert len(fake.calls(PUBLISH)) == 1
    return crashed, len(fake.calls(COMMENTS))


def test_killed_between_media_publish_and_the_comment_then_rerun_comments_once(
    tmp_path: Path,
) -> None:
    """SIGKILL after media_publish answered (at the permalink read), before the comment
    was journaled: the rerun sees the post published, resumes, posts the comment once."""
    crashed, sent = _crash_then_settle(tmp_path, PERMALINK, act=False)
    assert crashed.code < 0  # it really died
    assert sent == 1


def test_killed_in_the_comment_before_instagram_acted_then_rerun_comments_once(
    tmp_path: Path,
) -> None:
    """SIGKILL as the comment request arrives, before Instagram posted it: the rerun finds
    no such comment (settle 0 s) and posts it once."""
    _crash_then_settle(tmp_path, COMMENTS, act=False)


def test_killed_in_the_comment_after_instagram_acted_then_rerun_finds_it(
    tmp_path: Path,
) -> None:
    """SIGKILL after Instagram posted the comment, before the answer: the rerun finds the
    comment by its exact text and sends nothing more."""
    _, sent = _crash_then_settle(tmp_path, COMMENTS, act=True)
    assert sent == 1  # the one the killed run sent; the rerun only looked
