"""uvicorn's access log keeps paths but never query strings (invite links carry a one-use code)."""

from __future__ import annotations

import logging

from admin.commands.run_cmd import NoQueryStrings


def access_record(path: str) -> logging.LogRecord:
    # The shape uvicorn's httptools/h11 protocols log each request in.
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200), None,
    )


def test_invite_code_is_cut_from_the_line() -> None:
    record = access_record("/?start=XQK76JSN")
    assert NoQueryStrings().filter(record)
    line = record.getMessage()
    assert "XQK76JSN" not in line
    assert '"GET /?… HTTP/1.1" 200' in line


def test_plain_paths_are_left_alone() -> None:
    record = access_record("/admin/cards")
    assert NoQueryStrings().filter(record)
    assert '"GET /admin/cards HTTP/1.1" 200' in record.getMessage()
