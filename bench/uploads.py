"""Benchmark: streaming a 1 GiB video to the fake YouTube, TikTok and X.

Run:  .venv/bin/python bench/uploads.py [--size-mib 1024]

For each platform a fresh crosspost process publishes a video of --size-mib MiB
to the fake (served by another process over loopback); reported: its wall time,
throughput and peak RSS (target <= 150 MB, flat whatever the file size), next
to the peak RSS of the same process that only loads and renders (the baseline),
and curl uploading the same file to the same fake server in one PUT.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FTYP = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
#: A movie header of 10 s (time scale 1000): crosspost refuses an MP4 without one.
MOOV = (
    struct.pack(">I4s", 116, b"moov")
    + struct.pack(">I4sI4I", 108, b"mvhd", 0, 0, 0, 1000, 10_000)
    + bytes(80)
)
#: The media data box, of size 0: it runs to the end of the file.
MDAT = struct.pack(">I4s", 0, b"mdat")


def make_video(folder: Path, size: int) -> Path:
    """An announcement with one video of ``size`` bytes (an MP4 header, then data)."""
    media = folder / "big.mp4"
    head = FTYP + MOOV + MDAT
    with media.open("wb") as handle:
        handle.write(head)
        block = os.urandom(1 << 20)
        left = size - len(head)
        while left > 0:
            handle.write(block[: min(len(block), left)])
            left -= len(block)
    (folder / "announcement.toml").write_text(
        'title = "Benchmark"\nbody = "Video besar untuk uji unggah."\n'
        'targets = ["youtube", "tiktok", "twitter"]\n[[media]]\npath = "big.mp4"\n',
        encoding="utf-8",
    )
    return folder / "announcement.toml"


def timed_curl(args: list[str]) -> float:
    """Seconds for one curl upload (no 100-continue round trip, output discarded)."""
    start = time.perf_counter()
    subprocess.run(["curl", "-sS", "-f", "-o", "/dev/null", "-H", "Expect:", *args], check=True)
    return time.perf_counter() - start


def youtube_session(origin: str, environ: dict[str, str], size: int) -> tuple[str, str]:
    """Open a resumable upload session on the fake YouTube as crosspost does: (URL, token)."""
    import httpx

    token = httpx.post(
        origin + "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": environ["CROSSPOST_YOUTUBE_REFRESH_TOKEN"],
            "client_id": environ["CROSSPOST_YOUTUBE_CLIENT_ID"],
            "client_secret": environ["CROSSPOST_YOUTUBE_CLIENT_SECRET"],
        },
    ).json()["access_token"]
    response = httpx.post(
        origin + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status",
        headers={
            "Authorization": f"Bearer {token}",
            "X-Upload-Content-Length": str(size),
            "X-Upload-Content-Type": "video/mp4",
        },
        json={
            "snippet": {"title": "curl", "description": "", "categoryId": "22"},
            "status": {"privacyStatus": "private"},
        },
    )
    response.raise_for_status()
    return response.headers["location"], str(token)


def main() -> None:
    """Serve the fakes, publish to each, run curl, print the report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mib << 20
    python = sys.executable
    server = subprocess.Popen(
        [python, str(ROOT / "bench" / "serve_fakes.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert server.stdout is not None and server.stdin is not None
    setup = json.loads(server.stdout.readline())
    origins, environ = setup["origins"], json.dumps(setup["environ"])
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            announcement = make_video(Path(tmp), size)
            for name in ("youtube", "tiktok", "twitter"):
                cmd = [
                    python,
                    str(ROOT / "bench" / "upload_one.py"),
                    name,
                    origins[name],
                    str(announcement),
                    environ,
                ]
                idle = json.loads(
                    subprocess.run(
                        [*cmd, "--idle"], capture_output=True, text=True, check=True
                    ).stdout
                )
                done = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if done.returncode:
                    raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
                result = json.loads(done.stdout)
                rows.append((name, result, idle))
                print(f"  {name}: {result}, render only: {idle}", file=sys.stderr, flush=True)
            video = Path(tmp) / "big.mp4"
            curl = timed_curl(
                [
                    "-H",
                    "Content-Type: application/octet-stream",
                    "-T",
                    str(video),
                    origins["sink"] + "/sink",
                ]
            )
            # The same fake YouTube server: curl sends the whole file in one PUT to a
            # resumable session opened the way crosspost opens one.
            session, token = youtube_session(origins["youtube"], setup["environ"], size)
            curl_youtube = timed_curl(
                [
                    "-H",
                    f"Authorization: Bearer {token}",
                    "-H",
                    "Content-Type: video/mp4",
                    "-H",
                    f"Content-Range: bytes 0-{size - 1}/{size}",
                    "-T",
                    str(video),
                    session,
                ]
            )
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    mib = size / (1 << 20)
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; video {mib:.0f} MiB; fakes in a separate process"
    )
    for name, result, idle in rows:
        rate = mib / result["seconds"]
        cpu = result["cpu_seconds"] - idle["cpu_seconds"]
        print(
            f"  {name:<8} {result['seconds']:6.1f} s  {rate:7.1f} MiB/s  peak RSS "
            f"{result['peak_rss_mb']:6.1f} MB (render only: {idle['peak_rss_mb']:.1f} MB)  "
            f"crosspost CPU {cpu:.1f} s"
        )
    print(
        f"  curl     {curl_youtube:6.1f} s  {mib / curl_youtube:7.1f} MiB/s  (one PUT of the "
        "file to the same fake YouTube server)"
    )
    print(
        f"  curl     {curl:6.1f} s  {mib / curl:7.1f} MiB/s  (one PUT of the file to a "
        "discarding server in the fakes' process: the loopback ceiling)"
    )
    print(
        "  (platform rates include the fakes' own work: TikTok hashes every byte, X parses "
        "each multipart chunk)"
    )


if __name__ == "__main__":
    main()
