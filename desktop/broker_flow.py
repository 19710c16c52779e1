"""The window's local broker: offer and start Kanin's node, restart it with a record, dead-letter.

``BrokerFlow`` owns the managed node (``desktop.local_node.LocalNode``) and
the two notices about it: the offer (or the install hint) when no broker
answers, and the restart report with the queue's counts before and after.
On the managed node it sets the work queue's dead-letter policy once per
queue. It reads the controller's public API and writes to it only to switch
to the node (``use_local_broker``), to fall back (``start``) and to raise
the workers' attempt limit (``set_max_attempts``).
"""

from __future__ import annotations

import html
import logging
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from core.local_broker import install_hint
from core.local_flow import DEAD_LETTER_ATTEMPTS
from core.monitor import QueueStats
from core.policies import DeadLetterSetup
from core.queue_count import QueueCount, restart_summary
from core.settings import SettingsError
from desktop.banners import NoticeBanner
from desktop.controller import ConnectionState, Controller, QueueSample
from desktop.local_node import LocalNode, NodePhase

log = logging.getLogger(__name__)

_SOURCE_NAMES = {
    "AMQP passive declare": "the broker's count, from a passive queue.declare",
    "management API": "the broker's count, from the management API",
}


def source_name(stats: QueueStats) -> str:
    """Where the reading's ready count came from, in words."""
    source = stats.source_of("ready").value
    return _SOURCE_NAMES.get(source, source)


@dataclass
class RestartRecord:
    """A broker restart asked for in the window, with the queue's counts around it.

    Attributes:
        node: the node's name.
        ready_before: ready count from the watcher's last reading (``None``: no reading).
        source_before: where that count came from.
        kanin_before: Kanin's own count of its tasks in the queue.
        began: ``time.monotonic()`` when the restart was asked for.
        before: ready + unacked before the restart, with their sources.
        done_before: tasks Kanin's workers had acknowledged when it was asked for.
        back_at: ``time.time()`` when the node accepted connections again (0: not yet).
        away: seconds from asking to the node accepting connections again.
    """

    node: str
    ready_before: int | None
    source_before: str
    kanin_before: int
    began: float
    before: QueueCount | None = None
    done_before: int = 0
    back_at: float = 0.0
    away: float = 0.0

    def before_text(self) -> str:
        """The counts before the restart, as the banner says them."""
        if self.before is not None:
            return f"{self.before.text()}; {self.before.sources()}."
        if self.ready_before is None:
            broker = "no reading from the broker yet"
        else:
            broker = f"{self.ready_before} ready ({self.source_before})"
        return f"{broker}; {self.kanin_before} of Kanin's tasks queued (Kanin's own bookkeeping)."


@dataclass(frozen=True)
class RestartReport:
    """A finished restart: the record and the first reading of the queue after it.

    Attributes:
        record: the restart as asked for, with the counts before.
        ready_after: the broker's ready count in the first reading after the node came back.
        source_after: where that count came from.
        kanin_after: Kanin's own count of its tasks in the queue then.
        after: ready + unacked after, with their sources.
        done_during: tasks Kanin's workers acknowledged from asking to that reading.
    """

    record: RestartRecord
    ready_after: int
    source_after: str
    kanin_after: int
    after: QueueCount | None = None
    done_during: int = 0

    def summary(self) -> str:
        """``before: ... · done during the restart: N · after: ...`` (ready + unacked)."""
        before = self.record.before or QueueCount(None, 0, "", "")
        after = self.after or QueueCount(self.ready_after, 0, self.source_after, "")
        return restart_summary(before, after, self.done_during)


