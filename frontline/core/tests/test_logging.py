"""Structured logs: one JSON object per line, with the request id and never a secret."""

from __future__ import annotations

import io
import json
import logging
from contextlib import contextmanager

import pytest

from frontline.core.logging import JsonFormatter, RequestIdFilter, logging_config


@contextmanager
def json_lines(logger_name: str):
    """What ``logger_name`` writes meanwhile, formatted as production formats it: a
    callable returning the lines read as JSON."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


@pytest.fixture
def request_lines():
    """What the request logger writes."""
    with json_lines("frontline.request") as lines:
        yield lines


@pytest.mark.django_db
def test_a_request_is_one_json_line_with_its_id_and_no_secrets(client, request_lines):
    response = client.get(
        "/accounts/login/?next=/tickets/&token=query-secret-123",
        headers={"Authorization": "Bearer header-secret-456", "X-Request-ID": "req-0001-abcd"},
    )

    [line] = request_lines()
    assert response["X-Request-ID"] == "req-0001-abcd"
    assert line["request_id"] == "req-0001-abcd"
    assert line["level"] == "INFO"
    assert line["logger"] == "frontline.request"
    assert line["method"] == "GET"
    assert line["path"] == "/accounts/login/"
    assert line["route"] == "login"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")
    text = json.dumps(line)
    assert "secret" not in text
    assert "Bearer" not in text and "Authorization" not in text


@pytest.mark.django_db
def test_the_signed_in_user_is_named_by_id(client, cast, request_lines):
    client.force_login(cast.dispatcher)

    client.get("/")

    [line] = request_lines()
    assert line["user_id"] == cast.dispatcher.pk
    assert line["route"] == "home"


@pytest.mark.django_db
def test_a_reset_link_token_in_the_path_is_redacted(client, request_lines):
    client.get("/accounts/reset/MTIz/cr1ezz-0123456789abcdef0123456789abcdef/")

    [line] = request_lines()
    assert "0123456789abcdef" not in json.dumps(line)
    assert "[redacted]" in line["path"]


@pytest.mark.django_db
def test_probes_are_logged_at_debug_only(client, request_lines):
    client.get("/healthz")

    [line] = request_lines()
    assert line["level"] == "DEBUG"


def test_an_exception_is_kept_in_the_line():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("job",), None)
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "failed job"
    assert "ValueError: boom" in line["exception"]
    assert line["request_id"] == "-"


def test_log_format_picks_the_formatter():
    assert logging_config(log_format="json", level="INFO")["handlers"]["console"]["formatter"] == (
        "json"
    )
    assert logging_config(log_format="text", level="INFO")["handlers"]["console"]["formatter"] == (
        "text"
    )


@pytest.mark.django_db
def test_djangos_not_found_line_carries_the_request_id(client):
    with json_lines("django.request") as lines:
        response = client.get("/no-such-page/", headers={"X-Request-ID": "req-0002-abcd"})

    [line] = lines()
    assert response.status_code == 404
    assert line["request_id"] == "req-0002-abcd"
    assert line["level"] == "WARNING"
