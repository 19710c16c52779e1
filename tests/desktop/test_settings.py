"""Settings: validation in the dialog, a refused login, and what survives reopening the window."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from core.topology import QueueType
from core.worker import AckMode
from desktop.controller import ConnectionState
from desktop.preferences import MemorySecrets
from tests.desktop.conftest import WindowFactory


class Ticker(QObject):
    """Counts the ticks of a GUI timer: proof that the event loop keeps running."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0
        self.timer = QTimer(self)
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._on_timeout)

    @Slot()
    def _on_timeout(self) -> None:
        self.ticks += 1


def click_ok(dialog: object) -> None:
    buttons = dialog.buttons  # type: ignore[attr-defined]
    buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def test_invalid_url_is_refused_with_a_message(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    dialog = window.open_settings()
    qtbot.waitUntil(dialog.isVisible)
    dialog.urls_edit.setText("http://localhost:5672")
    click_ok(dialog)
    assert dialog.isVisible()
    assert "amqp://" in dialog.error_label.text()
    assert "not supported" in dialog.error_label.text()
    dialog.urls_edit.setText("amqp://localhost:99999/%2F")
    click_ok(dialog)
    assert "not a number from 1 to 65535" in dialog.error_label.text()
    dialog.urls_edit.setText("amqp://localhost/%2F")
    dialog.queue_edit.setText("amq.reserved")
    click_ok(dialog)
    assert "reserved" in dialog.error_label.text()
    assert dialog.isVisible()
    dialog.reject()


def test_wrong_password_shows_an_error_and_the_window_stays_responsive(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    ticker = Ticker()
    ticker.timer.start()
    window = make_window(url="amqp://guest:wrong-password@127.0.0.1:5672/%2F")
    controller = window.controller
    with qtbot.waitSignal(controller.connection_failed, timeout=15_000) as failed:
        controller.add_workers(1)
    message = failed.args[0]
    assert "refused the login for user 'guest'" in message
    assert "wrong-password" not in message
    qtbot.waitUntil(window.banner.isVisible, timeout=5_000)
    assert "refused the login" in window.banner.label.text()
    assert controller.connection_state == ConnectionState.FAILED
    assert "wrong-password" not in window.url_label.text()
    assert "***" in window.url_label.text()
    ticks = ticker.ticks
    qtbot.waitUntil(lambda: ticker.ticks >= ticks + 5, timeout=2_000)  # never frozen
    # The worker card says so too, and enqueued tasks fail with the reason.
    [name] = controller.worker_names()
    qtbot.waitUntil(lambda: "failed" in window.workers_panel.card(name).state_text, timeout=10_000)
    [task_id] = controller.enqueue(["never sent."])
    row = controller.model.get(task_id)
    assert row is not None
    assert "refused the login" in row.note
    ticker.timer.stop()


def test_settings_survive_reopening_the_window(
    qtbot: QtBot,
    make_window: WindowFactory,
    settings_file: Path,
    secrets: MemorySecrets,
    queue_name: str,
) -> None:
    window = make_window()
    dialog = window.open_settings()
    qtbot.waitUntil(dialog.isVisible)
    dialog.urls_edit.setText("amqp://127.0.0.1:5672/%2F")
    dialog.user_edit.setText("guest")
    dialog.password_edit.setText("guest")
    dialog.remember_box.setChecked(True)
    dialog.queue_edit.setText(queue_name)
    dialog.type_box.setCurrentIndex(dialog.type_box.findData(QueueType.CLASSIC))
    dialog.prefetch_box.setValue(3)
    dialog.ack_box.setCurrentIndex(dialog.ack_box.findData(AckMode.AUTO))
    dialog.persistent_box.setChecked(False)
    with qtbot.waitSignal(window.controller.settings_applied):
        click_ok(dialog)
    assert not dialog.isVisible()
    applied = window.controller.settings
    assert applied.prefetch == 3
    qtbot.waitUntil(
        lambda: window.controller.connection_state == ConnectionState.CONNECTED, timeout=15_000
    )
    # Wider than the offscreen screen's 800 pixels would be squeezed back to the window's
    # minimum width on restoring; a height that fits comes back as it was.
    window.resize(window.minimumSizeHint().width(), 661)
    height = window.height()
    window.close()

    text = settings_file.read_text()
    assert "\npassword=" not in text.lower()  # the password is only in the keyring
    assert "guest@" not in text
    assert secrets.passwords == {"guest@127.0.0.1:5672": "guest"}

    again = make_window(url=None, queue=None)
    settings = again.controller.settings
    assert settings.urls == ("amqp://127.0.0.1:5672/%2F",)
    assert settings.queue == queue_name
    assert settings.queue_type is QueueType.CLASSIC
    assert settings.prefetch == 3
    assert settings.ack_mode is AckMode.AUTO
    assert settings.persistent is False
    assert settings.remember_password is True
    assert settings.password == "guest"
    assert (height, again.height()) == (661, 661)  # not the default 800
    # Given no URL, the second window reaches the broker with what it remembered: the address
    # from the settings file and the password from the keyring.
    qtbot.waitUntil(
        lambda: again.controller.connection_state == ConnectionState.CONNECTED, timeout=15_000
    )
    assert "127.0.0.1:5672" in again.url_label.text()


def test_password_is_forgotten_unless_remember_is_ticked(
    qtbot: QtBot, make_window: WindowFactory, settings_file: Path, secrets: MemorySecrets
) -> None:
    window = make_window()
    dialog = window.open_settings()
    qtbot.waitUntil(dialog.isVisible)
    dialog.password_edit.setText("s3cret-not-kept")
    dialog.remember_box.setChecked(False)
    with qtbot.waitSignal(window.controller.connection_failed, timeout=15_000):
        click_ok(dialog)
    window.close()
    assert "s3cret-not-kept" not in settings_file.read_text()
    assert secrets.passwords == {}
    again = make_window(url=None)
    assert again.controller.settings.password != "s3cret-not-kept"


def test_remember_is_disabled_without_a_keyring(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    window.store.secrets = MemorySecrets(available=False)
    dialog = window.open_settings()
    qtbot.waitUntil(dialog.isVisible)
    assert not dialog.remember_box.isEnabled()
    assert "keyring" in dialog.remember_box.toolTip()
    dialog.reject()


def test_a_prefetch_of_0_reads_unlimited_in_the_dialog_the_status_bar_and_the_cards(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    """Issue 15: 0 is "unlimited" in words, and the prefetch in force shows in the window."""
    window = make_window()
    controller = window.controller
    qtbot.waitUntil(lambda: controller.connection_state == "connected", timeout=15_000)
    assert "(prefetch 1)" in window.workers_panel.empty_label.text()
    controller.apply_settings(replace(controller.settings, prefetch=0))
    assert window.status_line.mode_label.text() == "prefetch: unlimited"
    assert "prefetch: unlimited" in window.workers_panel.empty_label.text()
    [name] = controller.add_workers(1)
    qtbot.waitUntil(lambda: name in window.workers_panel.names(), timeout=5_000)
    assert window.workers_panel.card(name).mode_text == "prefetch: unlimited"
    dialog = window.open_settings()
    assert dialog.prefetch_box.text() == "unlimited"
    dialog.reject()


LOCAL = "amqp://guest:guest@127.0.0.1:59998/%2F"


def test_a_local_broker_session_is_remembered_as_that_choice_not_its_port(
    qtbot: QtBot, make_window: WindowFactory, qsettings, secrets, monkeypatch
) -> None:
    from desktop.main_window import MainWindow
    from desktop.preferences import SettingsStore

    window = make_window(url=None)
    window.broker_flow.node.serves = lambda url: ":59998/" in url  # type: ignore[method-assign]
    dialog = window.open_settings()
    qtbot.waitUntil(dialog.isVisible)
    dialog.urls_edit.setText(LOCAL)
    with qtbot.wait_signal(window.controller.settings_applied, timeout=10_000):
        click_ok(dialog)
    store = SettingsStore(qsettings, secrets)
    assert store.local_broker_chosen()
    assert not any("59998" in url for url in store.saved_urls())
    assert window.controller.settings.urls == ("amqp://127.0.0.1:59998/%2F",)  # in use now

    asked: list[MainWindow] = []

    def start_local_broker(self: MainWindow) -> bool:
        asked.append(self)
        return False  # as if RabbitMQ were not installed: the window connects as usual

    monkeypatch.setattr(MainWindow, "start_local_broker", start_local_broker)
    again = make_window(url=None)
    assert asked == [again]  # a plain start goes back to the local broker
    make_window()  # a URL on the command line wins over the remembered choice
    assert asked == [again]
