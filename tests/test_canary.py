"""No leaks: a canary in every credential, looked for in every output and every file written.

Every secret the five fakes accept is a distinctive ``CANARY-…`` value (the
Facebook Page token comes from the credentials file, the others from the
environment). The real ``crosspost`` command runs as a separate process through
its success paths, its error paths (refused, unusable and misspelt secrets, an
unknown outcome, a lost answer reconciled, a bad credentials file) and internal
errors with ``--debug``. After each run its stdout and stderr, and every file
under the test's directory (the state database and its WAL, lock files, the
``--log`` file) except the credentials file itself, must hold none of the
canaries, nor the access tokens and upload tokens the fakes handed out.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crosspost.credentials import CredentialStore
from tests.conftest import EXAMPLE, ROOT
from tests.fakes.facebook import FakeFacebook
from tests.fakes.instagram import FakeInstagram
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.twitter import FakeTwitter
from tests.fakes.world import World
from tests.fakes.youtube import FakeYouTube


def canary(label: str) -> str:
    """A value no code or fixture would write by chance."""
    return f"CANARY-{label}-{secrets.token_hex(8)}"


class Run:
    """One test's life: its home, config, announcements, and every run's output."""

    def __init__(self, world: World, tmp_path: Path) -> None:
        self.world = world
        self.root = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.config = world.config(tmp_path / "config.toml")
        self.credentials = self.home / "credentials.toml"
        environ = world.environ()
        self.page_token = environ.pop("CROSSPOST_FACEBOOK_PAGE_TOKEN")
        CredentialStore(self.credentials).update("facebook", {"page_token": self.page_token})
        self.env = environ
        #: Every value that must never be shown or written.
        self.canaries: set[str] = {self.page_token, *environ.values()}
        self.runs: list[str] = []

    def announce(self, folder: str, ident: str, publish_at: datetime | None = None) -> Path:
        """A copy of the example with its own id (and time), in its own folder."""
        where = self.root / folder
        where.mkdir(parents=True, exist_ok=True)
        media = where / "media"
        if not media.exists():
            # Copies with a byte of their own: Facebook refuses the same image twice.
            shutil.copytree(EXAMPLE / "media", media)
            with (media / "humas.jpg").open("ab") as handle:
                handle.write(secrets.token_bytes(1) + folder.encode())
        text = (EXAMPLE / "announcement.toml").read_text("utf-8")
        text = re.sub(r'(?m)^id = ".*"$', f'id = "{ident}"', text)
        # Its own first words: Facebook and X refuse a duplicate of a recent post.
        text = text.replace("body = '''\n", f"body = '''\n[{ident}] ", 1)
        if publish_at is not None:
            text = re.sub(r"(?m)^publish_at = .*$", f"publish_at = {publish_at.isoformat()}", text)
        path = where / f"{ident}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def __call__(
        self,
        *args: str | Path,
        env: dict[str, str] | None = None,
        code: str | None = None,
        exits: tuple[int, ...] = (0,),
        config: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run crosspost with ``args``; check its exit code and that nothing leaked."""
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")} | {
            "CROSSPOST_HOME": str(self.home),
            "NO_COLOR": "1",
        }
        environ |= self.env if env is None else env
        for key, value in environ.items():  # a bad value's canaries too, each piece
            if key.startswith("CROSSPOST_"):
                self.canaries |= {piece for piece in value.split() if "CANARY" in piece}
        program = ["-m", "crosspost"] if code is None else ["-c", code]
        words = [str(a) for a in args] + (["--config", str(self.config)] if config else [])
        result = subprocess.run(
            [sys.executable, *program, *words],
            capture_output=True,
            text=True,
            env=environ,
            cwd=ROOT,
            timeout=180,
            check=False,
        )
        label = " ".join(words)
        assert result.returncode in exits, f"{label}: {result.stdout}{result.stderr}"
        self.runs.append(label)
        self.check(label, result.stdout + result.stderr)
        return result

    def issued(self) -> set[str]:
        """Secrets the fakes handed out: YouTube access tokens, TikTok upload tokens."""
        tokens = set(self.world.youtube.tokens)
        tokens |= {p.upload_token for p in self.world.tiktok.posts if p.upload_token}
        return tokens

    def check(self, label: str, output: str) -> None:
        """No canary nor issued token in ``output`` nor in any file under the test's folder."""
        watched = self.canaries | self.issued()
        for secret in watched:
            assert secret not in output, f"{label}: a secret in the output"
        for path in sorted(self.root.rglob("*")):
            if path == self.credentials or not path.is_file():
                continue
            data = path.read_bytes()
            for secret in watched:
                assert secret.encode() not in data, f"{label}: a secret in {path}"

    @property
    def files(self) -> list[Path]:
        """Every file searched (not the credentials file)."""
        found = [p for p in self.root.rglob("*") if p.is_file()]
        return [p for p in found if p != self.credentials]


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    """The five fakes, each accepting only canary secrets, on loopback."""
    world = World()
    world.facebook = FakeFacebook(
        page_token=canary("fb-page"),
        user_token=canary("fb-user"),
        app_secret=canary("fb-app-secret"),
    )
    world.instagram = FakeInstagram(
        access_token=canary("ig"), facebook_login={"app_secret": canary("ig-app-secret")}
    )
    world.tiktok = FakeTikTok(token=canary("tt"))
    world.youtube = FakeYouTube(
        client_id=canary("yt-id") + ".apps.googleusercontent.com",
        client_secret=canary("yt-secret"),
        refresh_token=canary("yt-refresh"),
    )
    world.twitter = FakeTwitter(token=canary("x"))
    for fake in world.fakes.values():
        fake.gate = world.tripwire
    with world.serving():
        yield Run(world, tmp_path)


