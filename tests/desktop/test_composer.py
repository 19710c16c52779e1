"""The composer says where the user typed it what it will not send: an empty text, too many."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.composer import MAX_TASKS, TaskComposer


def make(qtbot: QtBot) -> TaskComposer:
    composer = TaskComposer()
    qtbot.addWidget(composer)
    composer.resize(460, composer.sizeHint().height())
    composer.show()
    qtbot.waitExposed(composer)
    return composer


def test_an_empty_task_is_refused_next_to_the_field(qtbot: QtBot) -> None:
    composer = make(qtbot)
    assert composer.enqueue_button.isEnabled()
    composer.text_edit.clear()
    assert not composer.enqueue_button.isEnabled()
    assert "empty" in composer.task_note.text()
    assert composer.task_note.isVisible()
    # Neither Return in the field nor the menu's Ctrl+Return sends it as "<empty>".
    with qtbot.assertNotEmitted(composer.enqueue_requested, wait=50):
        QTest.keyClick(composer.text_edit, Qt.Key.Key_Return)
        composer.request_enqueue()
    QTest.keyClicks(composer.text_edit, "Back..")
    assert composer.enqueue_button.isEnabled()
    assert composer.task_note.text() == "2 seconds of work per task"
    with qtbot.waitSignal(composer.enqueue_requested) as sent:
        composer.enqueue_button.click()
    assert sent.args == ["Back..", 1]


def test_a_count_above_the_limit_is_refused_not_cut(qtbot: QtBot) -> None:
    composer = make(qtbot)
    box = composer.count_box
    box.lineEdit().selectAll()
    QTest.keyClicks(box.lineEdit(), "1000000")
    assert box.value() == 1_000_000  # what the user typed, not silently 100,000
    assert not composer.enqueue_button.isEnabled()
    assert f"{MAX_TASKS:,}" in composer.task_note.text()
    assert "1,000,000" in composer.task_note.text()
    with qtbot.assertNotEmitted(composer.enqueue_requested, wait=50):
        composer.request_enqueue()
    box.setValue(MAX_TASKS)
    assert composer.enqueue_button.isEnabled()
    with qtbot.waitSignal(composer.enqueue_requested) as sent:
        composer.enqueue_button.click()
    assert sent.args == ["Hello World...", MAX_TASKS]


def test_a_mixed_batch_above_the_limit_is_refused_next_to_its_count(qtbot: QtBot) -> None:
    composer = make(qtbot)
    composer.mixed_count.setValue(2_000_000)
    assert not composer.mixed_button.isEnabled()
    assert "2,000,000" in composer.mixed_note.text()
    with qtbot.assertNotEmitted(composer.mixed_requested, wait=50):
        composer.request_mixed()
    composer.mixed_count.setValue(10)
    assert composer.mixed_button.isEnabled()
    assert composer.mixed_note.text() == "0 to 5 seconds of work each, at random"


def test_a_refusal_moves_nothing_below_it(qtbot: QtBot) -> None:
    composer = make(qtbot)
    before = composer.mixed_button.geometry()
    height = composer.sizeHint().height()
    composer.text_edit.clear()
    composer.mixed_count.setValue(2_000_000)
    assert composer.mixed_button.geometry() == before
    assert composer.sizeHint().height() == height
