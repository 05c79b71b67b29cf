"""Benchmark: fitting cost against the size of the text (issue #8: "linear cost").

Run:  .venv/bin/python bench/fitting.py [--timeout 120] [--slow 20] [--profile 100KB]

Builds announcements in code, from the example's config and media
(examples/musi-rawas): bodies of 10 KB, 100 KB and 1 MB of Indonesian press-release
text with emoji, URLs, @mentions and #hashtags, and a 10 KB body with 10,000 listed
hashtags. (Loading from a file is capped at 1 MB, so the bench replaces the body of
the loaded example instead; the announcement is validated as loading validates it.)

For each it times ``crosspost.planning.build`` for every platform and for X alone,
and reports ms and ms per KB. Fitting is linear when ms per KB stays flat from
10 KB to 1 MB; the "x 10 KB" column is that ratio. Two baselines run over the
same text in the same process: one ``regex`` pass over its words (the cost of
reading the text once), and twitter-text's ``weighted_length`` (X's counter,
which fitting calls on what it keeps).

Each case runs in its own process with a time limit (``--timeout``), so a
quadratic case is reported as such instead of hanging the bench; when a size takes
longer than ``--slow`` seconds, the larger sizes of that scope are skipped and the
report says so. ``--profile SIZE`` adds cProfile's top entries for one build of
that size (every platform).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import pstats
import random
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from machine import machine  # bench/machine.py (scripts run from bench/)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "musi-rawas" / "announcement.toml"

SIZES = {"10KB": 10_000, "100KB": 100_000, "1MB": 1_000_000}
CASES = [*SIZES, "10KB+10000tags"]
SCOPES = {"all": (), "x": ("twitter",)}

# --- the text ----------------------------------------------------------------------------

#: The example's own words (its body, as the humas team wrote it), hashtags and URLs left out.
WORDS = tuple(
    word
    for raw in tomllib.loads(EXAMPLE.read_text("utf-8"))["body"].split()
    if (word := raw.strip(".,;:!?“”()")) and word[0].isalnum() and "/" not in word
)
EMOJI = ("🗳️", "📢", "🤝", "✅", "🇮🇩", "👍🏽", "⏰", "📍", "🙏", "👨‍👩‍👧")
URLS = (
    "https://kab-musirawas.kpu.go.id/berita/{n}",
    "kpu.go.id/pemilu2024",
    "https://www.instagram.com/p/C{n}xYz/",
    "bit.ly/kpu{n}",
    "https://jdih.kpu.go.id/peraturan/pkpu-{n}-2023.pdf",
)
MENTIONS = ("@kpu_ri", "@kpumura", "@bawaslu_ri", "@humaskpusumsel", "@infopemilu")
TAGS = ("#TemanPemilih", "#KPUMelayani", "#PemiluDamai", "#Pemilu2024", "#KPUMusiRawas")


def body_text(size: int, seed: int = 8) -> str:
    """About ``size`` UTF-8 bytes of press-release paragraphs (a fixed seed: same text
    every run): sentences of Indonesian words, with an emoji, URL, @mention, #hashtag,
    date or quotation now and then, paragraphs of 3-6 sentences."""
    rnd = random.Random(seed)
    paragraphs: list[str] = []
    total = 0
    while total < size:
        sentences = []
        for _ in range(rnd.randint(3, 6)):
            words = [rnd.choice(WORDS) for _ in range(rnd.randint(8, 22))]
            extra = rnd.random()
            if extra < 0.15:
                words.insert(rnd.randint(0, len(words)), rnd.choice(TAGS))
            elif extra < 0.25:
                words.append(rnd.choice(URLS).format(n=rnd.randint(1, 9999)))
            elif extra < 0.32:
                words.insert(rnd.randint(0, len(words)), rnd.choice(MENTIONS))
            elif extra < 0.38:
                words.append(f"({rnd.randint(1, 28)}/{rnd.randint(1, 12)}/23)")
            sentence = " ".join(words)
            sentence = sentence[0].upper() + sentence[1:]
            if rnd.random() < 0.12:
                sentence = f"“{sentence}”, ujar Ketua KPU."
            else:
                sentence += rnd.choice(".....!?")
            if rnd.random() < 0.2:
                sentence += " " + rnd.choice(EMOJI)
            sentences.append(sentence)
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        total += len(paragraph.encode("utf-8")) + 1
    text = "\n".join(paragraphs)
    return text.encode("utf-8")[:size].decode("utf-8", "ignore").rstrip()


# --- one case, in a child process ----------------------------------------------------------


def loaded_for(case: str) -> tuple[Any, Any]:
    """The example's config, and its loaded announcement with the case's body/hashtags."""
    from crosspost.config import find_config, load_config
    from crosspost.loader import load_announcement

    config = load_config(find_config(None, EXAMPLE))
    loaded = load_announcement(EXAMPLE, config)
    ann = loaded.announcement
    size = SIZES.get(case, 10_000)
    update: dict[str, Any] = {"body": body_text(size)}
    if case.endswith("tags"):
        update["hashtags"] = [f"Pemilu{i:05d}" for i in range(10_000)]
    data = {**ann.model_dump(), **update}
    announcement = type(ann).model_validate(data)
    return config, dataclasses.replace(loaded, announcement=announcement)


def time_case(case: str, scope: str, budget: float = 1.0) -> dict[str, Any]:
    """Median seconds of ``build`` for one case and scope (repeated while under ``budget``
    seconds, at most 5 times), plus the baselines over the same text."""
    import regex

    from crosspost import twittertext
    from crosspost.planning import build

    config, loaded = loaded_for(case)
    text = loaded.announcement.body
    only = SCOPES[scope]
    runs: list[float] = []
    spent = 0.0
    posts: list[dict[str, Any]] = []
    while not runs or (spent < budget and len(runs) < 5):
        start = time.perf_counter()
        plan = build(loaded, config, only)
        runs.append(time.perf_counter() - start)
        spent += runs[-1]
        posts = [
            {"platform": p.platform, "length": len(p.text), "problems": len(p.problems)}
            for p in plan.posts
        ]
    words = regex.compile(r"\w+")
    start = time.perf_counter()
    words.findall(text)
    scan = time.perf_counter() - start
    start = time.perf_counter()
    twittertext.weighted_length(text)
    weighted = time.perf_counter() - start
    return {
        "case": case,
        "scope": scope,
        "kb": len(text.encode("utf-8")) / 1000,
        "build": statistics.median(runs),
        "runs": len(runs),
        "scan": scan,
        "weighted": weighted,
        "posts": posts,
    }


def profile_case(case: str, top: int) -> str:
    """cProfile's top entries (own time, then cumulative) for one build, every platform."""
    from crosspost.planning import build

    config, loaded = loaded_for(case)
    profiler = cProfile.Profile()
    profiler.enable()
    build(loaded, config)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# --- the parent: run cases in children, with limits --------------------------------------


