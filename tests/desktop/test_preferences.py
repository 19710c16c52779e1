"""Credentials typed in the first URL: one rule for the command line and the settings dialog."""

from __future__ import annotations

import pytest

from core.settings import SettingsError
from desktop.preferences import AppSettings, from_urls, split_credentials


def test_credentials_come_from_the_first_url_and_every_url_loses_them() -> None:
    typed = split_credentials(["amqp://alice:s3cret@n1:5673/v, amqp://bob:other@n2"])
    assert typed.urls == ("amqp://n1:5673/v", "amqp://n2:5672/%2F")
    assert (typed.username, typed.password, typed.has_credentials) == ("alice", "s3cret", True)
    assert "s3cret" not in repr(typed)


def test_a_first_url_without_a_user_names_no_credentials() -> None:
    typed = split_credentials(["amqp://n1", "amqp://bob:other@n2"])
    assert not typed.has_credentials
    settings = from_urls(["amqp://n1", "amqp://bob:other@n2"], AppSettings(username="kept"))
    assert (settings.username, settings.password) == ("guest", "guest")


def test_no_url_at_all_is_an_error() -> None:
    with pytest.raises(SettingsError, match="empty"):
        split_credentials([" , "])
