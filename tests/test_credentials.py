"""Secrets: from the environment or a private credentials file, and never shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crosspost.credentials import Credentials, credentials_path, env_name
from crosspost.errors import CredentialsError
from crosspost.redaction import redact


def write(path: Path, text: str, mode: int) -> Path:
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_environment_wins_over_file(tmp_path: Path) -> None:
    """CROSSPOST_<PLATFORM>_<KEY> is read first, then the credentials file."""
    file = write(tmp_path / "c.toml", '[facebook]\npage_token = "from-file-token"\n', 0o600)
    env = {"CROSSPOST_FACEBOOK_PAGE_TOKEN": "from-env-token"}
    assert Credentials("facebook", env, file).require("page_token") == "from-env-token"
    assert Credentials("facebook", {}, file).require("page_token") == "from-file-token"


def test_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    """A credentials file other users can read is refused, with the chmod to run."""
    file = write(tmp_path / "c.toml", '[facebook]\npage_token = "abc-secret"\n', 0o644)
    with pytest.raises(CredentialsError, match="chmod 600"):
        Credentials("facebook", {}, file).get("page_token")


def test_missing_secret_names_variable_and_file(tmp_path: Path) -> None:
    """A missing secret names the environment variable and the file to use instead."""
    with pytest.raises(CredentialsError) as info:
        Credentials("tiktok", {}, tmp_path / "none.toml").require("access_token")
    assert "CROSSPOST_TIKTOK_ACCESS_TOKEN" in str(info.value)
    assert "none.toml" in str(info.value)


def test_default_file_is_in_crosspost_home() -> None:
    """The credentials file lives in the user directory ($CROSSPOST_HOME in tests)."""
    assert credentials_path() == Path(os.environ["CROSSPOST_HOME"]) / "credentials.toml"
    assert env_name("youtube", "refresh_token") == "CROSSPOST_YOUTUBE_REFRESH_TOKEN"


def test_every_secret_read_is_redacted(tmp_path: Path) -> None:
    """Once read, a secret is masked wherever it appears in output."""
    env = {"CROSSPOST_TWITTER_ACCESS_TOKEN": "AAAA-very-secret-XYZ"}
    Credentials("twitter", env, tmp_path / "none").require("access_token")
    assert redact("Bearer AAAA-very-secret-XYZ failed") == "Bearer **** failed"
    assert redact("GET /x?access_token=abc&y=1") == "GET /x?access_token=****&y=1"


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("AAAA-one\nBBBB-two", "a line break"),
        ("AAAA-one\rBBBB-two", "a carriage return"),
        ("AAAA-one\x00BBBB-two", "a control character"),
        ("AAAA-one\x7fBBBB-two", "a control character"),
        ("AAAA-one\u200bBBBB-two", "a non-ASCII character"),
        ("AAAA-oneéBBBB-two", "a non-ASCII character"),
    ],
)
def test_unusable_secret_refused_naming_the_variable_not_the_value(
    value: str, what: str, tmp_path: Path
) -> None:
    """A secret with a control or non-ASCII character: CredentialsError naming the variable."""
    env = {"CROSSPOST_TIKTOK_ACCESS_TOKEN": value}
    with pytest.raises(CredentialsError) as info:
        Credentials("tiktok", env, tmp_path / "none.toml").get("access_token")
    message = str(info.value)
    assert message.startswith(f"tiktok: CROSSPOST_TIKTOK_ACCESS_TOKEN contains {what}")
    assert "AAAA" not in message and "BBBB" not in message and "one" not in message
    assert info.value.exit_code == 2


def test_unusable_secret_in_file_names_key_and_file(tmp_path: Path) -> None:
    """From the credentials file: the key, the platform's table and the file are named."""
    file = write(tmp_path / "c.toml", '[youtube]\nclient_secret = "AAAA\\tBBBB"\n', 0o600)
    with pytest.raises(CredentialsError) as info:
        Credentials("youtube", {}, file).require("client_secret")
    assert str(info.value).startswith(
        f"youtube: client_secret under [youtube] in {file} contains a tab"
    )
    assert "AAAA" not in str(info.value)


def test_surrounding_whitespace_is_not_a_problem(tmp_path: Path) -> None:
    """A trailing newline (from `echo` or a copied line) is stripped, not refused."""
    env = {"CROSSPOST_TIKTOK_ACCESS_TOKEN": "  act.1234-ok \n"}
    assert Credentials("tiktok", env, tmp_path / "none").get("access_token") == "act.1234-ok"


def test_a_telegram_bot_token_in_a_url_is_masked_even_unregistered() -> None:
    """A Bot API URL quoted by an error never shows the token, registered or not."""
    from crosspost.redaction import redact

    token = "123456789:AAE" + "x" * 32
    text = f"POST https://api.telegram.org/bot{token}/sendMessage failed"
    assert token not in redact(text)
    assert "https://api.telegram.org/bot****/sendMessage" in redact(text)
