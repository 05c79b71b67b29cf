"""Media files: what they are (sniffed from their first bytes, not trusted from the name).

A ``.jpg`` that is really a PNG is refused by Instagram at 03:00; sniffing the
bytes at validate time finds it while someone is still watching.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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
    #: Pixels of an image, seconds of a video: read from the file's headers when
    #: crosspost can (JPEG, PNG, GIF, WebP; MP4/MOV), else None.
    width: int | None = None
    height: int | None = None
    duration: float | None = None

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


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a JPEG, PNG, GIF or WebP image from its headers, or None."""
    try:
        with path.open("rb") as handle:
            return _image_size(handle)
    except OSError:
        return None


def image_size_of(data: bytes) -> tuple[int, int] | None:
    """``image_size`` for an image held in memory."""
    return _image_size(io.BytesIO(data))


def _image_size(handle: BinaryIO) -> tuple[int, int] | None:
    head = handle.read(32)
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
            width, height = struct.unpack(">II", head[16:24])
            return int(width), int(height)
        if head.startswith((b"GIF87a", b"GIF89a")):
            width, height = struct.unpack("<HH", head[6:10])
            return int(width), int(height)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _webp_size(head)
        if head.startswith(b"\xff\xd8"):
            return _jpeg_size(handle)
    except struct.error:  # a truncated header
        return None
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X":  # 24-bit width-1 and height-1
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8L":  # 14-bit fields after the 0x2f signature
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 ":  # key frame: 3-byte tag, start code, then 14-bit sizes
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _jpeg_size(handle: BinaryIO) -> tuple[int, int] | None:
    """Walk the JPEG markers to the first start-of-frame, which holds the size."""
    handle.seek(2)
    while True:
        marker = handle.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        kind = marker[1]
        if kind == 0xFF:  # fill byte
            handle.seek(-1, 1)
            continue
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:  # markers without a length
            continue
        (length,) = struct.unpack(">H", handle.read(2))
        # SOF0-SOF15 but DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if 0xC0 <= kind <= 0xCF and kind not in (0xC4, 0xC8, 0xCC):
            _precision, height, width = struct.unpack(">BHH", handle.read(5))
            return width, height
        handle.seek(length - 2, 1)


def video_duration(path: Path) -> float | None:
    """Seconds of an MP4/MOV video from its ``moov/mvhd`` box; None when it cannot tell.

    Reads only box headers and the mvhd box, never the media data.
    """
    try:
        with path.open("rb") as handle:
            end = handle.seek(0, 2)
            moov = _find_box(handle, 0, end, b"moov")
            if moov is None:
                return None
            mvhd = _find_box(handle, moov[0], moov[1], b"mvhd")
            if mvhd is None:
                return None
            handle.seek(mvhd[0])
            head = handle.read(32)
            if head[:1] == b"\x01":
                scale, length = struct.unpack(">IQ", head[20:32])
            else:
                scale, length = struct.unpack(">II", head[12:20])
    except (OSError, struct.error):
        return None
    return float(length) / scale if scale else None


def _find_box(handle: BinaryIO, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """The (payload start, end) of the first ``kind`` box between ``start`` and ``end``."""
    pos = start
    while pos + 8 <= end:
        handle.seek(pos)
        size, found = struct.unpack(">I4s", handle.read(8))
        header = 8
        if size == 1:  # 64-bit size follows the type
            (size,) = struct.unpack(">Q", handle.read(8))
            header = 16
        elif size == 0:  # the box runs to the end of its parent
            size = end - pos
        if size < header:
            return None
        if found == kind:
            return pos + header, min(pos + size, end)
        pos += size
    return None
