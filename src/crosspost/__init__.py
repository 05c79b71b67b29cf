"""crosspost: one announcement, written once, published well on five networks.

As a library::

    from crosspost import load_announcement, get_adapter, plan_file

    get_adapter("twitter").measure("Halo #TemanPemilih")   # X's weighted length
    plan = plan_file(Path("announcement.toml"))             # the posts preview shows
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "Adapter",
    "Announcement",
    "CrosspostError",
    "Plan",
    "Post",
    "__version__",
    "get_adapter",
    "load_announcement",
    "load_config",
    "plan_file",
]

if TYPE_CHECKING:
    from crosspost.adapter import Adapter, Post
    from crosspost.config import load_config
    from crosspost.errors import CrosspostError
    from crosspost.loader import load_announcement
    from crosspost.models import Announcement
    from crosspost.planning import Plan, plan_file
    from crosspost.registry import get_adapter

# Imported on first use, so `crosspost --help` and `import crosspost` stay fast.
_LAZY = {
    "Adapter": "crosspost.adapter",
    "Post": "crosspost.adapter",
    "load_config": "crosspost.config",
    "CrosspostError": "crosspost.errors",
    "load_announcement": "crosspost.loader",
    "Announcement": "crosspost.models",
    "Plan": "crosspost.planning",
    "plan_file": "crosspost.planning",
    "get_adapter": "crosspost.registry",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("crosspost")
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'crosspost' has no attribute {name!r}")
