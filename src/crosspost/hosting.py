"""Where a media file lives on the organisation's web server: ``media_base_url`` + its path.

Instagram and TikTok photo posts fetch media from a public URL. The user copies
the announcement's folder to a web server and names its address once
(``media_base_url``); a file's URL is that address plus the file's path relative
to the announcement. Two things make that mapping go wrong unless handled:

* A path is not a URL: a space, ``#``, ``?`` or a non-ASCII letter must be
  percent-encoded (RFC 3986, section 2.1), or the platform fetches another
  address, or none. Each path segment is encoded on its own, so ``/`` stays a
  separator.
* A path that leaves the announcement's folder (``../logo.jpg``, an absolute
  path) has no place under ``media_base_url``: joining it would name a file the
  user never uploaded there. Such a path gets no URL; the caller says why.
"""

from __future__ import annotations

import re
from urllib.parse import quote

#: A Windows drive ("C:") or a URL ("file://"): not a path inside the folder.
_DRIVE_OR_SCHEME = re.compile(r"^(?:[A-Za-z]:|[A-Za-z][A-Za-z0-9+.-]*://)")
#: What a path segment keeps unencoded: RFC 3986's unreserved characters and the
#: sub-delimiters a web server maps to the same file name ("pchar", section 3.3).
_SAFE = "-._~!$&'()*+,;=:@"


def hosted_url(base_url: str, relative: str) -> str | None:
    """The public URL of ``relative`` (a path inside the announcement's folder) under
    ``base_url``; None when the path leaves that folder (``../``, an absolute path).

    ``.`` segments and doubled slashes are dropped, ``a/../b`` is ``b``; each segment
    is percent-encoded as UTF-8 (``"foto rapat.jpg"`` → ``foto%20rapat.jpg``). A
    backslash counts as a separator (a path written on Windows).
    """
    path = relative.replace("\\", "/")
    if path.startswith("/") or _DRIVE_OR_SCHEME.match(path):
        return None
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not segments:
                return None  # above the announcement's folder
            segments.pop()
            continue
        segments.append(segment)
    if not segments:
        return None  # the folder itself is not a file
    encoded = "/".join(quote(s, safe=_SAFE, encoding="utf-8") for s in segments)
    return base_url.rstrip("/") + "/" + encoded


def outside_message(name: str) -> str:
    """Why a media path got no URL under ``media_base_url``, and what to do."""
    return (
        f"{name}: this path leaves the announcement's folder, so it has no address under "
        "media_base_url; move the file into the announcement's folder (or a folder inside "
        'it), or give this [[media]] entry its own url = "https://…"'
    )


__all__ = ["hosted_url", "outside_message"]
