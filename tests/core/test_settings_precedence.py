"""``choose_urls``: Kanin's one settings precedence, --url > KANIN_URL > saved > default.

Every level is given a different host, so each assertion says which level won.
"""

from __future__ import annotations

import pytest

from core.settings import DEFAULT_URL, ConnectionSettings, UrlSource, choose_urls

GIVEN = ["amqp://a:b@from-flag"]
ENV = {"KANIN_URL": "amqp://c:d@from-env"}
SAVED = ("amqp://from-saved",)


@pytest.mark.parametrize(
    ("given", "environ", "saved", "source", "host"),
    [
        (GIVEN, ENV, SAVED, UrlSource.COMMAND_LINE, "from-flag"),
        ("amqp://a:b@from-flag", ENV, SAVED, UrlSource.COMMAND_LINE, "from-flag"),
        (None, ENV, SAVED, UrlSource.ENVIRONMENT, "from-env"),
        ([], ENV, SAVED, UrlSource.ENVIRONMENT, "from-env"),
        ("", ENV, SAVED, UrlSource.ENVIRONMENT, "from-env"),
        (None, {"KANIN_URL": "   "}, SAVED, UrlSource.SAVED, "from-saved"),
        (None, {}, SAVED, UrlSource.SAVED, "from-saved"),
        (None, {}, (), UrlSource.DEFAULT, "localhost"),
    ],
)
def test_each_level_wins_only_when_the_levels_above_are_empty(
    given, environ, saved, source, host
) -> None:
    chosen = choose_urls(given, environ=environ, saved=saved)
    assert chosen.source is source
    assert ConnectionSettings.from_urls(chosen.urls).primary.host == host


def test_a_bad_command_line_url_is_still_the_command_lines_and_fails_later() -> None:
    chosen = choose_urls(["http://nope"], environ=ENV, saved=SAVED)
    assert chosen.source is UrlSource.COMMAND_LINE
    assert chosen.urls == ("http://nope",)


def test_the_default_is_the_documented_url() -> None:
    assert choose_urls(None, environ={}).urls == (DEFAULT_URL,)


def test_resolve_reads_nothing_saved_and_takes_the_environment_over_the_default() -> None:
    assert ConnectionSettings.resolve(None, ENV).primary.host == "from-env"
    assert ConnectionSettings.resolve("amqp://x", ENV).primary.host == "x"


def test_the_process_environment_is_read_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KANIN_URL", "amqp://from-process-env")
    chosen = choose_urls(None, saved=SAVED)
    assert chosen.source is UrlSource.ENVIRONMENT
    assert chosen.urls == ("amqp://from-process-env",)