def test_the_canaries_are_what_the_fakes_accept(run: Run) -> None:
    """Every credential is a canary, and publishing with them works (so they were used)."""
    given = run.world.environ()
    assert len(run.canaries) == len(given) >= 9
    # A credential added to the World without a canary here fails this line.
    assert all(value.startswith("CANARY-") for value in given.values()), sorted(given)
    assert run.world.facebook.page_token == run.page_token
    path = run.announce("once", "canary-once")
    run("publish", "--now", path)
    assert len(run.world.twitter.tweets) == 1 and len(run.world.facebook.posts) == 1
    assert run.world.youtube.tokens, "YouTube handed out an access token"


def test_a_planted_canary_is_found(run: Run) -> None:
    """The search itself works: a canary in the output or in a state file is reported."""
    secret = sorted(run.canaries)[0]
    with pytest.raises(AssertionError, match="a secret in the output"):
        run.check("planted", f"error: refused token {secret}")
    planted = run.home / "state" / "debug.log"
    planted.parent.mkdir()
    planted.write_bytes(b"\x00header\x00" + secret.encode() + b"\x00")
    with pytest.raises(AssertionError, match=r"a secret in .*debug\.log"):
        run.check("planted", "")


def test_no_secret_in_the_success_paths(run: Run) -> None:
    """validate, preview, doctor, publish (twice), status, queue and run: nothing leaks."""
    path = run.announce("anns", "canary-a")
    run("validate", path)
    run("preview", path)
    run("preview", "--json", path)
    run("doctor", exits=(0, 1))
    run("doctor", "--json", exits=(0, 1))
    run("doctor", path, exits=(0, 1))
    run("auth", "status", config=False)
    run("auth", "status", "--json", config=False)
    run("publish", "--now", path)
    run("publish", "--now", "--json", path)  # already published: nothing sent
    run("status", path)
    run("status", "--json", path)
    run("queue", run.root / "anns")
    run("queue", "--json", run.root / "anns")
    soon = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    run.announce("cron", "canary-cron", soon)
    log = run.root / "cron.log"
    run("run", run.root / "cron", "--log", log)
    run("run", run.root / "cron", "--json", "--log", log)
    assert log.is_file()
    assert len(run.world.twitter.tweets) == 2  # one per announcement
    assert any(p.name == "state.sqlite3" for p in run.files)


