"""Reads the AMQP 0-9-1 method frames out of raw bytes a client sent (see ``TcpProxy``)."""

from __future__ import annotations

import struct

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
METHOD_FRAME = 1
FRAME_END = 0xCE

CONNECTION_START_OK = (10, 11)
CONNECTION_CLOSE = (10, 50)
BASIC_CONSUME = (60, 20)
BASIC_ACK = (60, 80)


def method_frames(stream: bytes) -> list[tuple[int, int]]:
    """The ``(class_id, method_id)`` of every complete method frame in a client's stream.

    Args:
        stream: the bytes the client sent, from its protocol header on.

    Returns:
        The methods in order; a frame cut off at the end is left out.

    Raises:
        ValueError: the bytes are not an AMQP 0-9-1 client stream.
    """
    if not stream.startswith(PROTOCOL_HEADER):
        raise ValueError("not an AMQP 0-9-1 stream")
    methods: list[tuple[int, int]] = []
    offset = len(PROTOCOL_HEADER)
    while offset + 7 <= len(stream):
        kind, _channel, size = struct.unpack_from(">BHI", stream, offset)
        end = offset + 7 + size
        if end >= len(stream):
            break  # the frame (or its end octet) did not arrive
        if stream[end] != FRAME_END:
            raise ValueError(f"frame at byte {offset} does not end with 0xCE")
        if kind == METHOD_FRAME:
            class_id, method_id = struct.unpack_from(">HH", stream, offset + 7)
            methods.append((class_id, method_id))
        offset = end + 1
    return methods
