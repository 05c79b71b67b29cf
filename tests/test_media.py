"""Media: sniffed from their bytes, sized from their headers, checked per platform."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pytest

from crosspost.cli import main
from crosspost.media import image_size, inspect, sniff, video_duration
from tests.conftest import EXAMPLE


def png(width: int, height: int) -> bytes:
    """A valid PNG header of the given size (the pixels do not matter here)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"\x00" * 16
    )


def test_sizes_from_headers(tmp_path: Path) -> None:
    """JPEG, PNG, GIF and WebP sizes come from their headers."""
    assert image_size(EXAMPLE / "media" / "humas.jpg") == (480, 360)
    cases = {
        "a.png": png(1080, 1350),
        "a.gif": b"GIF89a" + struct.pack("<HH", 320, 200) + b"\x00" * 20,
        "a.webp": b"RIFF\x00\x00\x00\x00WEBPVP8X"
        + b"\x00" * 8
        + (1199).to_bytes(3, "little")
        + (799).to_bytes(3, "little")
        + b"\x00" * 4,
    }
    expected = {"a.png": (1080, 1350), "a.gif": (320, 200), "a.webp": (1200, 800)}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert image_size(tmp_path / name) == expected[name], name


def test_video_duration_from_the_moov_box() -> None:
    """The example video is 4 seconds long, read from mvhd without reading the media."""
    assert video_duration(EXAMPLE / "media" / "humas.mp4") == pytest.approx(4.0, abs=0.05)


def test_unknown_and_truncated_files_are_not_guessed(tmp_path: Path) -> None:
    """Unrecognised bytes are not media; a truncated header gives no size rather than junk."""
    assert sniff(b"%PDF-1.7") is None
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert image_size(tmp_path / "x.png") is None
    (tmp_path / "v.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    assert video_duration(tmp_path / "v.mp4") is None
    assert inspect(tmp_path / "nope") == "file not found"


def test_instagram_refuses_an_image_of_the_wrong_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 3:1 banner is refused for Instagram at validate time, naming its size."""
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "banner.png").write_bytes(png(1500, 500))
    shutil.copy(EXAMPLE / "crosspost.toml", folder / "crosspost.toml")
    (folder / "a.toml").write_text(
        'body = "Halo"\ntargets = ["instagram"]\n[[media]]\npath = "banner.png"\n'
        'url = "https://example.org/banner.png"\n',
        encoding="utf-8",
    )
    assert main(["validate", str(folder / "a.toml")]) == 2
    err = capsys.readouterr().err
    assert "banner.png is 1500×500 (aspect ratio 3.00:1)" in err
    assert "Instagram accepts JPEG images only" in err


def mp4(*boxes: bytes) -> bytes:
    """An MP4: an ftyp box, then ``boxes``."""
    return struct.pack(">I4s4sI", 16, b"ftyp", b"mp42", 0) + b"".join(boxes)


def box(kind: bytes, payload: bytes = b"") -> bytes:
    """One box with a 32-bit size."""
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mvhd(scale: int, length: int) -> bytes:
    """A version-0 movie header: ``length`` in units of 1/``scale`` seconds."""
    return box(b"mvhd", struct.pack(">I4I", 0, 0, 0, scale, length) + bytes(80))


def test_valid_videos_pass_and_give_their_length(tmp_path: Path) -> None:
    """moov at the end, a 64-bit mdat size, an mdat running to the end: all valid."""
    cases = {
        "moov-last.mp4": mp4(box(b"mdat", bytes(1000)), box(b"moov", mvhd(600, 3000))),
        "large-size.mp4": mp4(
            box(b"moov", mvhd(1000, 2500)), struct.pack(">I4sQ", 1, b"mdat", 16 + 50) + bytes(50)
        ),
        "to-the-end.mp4": mp4(box(b"moov", mvhd(1, 7)), struct.pack(">I4s", 0, b"mdat") + bytes(9)),
    }
    lengths = {"moov-last.mp4": 5.0, "large-size.mp4": 2.5, "to-the-end.mp4": 7.0}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert inspect(tmp_path / name) == ("video", "video/mp4", len(data)), name
        assert video_duration(tmp_path / name) == lengths[name], name


def test_fragmented_video_has_no_length_in_its_header(tmp_path: Path) -> None:
    """A fragmented MP4's mvhd says 0: valid, and its length is unknown (None), not 0 s."""
    data = mp4(box(b"moov", mvhd(1000, 0)), box(b"moof", bytes(8)), box(b"mdat", bytes(8)))
    (tmp_path / "f.mp4").write_bytes(data)
    assert inspect(tmp_path / "f.mp4") == ("video", "video/mp4", len(data))
    assert video_duration(tmp_path / "f.mp4") is None


def test_video_headers_read_without_reading_the_video(tmp_path: Path) -> None:
    """A 4 GB (sparse) video is checked by seeking: little memory, little time."""
    import time
    import tracemalloc

    path = tmp_path / "big.mp4"
    head = mp4(box(b"moov", mvhd(1000, 60_000)), struct.pack(">I4sQ", 1, b"mdat", 4 << 30))
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(len(head) - 16 + (4 << 30))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        assert inspect(path) == ("video", "video/mp4", len(head) - 16 + (4 << 30))
        assert video_duration(path) == 60.0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert time.perf_counter() - started < 1.0


def test_broken_box_structure_is_named(tmp_path: Path) -> None:
    """An impossible box size, a zero time scale and a damaged moov each say what is wrong."""
    cases = {
        "tiny.mp4": (
            mp4(struct.pack(">I4s", 4, b"mdat")),
            "'mdat' box at byte 16 has an impossible",
        ),
        "scale.mp4": (mp4(box(b"moov", mvhd(0, 10))), "time scale of 0"),
        "inner.mp4": (
            mp4(box(b"moov", struct.pack(">I4s", 500, b"trak"))),
            "the 'moov' box is damaged: the 'trak' box needs",
        ),
    }
    for name, (data, expected) in cases.items():
        (tmp_path / name).write_bytes(data)
        found = inspect(tmp_path / name)
        assert isinstance(found, str) and expected in found, (name, found)
        assert video_duration(tmp_path / name) is None


def test_image_headers_checked(tmp_path: Path) -> None:
    """A 0-pixel image, a PNG whose IHDR checksum is wrong, a cut GIF: refused, saying why;
    a JPEG with fill bytes before its frame header is fine."""
    bad_crc = bytearray(png(10, 10))
    bad_crc[30] ^= 0xFF
    jpeg = (EXAMPLE / "media" / "humas.jpg").read_bytes()
    cases = {
        "zero.png": (png(0, 10), "its header says it is 0×10 pixels"),
        "crc.png": (bytes(bad_crc), "its IHDR chunk is damaged"),
        "cut.gif": (b"GIF89a\x10", "its header is cut short"),
        "webp.webp": (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(16), "cut short or damaged"),
    }
    for name, (data, expected) in cases.items():
        (tmp_path / name).write_bytes(data)
        found = inspect(tmp_path / name)
        assert isinstance(found, str) and expected in found, (name, found)
        assert image_size(tmp_path / name) is None
    (tmp_path / "fill.jpg").write_bytes(jpeg[:193] + b"\xff\xff" + jpeg[193:])
    assert inspect(tmp_path / "fill.jpg") == ("image", "image/jpeg", len(jpeg) + 2)
    assert image_size(tmp_path / "fill.jpg") == (480, 360)
