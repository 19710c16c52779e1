"""The node's folder: name and ports kept across runs, config files, environment; free ports."""

from __future__ import annotations

import socket

from core.node_folder import NodeConfig, NodeFolder, choose_config, choose_name
from core.ports import free_port, port_free, port_open


def test_name_and_ports_are_written_and_read_back(tmp_path):
    folder = NodeFolder(tmp_path / "broker")
    config = NodeConfig("kanin-abc123@localhost", free_port(), free_port(), free_port())
    folder.write(config)
    assert folder.load_config() == config
    assert folder.data_dir.is_dir()
    assert folder.log_dir.is_dir()


def test_a_missing_or_broken_state_file_is_no_config(tmp_path):
    folder = NodeFolder(tmp_path)
    assert folder.load_config() is None
    folder.state_file.write_text("{not json", encoding="utf-8")
    assert folder.load_config() is None


def test_config_files_enable_the_management_plugin_only_with_a_port(tmp_path):
    folder = NodeFolder(tmp_path)
    folder.write(NodeConfig("kanin-a@localhost", 20001, 20002, None))
    assert (tmp_path / "enabled_plugins").read_text().strip() == "[]."
    assert "management" not in (tmp_path / "rabbitmq.conf").read_text()
    folder.write(NodeConfig("kanin-a@localhost", 20001, 20002, 20003))
    assert (tmp_path / "enabled_plugins").read_text().strip() == "[rabbitmq_management]."
    conf = (tmp_path / "rabbitmq.conf").read_text().splitlines()
    assert "management.tcp.port = 20003" in conf
    assert "listeners.tcp.1 = 127.0.0.1:20001" in conf


def test_environment_points_the_scripts_at_this_folder_and_drops_inherited_rabbitmq_settings(
    tmp_path,
):
    folder = NodeFolder(tmp_path)
    config = NodeConfig("kanin-a@localhost", 20001, 20002)
    inherited = {"PATH": "/bin", "RABBITMQ_NODENAME": "rabbit@host", "ERL_FLAGS": "+S 1"}
    env = folder.environment(config, inherited)
    assert env["PATH"] == "/bin"
    assert "ERL_FLAGS" not in env
    assert env["RABBITMQ_NODENAME"] == "kanin-a@localhost"
    assert env["HOME"] == str(tmp_path)
    assert env["RABBITMQ_NODE_PORT"] == "20001"
    assert env["RABBITMQ_DIST_PORT"] == "20002"
    assert env["RABBITMQ_PID_FILE"] == str(folder.pid_file)
    assert env["RABBITMQ_CONFIG_FILE"] == str(tmp_path / "rabbitmq")  # without .conf


def test_a_name_without_host_gets_localhost_and_a_new_name_is_kanin():
    assert choose_name(None, "kanin-x") == "kanin-x@localhost"
    assert choose_name(None).startswith("kanin-")
    saved = NodeConfig("kanin-kept@localhost", 20001, 20002)
    assert choose_name(saved) == "kanin-kept@localhost"


def test_saved_free_ports_are_kept_and_a_taken_one_is_replaced():
    kept = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        saved = NodeConfig("kanin-kept@localhost", kept, busy)
        config = choose_config(saved)
        assert config.node_name == saved.node_name
        assert config.amqp_port == kept
        assert config.dist_port not in (busy, kept)
        assert port_open(busy)
        assert not port_free(busy)
        # While the saved node runs, its ports are its own: kept although taken.
        assert choose_config(saved, running=True).dist_port == busy
        # Another name is another node: the running one's ports are not its own.
        assert choose_config(saved, node_name="kanin-new", running=True).dist_port != busy


def test_management_gets_a_port_only_when_enabled():
    assert choose_config(None).management_port is None
    config = choose_config(None, management=True)
    assert config.management_port is not None
    assert len({config.amqp_port, config.dist_port, config.management_port}) == 3