def test_no_secret_in_the_error_paths(run: Run) -> None:
    """Refused, unusable and misspelt secrets, an unknown outcome, a lost answer: no leak."""
    # Every token refused: a canary-bearing bad value for each platform.
    bad = {
        "CROSSPOST_INSTAGRAM_ACCESS_TOKEN": canary("bad-ig"),
        "CROSSPOST_TIKTOK_ACCESS_TOKEN": canary("bad-tt"),
        "CROSSPOST_YOUTUBE_REFRESH_TOKEN": canary("bad-yt"),
        "CROSSPOST_TWITTER_ACCESS_TOKEN": canary("bad-x"),
        "CROSSPOST_FACEBOOK_PAGE_TOKEN": canary("bad-fb"),
    }
    refused = run.announce("refused", "canary-refused")
    run("publish", "--now", refused, env=run.env | bad, exits=(1,))
    run("publish", "--now", "--json", refused, env=run.env | bad, exits=(1,))
    run("status", refused, exits=(1,))
    run("doctor", refused, env=run.env | bad, exits=(0, 1))
    run("doctor", "--json", env=run.env | bad, exits=(0, 1))
    run("auth", "status", env=run.env | bad, config=False)
    # A secret with a line break pasted along: refused without showing it.
    broken = run.env | {"CROSSPOST_TIKTOK_ACCESS_TOKEN": canary("nl") + "\n" + canary("nl-tail")}
    run("publish", "--now", refused, env=broken, exits=(2,))
    run("doctor", refused, env=broken, exits=(1,))
    # The tweet's connection drops: unknown (exit 3), reconciled on the next run, resolved.
    unknown = run.announce("unknown", "canary-unknown")
    run.world.twitter.fail(r"POST /2/tweets$", drop=True)
    run("publish", "--now", unknown, exits=(3,))
    run("publish", "--now", "--json", unknown, exits=(3,))
    run("status", unknown, exits=(3,))
    run("resolve", unknown, "--platform", "twitter", "--not-published")
    run("publish", "--now", unknown)
    # Facebook acts but its answer is lost: the feed lookup (whose paging links carry
    # the token, as Graph's do) finds it.
    lost = run.announce("lost", "canary-lost")
    run.world.facebook.fail(r"POST /v[\d.]+/\d+/(feed|videos)$", drop=True, after=True)
    run("publish", "--now", "--platform", "facebook", lost, exits=(0, 3))
    run("publish", "--now", "--platform", "facebook", lost, exits=(0, 3))
    # A misspelt key in the credentials file, holding a canary: named, never shown.
    typo = canary("typo")
    run.canaries.add(typo)
    original = run.credentials.read_bytes()
    with run.credentials.open("a", encoding="utf-8") as handle:
        handle.write(f'\n[twitter]\nacess_token = "{typo}"\n')
    run("doctor", "--platform", "x", exits=(1,))
    run("publish", "--now", refused, exits=(2,))
    run("auth", "status", config=False, exits=(0, 2))
    # Readable by others: refused, and nothing of it shown.
    run.credentials.write_bytes(original)
    run.credentials.chmod(0o644)
    run("doctor", exits=(1,))
    run("publish", "--now", refused, exits=(2,))
    run.credentials.chmod(0o600)


#: Runs the CLI with an internal error inside X's publish: the request fails with an
#: exception that quotes its URL and Authorization header (a bug of ours, say).
BUG_IN_A_PLATFORM = """
import sys
import httpx
from crosspost.cli import main

send = httpx.AsyncClient.send

async def broken(self, request, **kwargs):
    if request.method == "POST" and request.url.path == "/2/tweets":
        raise RuntimeError(
            f"cannot send {request.url} with {request.headers.get('authorization')}"
        )
    return await send(self, request, **kwargs)

httpx.AsyncClient.send = broken
sys.exit(main(sys.argv[1:]))
"""

#: Runs the CLI with an internal error after publishing (exit 70), whose message
#: carries the X token it was given.
BUG_AFTER_PUBLISHING = """
import importlib
import os
import sys
from crosspost.cli import main

# Commands load on first use: load this one now to break it.
command = importlib.import_module("crosspost.cli.publish")

def broken(*args, **kwargs):
    raise RuntimeError("cannot show " + os.environ["CROSSPOST_TWITTER_ACCESS_TOKEN"])

command.report = broken
sys.exit(main(sys.argv[1:]))
"""


def test_no_secret_in_internal_errors_with_debug(run: Run) -> None:
    """Exceptions quoting the token, shown with --debug tracebacks: redacted everywhere."""
    inside = run.announce("inside", "canary-inside")
    result = run("--debug", "publish", "--now", inside, code=BUG_IN_A_PLATFORM, exits=(1, 3))
    assert "Traceback" in result.stderr and "cannot send" in result.stderr
    assert "Bearer ****" in result.stderr
    after = run.announce("after", "canary-after")
    result = run("--debug", "publish", "--now", after, code=BUG_AFTER_PUBLISHING, exits=(70,))
    assert "Traceback" in result.stderr
    assert "crosspost failed unexpectedly: RuntimeError: cannot show ****" in result.stderr
    run("status", after)
