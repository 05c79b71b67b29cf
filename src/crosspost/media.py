"""Media files: what they are (sniffed from their first bytes, not trusted from the name).

A ``.jpg`` that is really a PNG is refused by Instagram at 03:00; sniffing the
bytes at validate time finds it while someone is still watching. So is a file
that only starts like a video: a download that stopped half-way, an MP4 whose
index (``moov``) was never written because the export crashed. ``inspect``
walks the headers strictly and says what is wrong; reading stays bounded
(headers only, by seeking), never the media data.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from crosspost.models import MediaKind

#: What each platform accepts is checked by its adapter; this is what crosspost
#: can recognise at all.
SUPPORTED = "JPEG, PNG, GIF, WebP images and MP4, MOV, WebM videos"

#: JPEG markers walked before giving up on finding the frame header. Real files
#: have a few dozen segments (APPn, DQT, DHT) before it.
MAX_JPEG_MARKERS = 10_000
#: Top-level MP4/MOV boxes walked. A fragmented recording has two per fragment
#: (moof, mdat); past this many the rest of the file is not checked for truncation.
MAX_MP4_BOXES = 100_000

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

_LABELS = {
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "video/mp4": "MP4 video",
    "video/quicktime": "MOV video",
    "video/webm": "WebM video",
}

# Opening a FIFO for reading blocks until a writer appears; O_NONBLOCK makes the
# open return at once (it changes nothing for a regular file). Not on Windows,
# which has no FIFOs in the file system.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


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


class _Bad(Exception):
    """A header is wrong; ``str()`` says how, in words for the user."""


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
    """Kind, MIME type and size of a local media file, or a sentence saying what is wrong.

    Wrong is: not a regular file, empty, not a supported type, or headers that
    are cut short or damaged (an image without its size, a video without its index).
    """
    try:
        # Before opening: opening a FIFO would wait for a writer for ever, and a
        # device (/dev/zero) never ends.
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return "file not found"
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    what = _not_regular(info.st_mode)
    if what:
        return what
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK)
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    try:
        with os.fdopen(fd, "rb") as handle:
            # Checked again on what was opened: the path may have been replaced since.
            opened = os.fstat(handle.fileno())
            what = _not_regular(opened.st_mode)
            if what:
                return what
            size = opened.st_size
            if size == 0:
                return "the file is empty"
            head = handle.read(64)
            found = sniff(head)
            if found is None:
                return f"is not a media type crosspost can publish ({SUPPORTED})"
            kind, mime = found
            try:
                if kind == "image":
                    _image_size(handle, mime)
                elif mime != "video/webm":  # WebM (Matroska): only the signature is checked
                    _mp4_duration(handle, size)
            except _Bad as exc:
                return f"is not a valid {_LABELS[mime]}: {exc}; export or download it again"
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    return kind, mime, size


def _not_regular(mode: int) -> str | None:
    """Why a file of ``mode`` cannot be media, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    kinds = [
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    what = next((name for test, name in kinds if test(mode)), "a special file")
    return f"is {what}, not a regular file"


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a JPEG, PNG, GIF or WebP image from its headers, or None."""
    try:
        with path.open("rb") as handle:
            found = sniff(handle.read(64))
            return _image_size(handle, found[1]) if found and found[0] == "image" else None
    except (OSError, _Bad):
        return None


def image_size_of(data: bytes) -> tuple[int, int] | None:
    """``image_size`` for an image held in memory."""
    found = sniff(data[:64])
    if found is None or found[0] != "image":
        return None
    try:
        return _image_size(io.BytesIO(data), found[1])
    except _Bad:
        return None


def _image_size(handle: BinaryIO, mime: str) -> tuple[int, int]:
    """(width, height) from the headers of an image whose type ``sniff`` found; ``_Bad``
    when the headers are truncated or damaged."""
    handle.seek(0)
    head = handle.read(64)
    if mime == "image/png":
        width, height = _png_size(head)
    elif mime == "image/gif":
        if len(head) < 10:
            raise _Bad("its header is cut short")
        width, height = struct.unpack("<HH", head[6:10])
    elif mime == "image/webp":
        width, height = _webp_size(head)
    else:
        width, height = _jpeg_size(handle)
    if not width or not height:
        raise _Bad(f"its header says it is {width}×{height} pixels")
    return int(width), int(height)


def _png_size(head: bytes) -> tuple[int, int]:
    """The size from IHDR, which must be the first chunk (https://www.w3.org/TR/png/#11IHDR)."""
    if len(head) < 33:
        raise _Bad("its header is cut short")
    length, chunk = struct.unpack(">I4s", head[8:16])
    if chunk != b"IHDR" or length != 13:
        raise _Bad("it does not start with the IHDR chunk PNG requires")
    (crc,) = struct.unpack(">I", head[29:33])
    if zlib.crc32(head[12:29]) != crc:
        raise _Bad("its IHDR chunk is damaged (checksum mismatch)")
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def _webp_size(head: bytes) -> tuple[int, int]:
    """The size from the first chunk (https://developers.google.com/speed/webp/docs/riff_container)."""
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:  # 24-bit width-1 and height-1
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:  # 14-bit fields after 0x2f
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        # Key frame: 3-byte tag, start code 9d 01 2a, then 14-bit sizes.
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    raise _Bad("its header is cut short or damaged")


def _jpeg_size(handle: BinaryIO) -> tuple[int, int]:
    """Walk the JPEG markers to the first start-of-frame (SOF), which holds the size.

    The frame header must come before the scan (SOS) and the end (EOI): ITU-T
    T.81, B.2 (https://www.w3.org/Graphics/JPEG/itu-t81.pdf). Segments are skipped
    by seeking, so a large EXIF block costs nothing.
    """
    handle.seek(2)
    for _ in range(MAX_JPEG_MARKERS):
        marker = handle.read(2)
        if len(marker) < 2:
            raise _Bad("it is cut short before its frame header (SOF)")
        if marker[0] != 0xFF:
            raise _Bad(f"its headers are damaged at byte {handle.tell() - 2:,}")
        kind = marker[1]
        if kind == 0xFF:  # fill byte
            handle.seek(-1, 1)
            continue
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:  # markers without a length
            continue
        if kind in (0xDA, 0xD9):  # start of scan, end of image
            raise _Bad("it has no frame header (SOF) before the image data")
        field = handle.read(2)
        if len(field) < 2:
            raise _Bad("it is cut short inside a header")
        (length,) = struct.unpack(">H", field)
        if length < 2:
            raise _Bad(f"its headers are damaged at byte {handle.tell() - 4:,}")
        # SOF0-SOF15 but DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if 0xC0 <= kind <= 0xCF and kind not in (0xC4, 0xC8, 0xCC):
            frame = handle.read(5)
            if len(frame) < 5:
                raise _Bad("it is cut short inside its frame header (SOF)")
            _precision, height, width = struct.unpack(">BHH", frame)
            return width, height
        handle.seek(length - 2, 1)
    raise _Bad(f"it has no frame header (SOF) in its first {MAX_JPEG_MARKERS:,} markers")


def video_duration(path: Path) -> float | None:
    """Seconds of an MP4/MOV video from its ``moov/mvhd`` box; None when it cannot tell.

    Reads only box headers and the mvhd box, never the media data.
    """
    try:
        with path.open("rb") as handle:
            end = handle.seek(0, 2)
            return _mp4_duration(handle, end)
    except (OSError, _Bad):
        return None


def _mp4_duration(handle: BinaryIO, end: int) -> float | None:
    """Seconds from ``moov/mvhd``, after checking that the top-level boxes fill the file.

    ISO/IEC 14496-12 and QuickTime (https://developer.apple.com/documentation/
    quicktime-file-format): a file is a sequence of boxes, each with its size;
    ``moov`` holds the index without which no player (and no platform) can read
    the video. A box that runs past the end of the file means the file is cut
    short. ``_Bad`` when anything is wrong; None when the file does not say its
    length (a fragmented MP4's mvhd may say 0).
    """
    moov: tuple[int, int] | None = None
    pos = 0
    for _ in range(MAX_MP4_BOXES):
        if pos >= end:
            break
        kind, start, stop = _box(handle, pos, end)
        if kind == b"moov" and moov is None:
            moov = (start, stop)
        pos = stop
    else:
        if moov is None:
            raise _Bad(
                f"it has no 'moov' box (the index players need) in its first "
                f"{MAX_MP4_BOXES:,} boxes"
            )
    if moov is None:
        raise _Bad("it has no 'moov' box (the index players need)")
    pos, stop = moov
    while pos < stop:
        kind, start, box_end = _box(handle, pos, stop, b"moov")
        if kind == b"mvhd":
            return _mvhd_seconds(handle, start, box_end)
        pos = box_end
    raise _Bad("the 'moov' box has no 'mvhd' header")


def _box(handle: BinaryIO, pos: int, end: int, parent: bytes = b"") -> tuple[bytes, int, int]:
    """The (type, payload start, end) of the box at ``pos``, which must fit before ``end``.

    ``parent`` is the enclosing box's type (empty at the top level, where a box
    that does not fit means the file was cut short).
    """

    def bad(what: str) -> _Bad:
        if parent:
            return _Bad(f"the '{_name(parent)}' box is damaged: {what}")
        return _Bad(f"it is cut short: {what}")

    handle.seek(pos)
    header = handle.read(8)
    if len(header) < 8 or pos + 8 > end:
        raise bad(f"it ends inside a box header at byte {pos:,}")
    size, kind = struct.unpack(">I4s", header)
    length = 8
    if size == 1:  # a 64-bit size follows the type
        extended = handle.read(8)
        if len(extended) < 8 or pos + 16 > end:
            raise bad(f"it ends inside a box header at byte {pos:,}")
        (size,) = struct.unpack(">Q", extended)
        length = 16
    elif size == 0:  # the box runs to the end of its parent
        size = end - pos
    if size < length:
        raise _Bad(f"the '{_name(kind)}' box at byte {pos:,} has an impossible size ({size})")
    if pos + size > end:
        raise bad(f"the '{_name(kind)}' box needs {pos + size - end:,} more bytes than there are")
    return kind, pos + length, pos + size


def _name(kind: bytes) -> str:
    """A box type for a message: its four letters, or '?' for bytes that are not a name."""
    text = kind.decode("latin-1")
    return text if text.strip().isalnum() else "?"


def _mvhd_seconds(handle: BinaryIO, start: int, end: int) -> float | None:
    handle.seek(start)
    head = handle.read(min(32, end - start))
    version = head[:1]
    need = 32 if version == b"\x01" else 20
    if len(head) < need:
        raise _Bad("its 'mvhd' header is cut short")
    if version == b"\x01":
        scale, length = struct.unpack(">IQ", head[20:32])
        unknown = 0xFFFF_FFFF_FFFF_FFFF
    else:
        scale, length = struct.unpack(">II", head[12:20])
        unknown = 0xFFFF_FFFF
    if not scale:
        raise _Bad("its 'mvhd' header has a time scale of 0")
    if length in (0, unknown):  # fragmented or live: the length is not in the header
        return None
    return float(length) / float(scale)
