"""One crosspost publish of a big video to one fake platform; prints JSON with time and peak RSS.

Run by bench/uploads.py as a separate process, so its peak RSS (VmHWM) is
crosspost's alone. With ``--idle`` it only imports and renders, for the baseline.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import resource
import sys
import time
from pathlib import Path

from crosspost import registry
from crosspost.api import PublishContext, new_client
from crosspost.config import parse_config
from crosspost.credentials import Credentials
from crosspost.loader import load_announcement


def peak_rss_mb() -> float:
    """Peak resident set size of this process (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    """publish the announcement's video to one platform through its fake."""
    platform, origin, announcement, environ = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    idle = "--idle" in sys.argv
    config = parse_config({"platforms": {platform: {"api_base": origin}}}, None)
    loaded = load_announcement(Path(announcement), config)
    adapter = registry.get_adapter(platform, config.for_platform(platform))
    post = adapter.render(loaded, config)
    # X refuses videos over 512 MB at validate time; the benchmark measures the
    # upload path anyway, so the size problem is set aside here (and only here).
    post = dataclasses.replace(post, problems=())
    start = time.perf_counter()
    remote = None
    if not idle:

        async def go() -> str:
            async with new_client(timeout=600) as client:
                ctx = PublishContext(
                    client=client,
                    platform=platform,
                    settings=adapter.settings,
                    credentials=Credentials(platform, environ=json.loads(environ)),
                    poll_interval=0.05,
                )
                return (await adapter.publish(post, ctx)).remote_id

        remote = asyncio.run(go())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - start,
                "peak_rss_mb": peak_rss_mb(),
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "id": remote,
            }
        )
    )


if __name__ == "__main__":
    main()