def child(args: list[str], timeout: float) -> tuple[str, Any]:
    """Run this script with ``args`` in a fresh process: ("ok", result), ("timeout", None)
    or ("error", the child's last stderr line)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return "timeout", None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
        return "error", lines[-1]
    return "ok", json.loads(done.stdout)


def main() -> None:
    """Every case and scope, then the optional profile."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    parser.add_argument("--slow", type=float, default=20.0, help="skip larger sizes after this")
    parser.add_argument("--profile", choices=CASES, help="also profile one build of this case")
    parser.add_argument("--top", type=int, default=25, help="profile entries shown")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--scope", choices=list(SCOPES), help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case and args.profile_child:
        print(json.dumps(profile_case(args.case, args.top)))
        return
    if args.case:
        print(json.dumps(time_case(args.case, args.scope)))
        return

    print(f"machine: {machine(commit=True)}")
    print(
        f"{'case':<16} {'scope':<5} {'KB':>6} {'build ms':>9} {'ms/KB':>7} {'x 10 KB':>7} "
        f"{'scan ms':>8} {'x scan':>7} {'weighted ms':>11}  posts (chars, problems)"
    )
    for scope in SCOPES:
        unit: float | None = None  # ms per KB of the 10 KB case
        skip_from: str | None = None
        for case in CASES:
            if skip_from and case in SIZES:
                print(f"{case:<16} {scope:<5} skipped: {skip_from}")
                continue
            status, result = child(["--case", case, "--scope", scope], args.timeout)
            if status != "ok":
                what = f"no result in {args.timeout:.0f} s" if status == "timeout" else result
                print(f"{case:<16} {scope:<5} {status}: {what}")
                if case in SIZES:
                    skip_from = f"{case} gave {status}"
                continue
            ms = result["build"] * 1000
            per_kb = ms / result["kb"]
            if case == "10KB":
                unit = per_kb
            ratio = f"{per_kb / unit:7.1f}" if unit else f"{'-':>7}"
            scan_ms = result["scan"] * 1000
            posts = ", ".join(
                f"{p['platform']} {p['length']}{'!' * min(p['problems'], 1)}"
                for p in result["posts"]
            )
            print(
                f"{case:<16} {scope:<5} {result['kb']:6.0f} {ms:9.1f} {per_kb:7.3f} {ratio} "
                f"{scan_ms:8.2f} {ms / max(scan_ms, 1e-6):7.0f} {result['weighted'] * 1000:11.1f}"
                f"  {posts} ({result['runs']} runs)"
            )
            if case in SIZES and result["build"] > args.slow:
                skip_from = f"{case} took {result['build']:.1f} s (> {args.slow:.0f} s)"
    print(
        "build ms: median of up to 5 builds; ms/KB: per KB of body; x 10 KB: ms/KB against the "
        "10 KB case (flat = linear); scan: one regex pass over the words; weighted: "
        "twittertext.weighted_length of the whole body; posts: characters of each post, "
        "! = the post has problems."
    )
    if args.profile:
        status, result = child(["--case", args.profile, "--profile-child"], args.timeout * 3)
        print(f"\nprofile of one build, {args.profile}, every platform:")
        print(result if status == "ok" else f"{status}: {result}")


if __name__ == "__main__":
    main()
