"""Connection settings: parsing, validation messages, redaction."""

from __future__ import annotations

import io

import pytest

from core.settings import (
    DEFAULT_URL,
    ConnectionSettings,
    SettingsError,
    parse_url,
    read_password,
)


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
        ("amqp://host/?ssl_options=xyz", "ssl_options must be a dict of ssl settings"),
        ("amqp://host/?ssl_options=%7B%7D", "ssl_options is not accepted"),
        ("amqp://host/?tcp_options=[1]", "tcp_options must be a dict"),
        ("amqp://host/?frame_max=1", "frame_max must be a whole number of bytes from 4096"),
        ("amqp://host/?frame_max=999999", "from 4096 to 131072, not '999999'"),
        ("amqp://host/?channel_max=abc", "channel_max must be a whole number of channels"),
        ("amqp://host/?channel_max=0", "from 1 to 65535, not '0'"),
        ("amqp://host/?connection_attempts=0", "connection_attempts must be a whole number"),
        ("amqp://host/?socket_timeout=-1", "socket_timeout must be more than 0 seconds"),
        ("amqp://host/?socket_timeout=0", "socket_timeout must be more than 0 seconds"),
        ("amqp://host/?stack_timeout=inf", "stack_timeout must be more than 0 seconds"),
        ("amqp://host/?retry_delay=soon", "retry_delay must be 0 or more seconds"),
        ("amqp://host/?blocked_connection_timeout=-5", "must be 0 or more seconds"),
        ("amqp://host/?heartbeat=5&heartbeat=6", "heartbeat is given 2 times"),
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


@pytest.mark.parametrize(
    "query",
    [
        "frame_max=4096&channel_max=65535&connection_attempts=3",
        "socket_timeout=2.5&retry_delay=0&blocked_connection_timeout=30&stack_timeout=9",
        "tcp_options=%7B%27TCP_KEEPIDLE%27%3A60%7D&locale=en_US&heartbeat=0",
    ],
)
def test_good_url_options_pass_and_reach_pika(query):
    address = parse_url(f"amqp://u:p@host/?{query}")
    assert address.pika_parameters() is not None  # pika takes every one of them


def test_each_bad_url_option_is_one_sentence_without_pika_words():
    with pytest.raises(SettingsError) as info:
        parse_url("amqp://user:topsecret@host/?ssl_options=xyz")
    text = str(info.value)
    assert "malformed node" not in text
    assert "topsecret" not in text
    assert text.count(".") >= 1
    assert text.endswith(".")


def test_with_password_keeps_each_user_and_replaces_every_password():
    settings = ConnectionSettings.from_urls(["amqp://ann:old@a", "amqp://bob:old@b"])
    changed = settings.with_password("n3w")
    assert [(a.username, a.password) for a in changed.addresses] == [("ann", "n3w"), ("bob", "n3w")]


def test_the_password_file_gives_its_first_line(tmp_path):
    path = tmp_path / "password"
    path.write_text("s3cret pass\nignored\n")
    assert read_password(str(path)) == "s3cret pass"
    assert read_password("-", io.StringIO("from-stdin\r\n")) == "from-stdin"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(None, "cannot be read: No such file or directory."), ("\nsecond\n", "is empty")],
)
def test_a_password_file_that_cannot_serve_is_one_sentence(tmp_path, content, fragment):
    path = tmp_path / "password"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SettingsError, match=fragment):
        read_password(str(path))


def test_shuffled_cluster_parameters_hold_every_node_in_varying_orders():
    settings = ConnectionSettings.from_urls(["amqp://n1,amqp://n2,amqp://n3"])
    orders = {tuple(p.host for p in settings.pika_parameters(shuffle=True)) for _ in range(60)}
    assert all(sorted(order) == ["n1", "n2", "n3"] for order in orders)
    assert len({order[0] for order in orders}) == 3  # each node comes first for some client
