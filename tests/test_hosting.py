"""hosted_url: media paths become percent-encoded URLs under media_base_url, inside the folder."""

from __future__ import annotations

import httpx
import pytest

from crosspost.hosting import hosted_url, outside_message

BASE = "https://kab-musirawas.kpu.go.id/crosspost"


def test_a_plain_path_is_joined_to_the_base() -> None:
    """media/humas.jpg under the base, with exactly one slash between them."""
    assert hosted_url(BASE, "media/humas.jpg") == f"{BASE}/media/humas.jpg"
    assert hosted_url(BASE + "/", "./media/humas.jpg") == f"{BASE}/media/humas.jpg"


def test_spaces_are_percent_encoded() -> None:
    """A space becomes %20 (never '+', which a web server reads as a plus sign)."""
    assert hosted_url(BASE, "media/foto rapat pleno.jpg") == (
        f"{BASE}/media/foto%20rapat%20pleno.jpg"
    )


def test_non_ascii_names_are_utf8_percent_encoded() -> None:
    """Letters outside ASCII are encoded as their UTF-8 bytes, folder names too."""
    url = hosted_url(BASE, "média/Sosialisasi Pemilu – ñ.jpg")
    assert url == f"{BASE}/m%C3%A9dia/Sosialisasi%20Pemilu%20%E2%80%93%20%C3%B1.jpg"
    assert url is not None
    assert url.isascii()
    # What the web server decodes is the file's own name.
    assert httpx.URL(url).path == "/crosspost/média/Sosialisasi Pemilu – ñ.jpg"


@pytest.mark.parametrize(
    ("name", "encoded"),
    [("a#1.jpg", "a%231.jpg"), ("why?.jpg", "why%3F.jpg"), ("100%.jpg", "100%25.jpg")],
)
def test_characters_that_end_a_path_are_encoded(name: str, encoded: str) -> None:
    """'#' and '?' would cut the path short and '%' starts an escape: all encoded."""
    assert hosted_url(BASE, f"media/{name}") == f"{BASE}/media/{encoded}"


@pytest.mark.parametrize(
    "path",
    [
        "../logo.jpg",
        "media/../../logo.jpg",
        "..",
        "/srv/www/logo.jpg",
        "C:/foto/a.jpg",
        "..\\logo.jpg",
        "file:///etc/passwd",
        "",
    ],
)
def test_a_path_outside_the_folder_has_no_url(path: str) -> None:
    """'../', absolute paths, drives and URLs leave the announcement's folder: None."""
    assert hosted_url(BASE, path) is None


def test_dot_dot_that_stays_inside_the_folder_is_resolved() -> None:
    """media/old/../humas.jpg is media/humas.jpg: the URL names the file that is meant."""
    assert hosted_url(BASE, "media/old/../humas.jpg") == f"{BASE}/media/humas.jpg"


def test_windows_separators_become_slashes() -> None:
    """A path written with backslashes maps to the same URL."""
    assert hosted_url(BASE, "media\\humas.jpg") == f"{BASE}/media/humas.jpg"


def test_the_outside_message_names_the_file_and_both_fixes() -> None:
    """The caller's error names the path, moving the file, and a url of its own."""
    message = outside_message("../logo.jpg")
    assert message.startswith("../logo.jpg: ")
    assert "media_base_url" in message and 'url = "https://' in message
