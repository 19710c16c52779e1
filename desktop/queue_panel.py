"""The queue panel: ready, unacked and consumers, each with its source, and the live chart."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from core.monitor import QueueStats, Source
from desktop.chart import ThroughputChart
from desktop.controller import QueueSample
from desktop.hints import explain, hint_color


class QueuePanel(QWidget):
    """Shows the queue's figures once a second and where each one came from.

    Ready and consumer counts come from a passive declare (every consumer
    counts, a tutorial ``worker.py`` in a terminal too). Unacked counts exist
    only in the management API; without it the panel shows what Kanin's own
    workers hold and says so.

    Args:
        parent: the parent widget.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Queue")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.ready_value = _value_label()
        self.unacked_value = _value_label()
        self.consumers_value = _value_label()
        self.rate_value = _value_label()
        self.ready_source = _source_label()
        self.unacked_source = _source_label()
        self.consumers_source = _source_label()
        self.rate_source = _source_label()
        self.dead_name = QLabel("Dead-lettered")
        self.dead_value = _value_label()
        self.dead_source = _source_label()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.hide()

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        rows = [
            ("Ready", self.ready_value, self.ready_source),
            ("Unacked", self.unacked_value, self.unacked_source),
            ("Consumers", self.consumers_value, self.consumers_source),
            ("Done/s", self.rate_value, self.rate_source),
        ]
        for row, (name, value, source) in enumerate(rows):
            grid.addWidget(QLabel(name), row, 0)
            grid.addWidget(value, row, 1)
            grid.addWidget(source, row, 2)
        grid.addWidget(self.dead_name, len(rows), 0)
        grid.addWidget(self.dead_value, len(rows), 1)
        grid.addWidget(self.dead_source, len(rows), 2)
        grid.setColumnStretch(2, 1)
        self._show_dead(False)

        self.chart = ThroughputChart()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(grid)
        layout.addWidget(self.error_label)
        layout.addWidget(self.chart, 1)
        for label in (self.ready_value, self.unacked_value, self.consumers_value, self.rate_value):
            label.setText("–")
        self.ready_source.setText("waiting for the first reading")

    def set_queue(self, name: str, description: str = "") -> None:
        """Show the queue's name and what the declare found."""
        text = f"<b>{name}</b>"
        if description:
            text += f"  <span style='color:{hint_color().name()}'>({description})</span>"
        self.title.setText(text)

    @property
    def dead_letter_shown(self) -> bool:
        """True while the dead-letter queue's row is shown."""
        return not self.dead_value.isHidden()

    def _show_dead(self, shown: bool) -> None:
        for label in (self.dead_name, self.dead_value, self.dead_source):
            label.setVisible(shown)

    @Slot(object)
    def _on_dead_letter_sampled(self, stats: QueueStats) -> None:
        if stats.ready is None:  # no dead-letter queue (no policy set up by Kanin)
            self._show_dead(False)
            return
        self.dead_value.setText(str(stats.ready))
        self.dead_source.setText(
            f"in '{stats.queue}', the dead-letter queue of poison tasks "
            f"({_source_text(stats.source_of('ready'))})"
        )
        self._show_dead(True)

    @Slot(object)
    def _on_sample_taken(self, sample: QueueSample) -> None:
        stats = sample.stats
        self.ready_value.setText(_number(stats.ready))
        self.ready_source.setText(_source_text(stats.source_of("ready")))
        if stats.unacked is not None:
            self.unacked_value.setText(str(stats.unacked))
            self.unacked_source.setText(_source_text(stats.source_of("unacked")))
        else:
            self.unacked_value.setText(f"≥ {sample.kanin_unacked}")
            self.unacked_source.setText(
                "held by Kanin's workers (other consumers' unacked need the management API)"
            )
        if stats.consumers is not None:
            others = max(0, stats.consumers - sample.kanin_consumers)
            self.consumers_value.setText(str(stats.consumers))
            self.consumers_source.setText(
                f"{_source_text(stats.source_of('consumers'))}: "
                f"{sample.kanin_consumers} Kanin, {others} other"
            )
        else:
            self.consumers_value.setText("–")
            self.consumers_source.setText(_source_text(Source.NONE))
        self.rate_value.setText(f"{sample.done_rate:.1f}")
        self.rate_source.setText("acks by Kanin's workers, last 5 seconds")
        self.error_label.setText(stats.error)
        self.error_label.setVisible(bool(stats.error))
        self.chart.add_point(stats.ready, sample.done_rate)


def _value_label() -> QLabel:
    label = QLabel()
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    # Room for a count of seven digits: a growing queue never moves the sources beside it.
    label.setMinimumWidth(label.fontMetrics().horizontalAdvance("≥ 0000000"))
    return label


def _source_label() -> QLabel:
    label = QLabel()
    explain(label)
    label.setWordWrap(True)
    return label


def _source_text(source: Source) -> str:
    return {
        Source.AMQP: "from a passive queue.declare",
        Source.MANAGEMENT: "from the management API",
        Source.NONE: "unavailable",
    }[source]


def _number(value: int | None) -> str:
    return "–" if value is None else str(value)
