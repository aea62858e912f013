"""/reports/ as a pure function: what is served, what is refused, and with which headers."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

from driftwatch.server_reports import serve_reports


def test_a_symlink_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text("password")
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "driftwatch-2025-W49.html").symlink_to(secret)
    response = serve_reports(folder, "/reports/driftwatch-2025-W49.html")
    assert response.status == HTTPStatus.NOT_FOUND
    assert b"password" not in response.body


def test_listing_newest_first_and_security_headers(tmp_path: Path) -> None:
    names = ("driftwatch-2025-W48.html", "driftwatch-2025-W49.html", "driftwatch-2025-W49.md", "notes.txt")
    for name in names:
        (tmp_path / name).write_text("x")
    response = serve_reports(tmp_path, "/reports/")
    body = response.body.decode()
    assert body.index("2025-W49") < body.index("2025-W48")
    assert "notes.txt" not in body
    headers = dict(response.headers)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_no_folder_yet_and_not_served(tmp_path: Path) -> None:
    assert b"No reports yet" in serve_reports(tmp_path / "missing", "/reports/").body
    assert serve_reports(None, "/reports/").status == HTTPStatus.NOT_FOUND
