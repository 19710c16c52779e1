"""Finding RabbitMQ's server scripts on each platform (fake file trees), and the install hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.broker_install import find_server, install_hint


def install(folder: Path, suffix: str = "") -> Path:
    """Put fake ``rabbitmq-server`` and ``rabbitmqctl`` scripts in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for script in ("rabbitmq-server", "rabbitmqctl"):
        (folder / f"{script}{suffix}").write_text("#!/bin/sh\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("system", "folder"),
    [
        ("Linux", "usr/lib/rabbitmq/bin"),  # Debian, Ubuntu, Fedora packages
        ("Darwin", "opt/homebrew/opt/rabbitmq/sbin"),  # Homebrew, Apple silicon
        ("Darwin", "opt/homebrew/sbin"),
        ("Darwin", "usr/local/opt/rabbitmq/sbin"),  # Homebrew, Intel
        ("Darwin", "usr/local/sbin"),
    ],
)
def test_the_scripts_are_found_where_each_platform_puts_them(tmp_path, system, folder):
    expected = install(tmp_path / folder)
    found = find_server(system=system, environ={}, root=tmp_path)
    assert found is not None
    assert found.bin_dir == expected
    assert found.server == expected / "rabbitmq-server"
    assert found.ctl == expected / "rabbitmqctl"


def test_debian_real_scripts_come_before_the_user_switching_wrapper_on_path(tmp_path):
    real = install(tmp_path / "usr/lib/rabbitmq/bin")
    wrapper = install(tmp_path / "usr/sbin")
    found = find_server(system="Linux", environ={"PATH": str(wrapper)}, root=tmp_path)
    assert found is not None
    assert found.bin_dir == real


def test_apple_silicon_homebrew_comes_before_an_intel_leftover(tmp_path):
    install(tmp_path / "usr/local/opt/rabbitmq/sbin")
    arm = install(tmp_path / "opt/homebrew/opt/rabbitmq/sbin")
    found = find_server(system="Darwin", environ={}, root=tmp_path)
    assert found is not None
    assert found.bin_dir == arm


def test_windows_installer_folder_is_found_newest_version_first(tmp_path):
    program_files = tmp_path / "Program Files"
    server = program_files / "RabbitMQ Server"
    for version in ("3.9.29", "3.13.7", "3.10.0"):  # as strings, 3.9 would sort last
        install(server / f"rabbitmq_server-{version}" / "sbin", ".bat")
    (server / "rabbitmq_server-4.0.1" / "sbin").mkdir(parents=True)  # an uninstalled leftover
    found = find_server(system="Windows", environ={"ProgramFiles": str(program_files)})
    assert found is not None
    assert found.bin_dir == server / "rabbitmq_server-3.13.7" / "sbin"
    assert found.server.name == "rabbitmq-server.bat"
    assert found.ctl.name == "rabbitmqctl.bat"


def test_windows_looks_in_program_files_x86_too(tmp_path):
    x86 = tmp_path / "Program Files (x86)"
    expected = install(x86 / "RabbitMQ Server" / "rabbitmq_server-3.12.1" / "sbin", ".bat")
    environ = {"ProgramFiles": str(tmp_path / "Program Files"), "ProgramFiles(x86)": str(x86)}
    found = find_server(system="Windows", environ=environ)
    assert found is not None
    assert found.bin_dir == expected


def test_windows_wants_bat_scripts_and_unix_wants_plain_ones(tmp_path):
    install(tmp_path / "usr/lib/rabbitmq/bin", ".bat")
    assert find_server(system="Linux", environ={}, root=tmp_path) is None
    unix = install(tmp_path / "sbin")
    assert find_server(system="Windows", environ={"PATH": str(unix)}) is None


def test_path_is_the_last_resort_with_the_platforms_separator(tmp_path):
    elsewhere = install(tmp_path / "elsewhere/bin", ".bat")
    environ = {"PATH": f"{tmp_path / 'nothing'};{elsewhere}", "ProgramFiles": str(tmp_path)}
    found = find_server(system="Windows", environ=environ)
    assert found is not None
    assert found.bin_dir == elsewhere.resolve()


def test_kanin_rabbitmq_bin_comes_first(tmp_path):
    install(tmp_path / "usr/lib/rabbitmq/bin")
    chosen = install(tmp_path / "my/rabbitmq")
    environ = {"KANIN_RABBITMQ_BIN": str(chosen)}
    found = find_server(system="Linux", environ=environ, root=tmp_path)
    assert found is not None
    assert found.bin_dir == chosen


def test_a_folder_without_rabbitmqctl_is_no_install(tmp_path):
    folder = tmp_path / "usr/lib/rabbitmq/bin"
    folder.mkdir(parents=True)
    (folder / "rabbitmq-server").write_text("", encoding="utf-8")
    assert find_server(system="Linux", environ={}, root=tmp_path) is None


def test_find_server_returns_none_when_not_installed(tmp_path):
    assert find_server([tmp_path, tmp_path / "missing"]) is None
    for system in ("Linux", "Darwin", "Windows"):
        environ = {"PATH": str(tmp_path), "ProgramFiles": str(tmp_path)}
        assert find_server(system=system, environ=environ, root=tmp_path) is None


@pytest.mark.parametrize(
    ("system", "release", "expected"),
    [
        ("Linux", {"ID": "debian"}, ["sudo apt-get install rabbitmq-server"]),
        ("Linux", {"ID": "ubuntu", "ID_LIKE": "debian"}, ["sudo apt-get install rabbitmq-server"]),
        ("Linux", {"ID": "fedora"}, ["sudo dnf install rabbitmq-server"]),
        ("Linux", {"ID": "rocky", "ID_LIKE": "rhel centos fedora"}, ["sudo dnf install"]),
        ("Darwin", {}, ["brew install rabbitmq", "/opt/homebrew", "/usr/local"]),
        ("Windows", {}, ["Windows installer", "choco install rabbitmq", "Erlang"]),
    ],
)
def test_install_hint_names_the_platform_command_and_the_remote_way(system, release, expected):
    hint = install_hint(system, release)
    for text in expected:
        assert text in hint
    assert "--url amqp://" in hint
    assert "KANIN_URL" in hint
    assert "KANIN_RABBITMQ_BIN" in hint


def test_install_hint_gives_each_platform_only_its_own_command():
    mac, windows = install_hint("Darwin", {}), install_hint("Windows", {})
    debian = install_hint("Linux", {"ID": "debian"})
    assert "apt-get" not in mac + windows
    assert "brew" not in debian + windows
    assert "choco" not in debian + mac
