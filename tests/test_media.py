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
