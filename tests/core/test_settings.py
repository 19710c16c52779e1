"""Connection settings: parsing, validation messages, redaction."""

from __future__ import annotations

import pytest

from core.settings import DEFAULT_URL, ConnectionSettings, SettingsError, parse_url


def test_parses_a_full_url():
    address = parse_url("amqp://alice:s3cr%40t@rabbit.example:5673/work?heartbeat=30")
    assert (address.host, address.port, address.vhost) == ("rabbit.example", 5673, "work")
    assert (address.username, address.password, address.heartbeat) == ("alice", "s3cr@t", 30)
    params = address.pika_parameters()
    assert params.credentials.password == "s3cr@t"
    assert params.heartbeat == 30
    assert params.virtual_host == "work"


def test_default_vhost_and_ports():
    assert parse_url("amqp://localhost").vhost == "/"
    assert parse_url("amqp://localhost/%2F").vhost == "/"
    assert parse_url("amqp://localhost").port == 5672
    assert parse_url("amqps://localhost").port == 5671


def test_password_is_never_shown():
    address = parse_url("amqp://bob:hunter2@host:5672/%2F")
    assert "hunter2" not in address.redacted
    assert "hunter2" not in repr(address)
    assert address.redacted == "amqp://bob:***@host:5672/%2F"
    settings = ConnectionSettings.from_urls(["amqp://bob:hunter2@a", "amqp://bob:hunter2@b"])
    assert "hunter2" not in settings.redacted
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "empty"),
        ("localhost:5672", "must start with amqp://"),
        ("http://localhost", "scheme 'http' is not supported"),
        ("amqp://user:pw@:5672/", "names no host"),
        ("amqp://user:pw@host:notaport/", "not a number"),
        ("amqp://user:pw@host:99999/", "not a number"),
        ("amqp://host/a/b", "contains '/'"),
        ("amqp://host/?heartbeat=soon", "whole number"),
        ("amqp://host/?bogus=1", "unknown option"),
    ],
)
def test_bad_urls_get_one_clear_sentence(url, fragment):
    with pytest.raises(SettingsError) as info:
        parse_url(url)
    assert fragment in str(info.value)


def test_bad_url_message_hides_the_password():
    with pytest.raises(SettingsError) as info:
        parse_url("amqp://user:topsecret@host:notaport/")
    assert "topsecret" not in str(info.value)


def test_precedence_explicit_then_environment_then_default():
    env = {"KANIN_URL": "amqp://a:b@envhost, amqp://a:b@envhost2"}
    assert ConnectionSettings.resolve(["amqp://cli"], env).primary.host == "cli"
    from_env = ConnectionSettings.resolve(None, env)
    assert [a.host for a in from_env.addresses] == ["envhost", "envhost2"]
    assert ConnectionSettings.resolve(None, {}).primary == parse_url(DEFAULT_URL)


def test_cluster_parameters_keep_order():
    settings = ConnectionSettings.from_urls(["amqp://n1,amqp://n2", "amqp://n3"])
    assert [p.host for p in settings.pika_parameters()] == ["n1", "n2", "n3"]


def test_with_credentials_replaces_user_and_password_on_every_node():
    original = ConnectionSettings.from_urls(["amqp://a:b@h1:5673/work", "amqps://c:d@h2"])
    settings = original.with_credentials("u", "p")
    assert [(a.username, a.password) for a in settings.addresses] == [("u", "p"), ("u", "p")]
    assert [(a.host, a.port, a.vhost) for a in settings.addresses] == [
        ("h1", 5673, "work"),
        ("h2", 5671, "/"),
    ]
    assert [p.credentials.username for p in settings.pika_parameters()] == ["u", "u"]
    assert (original.primary.username, original.primary.password) == ("a", "b")


def test_shuffled_cluster_parameters_hold_every_node_in_varying_orders():
    settings = ConnectionSettings.from_urls(["amqp://n1,amqp://n2,amqp://n3"])
    orders = {tuple(p.host for p in settings.pika_parameters(shuffle=True)) for _ in range(60)}
    assert all(sorted(order) == ["n1", "n2", "n3"] for order in orders)
    assert len({order[0] for order in orders}) == 3  # each node comes first for some client
