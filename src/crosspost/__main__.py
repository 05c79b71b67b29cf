"""``python -m crosspost``."""

from crosspost.cli import entry

entry()
