"""/reports/ on the daemon's port: a listing and the report files, read-only, nothing outside the folder."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote

# Only names the report writer produces: no separators, no leading dot, a known extension.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.(html|md)$")
TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}
# The reports are self-contained and script-free; the browser is told to keep them that way.
SECURITY = (
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                "base-uri 'none'; form-action 'none'"),
    ("Cache-Control", "no-cache"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Response:
    """What the handler sends back."""

    status: HTTPStatus
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = SECURITY


def _text(status: HTTPStatus, text: str) -> Response:
    return Response(status, text.encode())


def serve_reports(folder: Path | None, path: str) -> Response:
    """The answer for `path` (the request path without its query) under /reports."""
    if folder is None:
        return _text(HTTPStatus.NOT_FOUND, "reports are not served by this process\n")
    if path == "/reports":
        return Response(HTTPStatus.MOVED_PERMANENTLY, b"", headers=(*SECURITY, ("Location", "/reports/")))
    if path == "/reports/":
        return Response(HTTPStatus.OK, index(folder).encode(), TYPES["html"])
    return _file(folder, path.removeprefix("/reports/"))


def _file(folder: Path, raw: str) -> Response:
    name = unquote(raw)
    # Refused before the file system is asked: "..", "/", "\\", "%2e%2e", "%252e" (still "%" after one
    # decoding), NUL, hidden files, and any extension other than the report's two.
    if "%" in name or not NAME.match(name) or ".." in name:
        return _text(HTTPStatus.BAD_REQUEST, "not a report name; see /reports/ for the list\n")
    path = folder / name
    try:
        # A symbolic link in the folder pointing elsewhere is not followed out of it.
        if path.resolve().parent != folder.resolve() or not path.is_file():
            return _text(HTTPStatus.NOT_FOUND, f"no report {name}; see /reports/ for the list\n")
        body = path.read_bytes()
    except OSError:
        return _text(HTTPStatus.NOT_FOUND, f"no report {name}; see /reports/ for the list\n")
    return Response(HTTPStatus.OK, body, TYPES[name.rsplit(".", 1)[1]])


def _reports(folder: Path) -> dict[str, dict[str, Path]]:
    """stem -> extension -> file, for the report files in `folder`."""
    found: dict[str, dict[str, Path]] = {}
    try:
        entries = list(folder.iterdir())
    except OSError:
        return found
    for p in entries:
        if NAME.match(p.name) and p.is_file():
            stem, _, ext = p.name.rpartition(".")
            found.setdefault(stem, {})[ext] = p
    return found


def index(folder: Path) -> str:
    """The listing: one row per report, newest period first, with its HTML and Markdown files."""
    rows = []
    for stem, files in sorted(_reports(folder).items(), reverse=True):
        links = " · ".join(f'<a href="{escape(p.name)}">{ext.upper() if ext == "html" else "Markdown"}</a>'
                           for ext, p in sorted(files.items()))  # fmt: skip
        newest = max(p.stat().st_mtime for p in files.values())
        written = datetime.fromtimestamp(newest, UTC).strftime("%Y-%m-%d %H:%M UTC")
        rows.append(f"<tr><td>{escape(stem.removeprefix('driftwatch-'))}</td><td>{links}</td>"
                    f"<td>{written}</td></tr>")  # fmt: skip
    table = "<p>No reports yet: the weekly run writes one.</p>"
    if rows:
        table = ("<table><thead><tr><th>period</th><th>files</th><th>written</th></tr></thead><tbody>"
                 + "".join(rows) + "</tbody></table>")  # fmt: skip
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>driftwatch reports</title>'
            "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}"
            "td,th{text-align:left;padding:.3rem .8rem .3rem 0;border-bottom:1px solid #eee}</style></head>"
            f"<body><h1>driftwatch reports</h1>{table}</body></html>\n")  # fmt: skip