class BrokerFlow(QObject):
    """Kanin's own node in the window: the offer, the start, the restart record, dead-lettering.

    Args:
        controller: the window's controller (its public API only).
        node: the managed node; this object becomes its parent.
        offer: the notice that offers the node and says how it started (the window
            connects its button to ``start_node``, through its own start request).
        report: the notice that follows a restart.
        parent: the owning QObject.

    Signals:
        changed(): what the node can do changed (``can_start``, ``can_restart``, ``managed``).
        restart_reported(object): a restart is over and the queue was read again
            (a ``RestartReport``).
    """

    changed = Signal()
    restart_reported = Signal(object)

    def __init__(
        self,
        controller: Controller,
        node: LocalNode,
        offer: NoticeBanner,
        report: NoticeBanner,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.node = node
        node.setParent(self)
        self.offer = offer
        self.report = report
        self.restart: RestartRecord | None = None
        self._ever_connected = False
        self._dead_lettering_for = ""  # the queue whose dead-letter policy was asked for
        self._kanin_unacked = 0  # tasks Kanin's workers held at the last queue sample
        controller.connection_changed.connect(self._on_connection_changed)
        controller.sample_taken.connect(self._on_sample_taken)
        controller.settings_applied.connect(self.changed)
        node.started.connect(self._on_local_started)
        node.restarted.connect(self._on_local_restarted)
        node.failed.connect(self._on_local_failed)
        node.phase_changed.connect(self._on_local_phase_changed)
        node.dead_lettering_ready.connect(self._on_dead_lettering_ready)
        node.dead_lettering_failed.connect(self._on_dead_lettering_failed)

    # ----------------------------------------------------------------- facts

    @property
    def managed(self) -> bool:
        """True when Kanin manages a node (started or adopted)."""
        return self.node.managed

    @property
    def can_start(self) -> bool:
        """True when "Start local broker" can do something now."""
        return not self.node.managed and not self.node.busy

    @property
    def can_restart(self) -> bool:
        """True when "Restart broker" can do something now: on the managed node, in use."""
        return self.node.managed and not self.node.busy and self.uses_managed_node()

    @property
    def restart_tip(self) -> str:
        """The Restart broker button's tooltip: what it does, or why it cannot now."""
        if not self.node.managed:
            return "Only for Kanin's own local node: start it from the Broker menu first"
        if not self.uses_managed_node():
            return (
                "Disabled: the window uses another broker "
                f"({self.controller.settings.redacted}); Restart broker acts only on "
                "Kanin's own node, and only while the window uses it"
            )
        if self.node.busy:
            return "Disabled while the local node is starting, stopping or restarting"
        return "Stop and start Kanin's local RabbitMQ node while the workers run"

    def uses_managed_node(self) -> bool:
        """True when the window's connection is on the managed node (parsed addresses).

        While connected, the node in use (``controller.node``) decides; while not
        (e.g. during a restart), the configured URLs do.
        """
        controller = self.controller
        in_use = [controller.node] if controller.node else list(controller.settings.urls)
        return any(self.node.serves(url) for url in in_use)

    @property
    def restarting(self) -> bool:
        """True from asking for a restart until the node accepts connections again."""
        return self.restart is not None and not self.restart.back_at

    def wants_dead_lettering(self) -> bool:
        """True when the window's connection is on the managed node and its queue has no policy yet.

        The connection in use (``controller.node``) and the node's own URL are
        compared as parsed addresses: host, port and vhost.
        """
        controller = self.controller
        return (
            not self.node.busy
            and controller.queue_type is not None
            and self._dead_lettering_for != controller.settings.queue
            and self.node.serves(controller.node)
        )

    # ----------------------------------------------------------------- requests

    def offer_node(self) -> None:
        """No broker answered at start: offer Kanin's own node (or say how to get one)."""
        node = self.node
        if node.busy or node.managed or self.offer.isVisible():
            return
        where = html.escape(self.controller.settings.redacted)
        if node.installed:
            self.offer.show_message(
                f"<b>No broker answers at {where}.</b> Kanin can start its own RabbitMQ "
                "node on this computer (127.0.0.1 only). It is stopped when you quit; "
                "its queued tasks stay for next time.",
                action=True,
            )
        else:
            self.offer.show_message(
                f"<b>No broker answers at {where}, and RabbitMQ is not installed "
                "here.</b><br>" + _html_lines(install_hint()),
                kind="warn",
            )
        self.changed.emit()

    def start_node(self) -> bool:
        """Start Kanin's local node in the background, then use it.

        Returns:
            False when RabbitMQ is not installed (the offer says how to get it)
            or an operation on the node is already running.
        """
        node = self.node
        if not node.installed:
            self.offer.show_message(
                "<b>Kanin cannot start a local broker.</b><br>" + _html_lines(install_hint()),
                kind="warn",
            )
            return False
        if not node.start():
            return False
        self.offer.show_message(
            "<b>Starting Kanin's local RabbitMQ node…</b> This takes about 6 seconds; "
            "the window keeps working meanwhile.",
            busy=True,
        )
        self.changed.emit()
        return True

    @Slot()
    def restart_node(self) -> bool:
        """Stop and start the managed node in the background while the workers run.

        Returns:
            False when Kanin manages no node, the window uses another broker, or an
            operation on the node is running.
        """
        node = self.node
        broker = node.broker
        if broker is None or not self.can_restart:
            return False
        stats = self.controller.last_stats
        record = RestartRecord(
            node=broker.node_name,
            ready_before=stats.ready if stats is not None else None,
            source_before=source_name(stats) if stats is not None else "",
            kanin_before=self.controller.queued_by_bookkeeping(),
            began=time.monotonic(),
            before=QueueCount.of(stats, self._kanin_unacked),
            done_before=self.controller.finished_total,
        )
        if not node.restart():
            return False
        self.restart = record
        log.info("Restarting the local broker %s while the workers run.", record.node)
        self._show_restart("stopping it")
        self.changed.emit()
        return True

    def _show_restart(self, doing: str) -> None:
        record = self.restart
        if record is None:
            return
        self.report.show_message(
            f"<b>Restarting the broker {html.escape(record.node)}: {doing}…</b> "
            "Workers and the producer reconnect on their own.<br>"
            f"Before: {record.before_text()}",
            kind="warn",
            busy=True,
        )

    def _set_up_dead_lettering(self) -> None:
        """On Kanin's own node, set the queue's dead-letter policy once (in the background)."""
        controller = self.controller
        queue_type = controller.queue_type
        if queue_type is None or not self.wants_dead_lettering():
            return
        try:
            connection = controller.settings.connection()
        except SettingsError:
            return
        queue = controller.settings.queue
        if self.node.setup_dead_lettering(connection, queue, DEAD_LETTER_ATTEMPTS, queue_type):
            self._dead_lettering_for = queue
            self.changed.emit()

    # ----------------------------------------------------------------- events

    @Slot(str, str)
    def _on_connection_changed(self, state: str, message: str) -> None:
        if state == ConnectionState.CONNECTED:
            self._ever_connected = True
            node = self.node
            if not node.busy and self.offer.isVisible() and not node.managed:
                self.offer.dismiss()
            self._set_up_dead_lettering()
        elif (
            state == ConnectionState.RECONNECTING
            and not self.restarting
            and not self._ever_connected
        ):
            self.offer_node()
        self.changed.emit()  # the node in use may have changed: Restart broker follows it

    @Slot(object)
    def _on_local_phase_changed(self, phase: NodePhase) -> None:
        if self.restarting:
            if phase is NodePhase.STOPPING:
                self._show_restart("stopping it")
            elif phase is NodePhase.STARTING:
                self._show_restart("it is down, starting it again")
        self.changed.emit()

    @Slot(str)
    def _on_local_started(self, url: str) -> None:
        broker = self.node.broker
        name = broker.node_name if broker is not None else "local node"
        where = url.split("@")[-1].split("/")[0]
        self.offer.show_message(
            f"<b>Kanin's local broker {html.escape(name)} runs at {html.escape(where)}.</b> "
            + (
                "Kanin started it and stops it when you quit; its queued tasks stay."
                if self.node.owned
                else "It was already running; Kanin leaves it running when you quit."
            ),
            kind="ok",
        )
        log.info("Using the local broker %s at %s.", name, where)
        self.controller.use_local_broker(url)
        self.changed.emit()

    @Slot(float)
    def _on_local_restarted(self, away: float) -> None:
        record = self.restart
        if record is None:
            return
        record.back_at = time.time()
        record.away = away
        self.report.show_message(
            f"<b>The broker {html.escape(record.node)} is back after {away:.1f} s</b>; "
            "Kanin reconnects and reads the queue again…<br>"
            f"Before: {record.before_text()}",
            kind="info",
            busy=True,
        )
        self.changed.emit()

    @Slot(str)
    def _on_local_failed(self, message: str) -> None:
        text = _html_lines(message)
        if self.restarting:
            self.restart = None
            self.report.show_message(f"<b>The broker restart failed.</b><br>{text}", kind="error")
        else:
            self.offer.show_message(
                f"<b>The local broker could not be started.</b><br>{text}", kind="error"
            )
            if not self.controller.started:
                self.controller.start()  # fall back to the configured broker
        self.changed.emit()

    @Slot(object)
    def _on_sample_taken(self, sample: QueueSample) -> None:
        record = self.restart
        stats = sample.stats
        self._kanin_unacked = sample.kanin_unacked
        if (
            record is None
            or not record.back_at
            or stats.at < record.back_at
            or stats.ready is None
            or self.controller.connection_state != ConnectionState.CONNECTED
        ):
            return
        self.restart = None
        after = QueueCount.of(stats, sample.kanin_unacked)
        report = RestartReport(
            record,
            stats.ready,
            source_name(stats),
            self.controller.queued_by_bookkeeping(),
            after,
            max(0, self.controller.finished_total - record.done_before),
        )
        self.report.show_message(
            f"<b>The broker {html.escape(record.node)} restarted and came back</b> "
            f"(away {record.away:.1f} s); Kanin reconnected.<br>"
            f"{html.escape(report.summary(), quote=False)}<br>"
            f"<small>{html.escape(after.sources(), quote=False)}.</small>",
            kind="ok",
        )
        log.info("Broker restarted in %.1f s: %s.", record.away, report.summary())
        self.restart_reported.emit(report)

    @Slot(object)
    def _on_dead_lettering_ready(self, setup: DeadLetterSetup) -> None:
        # core.policies logs what was set; a status-bar message would hide the connection state.
        if setup.queue == self.controller.settings.queue:
            self.controller.set_max_attempts(setup.max_attempts)
        self.changed.emit()

    @Slot(str)
    def _on_dead_lettering_failed(self, message: str) -> None:
        log.warning("No dead-letter policy: failing tasks are given back forever. %s", message)
        self.changed.emit()


def _html_lines(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.splitlines())
