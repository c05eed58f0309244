"""kata.remote.channel: whole messages in order, whatever way the bytes arrive; anything else is
a closed channel, never a crash or a message made up of pieces."""

from __future__ import annotations

import json
import socket
import struct
import threading

import pytest

from kata.remote.channel import MAX_FRAME, READ_AHEAD, Channel, ChannelBroken, ChannelClosed


def frame(payload: bytes) -> bytes:
    return struct.pack("!I", len(payload)) + payload


@pytest.fixture
def ends():
    raw, sock = socket.socketpair()
    channel = Channel(sock)
    yield raw, channel
    raw.close()
    channel.close()


def test_messages_arrive_whole_and_in_order_when_sent_a_byte_at_a_time(ends):
    raw, channel = ends
    data = frame(b'{"n":1}') + frame(b'{"n":2,"s":"\xc3\xa9"}')

    def trickle() -> None:
        for i in range(len(data)):
            raw.sendall(data[i : i + 1])

    sender = threading.Thread(target=trickle)
    sender.start()
    assert channel.receive() == {"n": 1}
    assert channel.receive() == {"n": 2, "s": "é"}
    sender.join()


def test_many_messages_in_one_write_come_out_one_by_one(ends):
    raw, channel = ends
    raw.sendall(b"".join(frame(json.dumps({"n": n}).encode()) for n in range(500)))
    assert [channel.receive()["n"] for _ in range(500)] == list(range(500))


def test_a_message_larger_than_one_read_arrives_whole(ends):
    raw, channel = ends
    big = {"text": "x" * (5 * READ_AHEAD + 7)}
    sender = threading.Thread(target=channel_send, args=(raw, [big, {"after": True}]))
    sender.start()
    assert channel.receive() == big
    assert channel.receive() == {"after": True}
    sender.join()


def channel_send(sock: socket.socket, messages: list[dict]) -> None:
    for message in messages:
        sock.sendall(frame(json.dumps(message).encode()))


def test_a_sent_message_is_read_back_as_sent():
    left, right = socket.socketpair()
    sender, receiver = Channel(left), Channel(right)
    try:
        message = {"op": "call", "args": [1, 2.5, None, True, "ü"], "nested": {"k": []}}
        sender.send(message)
        assert receiver.receive() == message
    finally:
        sender.close()
        receiver.close()


def test_a_frame_announced_over_the_limit_closes_the_channel(ends):
    raw, channel = ends
    raw.sendall(struct.pack("!I", MAX_FRAME + 1))
    with pytest.raises(ChannelBroken, match="announced"):  # written on the link: broken, not gone
        channel.receive()


@pytest.mark.parametrize(
    "payload",
    [b"\xff\xfe not utf-8", b"[1, 2]", b"{not json", b'"a string"'],
    ids=["bytes", "list", "broken", "str"],
)
def test_what_is_not_a_message_closes_the_channel(ends, payload):
    raw, channel = ends
    raw.sendall(frame(payload))
    with pytest.raises(ChannelBroken, match="not a message"):
        channel.receive()


def test_the_other_side_ending_midway_through_a_message_closes_the_channel(ends):
    raw, channel = ends
    raw.sendall(frame(b'{"n": 1}')[:7])
    raw.shutdown(socket.SHUT_WR)
    with pytest.raises(ChannelClosed, match="gone") as ended:
        channel.receive()
    assert not isinstance(ended.value, ChannelBroken), "gone is not broken"


def test_sending_a_message_over_the_limit_is_refused_before_anything_is_sent():
    left, right = socket.socketpair()
    sender = Channel(left)
    try:
        with pytest.raises(ValueError, match="limit"):
            sender.send({"text": "x" * MAX_FRAME})
        right.setblocking(False)
        with pytest.raises(BlockingIOError):
            right.recv(1)
    finally:
        sender.close()
        right.close()
