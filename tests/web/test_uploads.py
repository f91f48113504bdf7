"""Uploads: the request's size capped before any view runs, each file streamed to a file of its
own under a generated name, its first bytes checked against the kind the form asked for, its
own cap enforced while it is copied, and nothing left behind either way."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from services.errors import ServiceRefused
from tests.flows import REGISTRATION_TIME
from tests.web.site import Visitor, site
from web.uploads import received


def _folder(registered) -> Path:
    return registered.app.extensions["huiyan"].settings.home / "uploads"


def _upload(data: bytes, name: str = "report.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def test_a_request_over_the_cap_is_refused_before_any_view_runs(registered) -> None:
    app = site(registered.huiyan, REGISTRATION_TIME, MAX_CONTENT_LENGTH=64 * 1024)
    visitor = Visitor(app)
    visitor.sign_in(registered.huiyan.people["lead-yongjiang"], REGISTRATION_TIME)
    answer = visitor.submit("/team/submissions", {
        "report": (io.BytesIO(b"%PDF-" + b"0" * (100 * 1024)), "report.pdf"),
    }, content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 413
    assert "larger than this site accepts" in answer.get_data(as_text=True) or (
        "超过本站允许的大小" in answer.get_data(as_text=True)
    )


def test_a_file_is_kept_under_a_made_name_and_removed_after(registered) -> None:
    with registered.app.test_request_context():
        with received(_upload(b"%PDF-1.7 body", "../../etc/passwd"), "pdf",
                      limit=1024, what="report") as path:  # fmt: skip
            assert path.parent == _folder(registered) and path.read_bytes() == b"%PDF-1.7 body"
            assert "passwd" not in path.name and len(path.name) == 32
            assert path.stat().st_mode & 0o777 == 0o600
        assert not path.exists()


@pytest.mark.parametrize(
    ("data", "kind", "why"),
    [
        (b"MZ\x90\x00 not a pdf", "pdf", "not a pdf file"),
        (b"%PDF-" + b"x" * 2048, "pdf", "larger than"),
        (b"", "pdf", "empty"),
        (b"plain text, not an archive", "archive", "not a archive file"),
    ],
)
def test_a_wrong_or_oversized_file_is_refused_and_nothing_is_left(
    registered, data: bytes, kind: str, why: str
) -> None:
    before = set(_folder(registered).glob("*")) if _folder(registered).exists() else set()
    with (
        registered.app.test_request_context(),
        pytest.raises(ServiceRefused, match=why),
        received(_upload(data), kind, limit=1024, what="upload"),
    ):
        pytest.fail("a refused file reached the caller")
    assert set(_folder(registered).glob("*")) == before


def test_no_file_chosen_is_said(registered) -> None:
    with (
        registered.app.test_request_context(),
        pytest.raises(ServiceRefused, match="no file"),
        received(None, "pdf", limit=1024, what="report"),
    ):
        pass
