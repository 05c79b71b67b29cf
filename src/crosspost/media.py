"""Media files: what they are (sniffed from their first bytes, not trusted from the name).

A ``.jpg`` that is really a PNG is refused by Instagram at 03:00; sniffing the
bytes at validate time finds it while someone is still watching.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crosspost.models import MediaKind

#: What each platform accepts is checked by its adapter; this is what crosspost
#: can recognise at all.
SUPPORTED = "JPEG, PNG, GIF, WebP images and MP4, MOV, WebM videos"

_EXTENSIONS: dict[str, tuple[MediaKind, str]] = {
    ".jpg": ("image", "image/jpeg"),
    ".jpeg": ("image", "image/jpeg"),
    ".png": ("image", "image/png"),
    ".gif": ("image", "image/gif"),
    ".webp": ("image", "image/webp"),
    ".mp4": ("video", "video/mp4"),
    ".m4v": ("video", "video/mp4"),
    ".mov": ("video", "video/quicktime"),
    ".webm": ("video", "video/webm"),
}


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One resolved media item: a local file (``path``), a public ``url``, or both.

    ``name`` is how the user wrote it (the path relative to the announcement, or
    the URL), for messages and the preview.
    """

    name: str
    kind: MediaKind
    mime: str
    path: Path | None = None
    url: str | None = None
    alt: str | None = None
    size: int | None = None

    @property
    def is_image(self) -> bool:
        """True for a still image."""
        return self.kind == "image"

    @property
    def is_video(self) -> bool:
        """True for a video."""
        return self.kind == "video"


def sniff(head: bytes) -> tuple[MediaKind, str] | None:
    """The kind and MIME type of a file from its first bytes, or None if unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image", "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "video", "video/quicktime" if brand == b"qt  " else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "video/webm"
    return None


def guess_from_name(name: str) -> tuple[MediaKind, str] | None:
    """The kind and MIME type a file or URL name suggests, or None."""
    suffix = Path(name.split("?", 1)[0]).suffix.lower()
    return _EXTENSIONS.get(suffix)


def inspect(path: Path) -> tuple[MediaKind, str, int] | str:
    """Kind, MIME type and size of a local media file, or a sentence saying what is wrong."""
    try:
        with path.open("rb") as handle:
            head = handle.read(32)
        size = path.stat().st_size
    except FileNotFoundError:
        return "file not found"
    except IsADirectoryError:
        return "is a folder, not a file"
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if size == 0:
        return "the file is empty"
    found = sniff(head)
    if found is None:
        return f"is not a media type crosspost can publish ({SUPPORTED})"
    return found[0], found[1], size
