"""Every lesson, in teaching order, by name."""

from __future__ import annotations

from core.lessons.acks import MessageAcknowledgment
from core.lessons.base import Lesson
from core.lessons.confirms import PublisherConfirms
from core.lessons.durability import MessageDurability
from core.lessons.fair import FairDispatch
from core.lessons.forgotten import ForgottenAcknowledgment
from core.lessons.poison import PoisonTask
from core.lessons.roundrobin import RoundRobin

LESSONS: dict[str, type[Lesson]] = {
    lesson.name: lesson
    for lesson in (
        RoundRobin,
        FairDispatch,
        MessageAcknowledgment,
        ForgottenAcknowledgment,
        MessageDurability,
        PoisonTask,
        PublisherConfirms,
    )
}


def find(name: str) -> type[Lesson]:
    """The lesson called ``name``.

    Raises:
        KeyError: no such lesson (the message lists the names).
    """
    try:
        return LESSONS[name]
    except KeyError:
        raise KeyError(
            f"No lesson named '{name}'; the lessons are: {', '.join(LESSONS)}."
        ) from None
