"""Messages over one stream socket: a 4-byte length, then that many bytes of JSON."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from typing import Any

MAX_FRAME = 16 * 1024 * 1024
_LENGTH = struct.Struct("!I")
READ_AHEAD = 64 * 1024
# Made once: json.dumps and json.loads would make an encoder per message and guess its encoding.
_ENCODE = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
_DECODE = json.JSONDecoder().decode


class ChannelClosed(Exception):
    """The other side is gone, or sent something that is not a message."""


class ChannelBroken(ChannelClosed):
    """Something that is not a message arrived: the other side wrote on the link itself."""


class Channel:
    """Messages both ways. What one step of an event loop sends with `send(..., step_of=loop)`
    goes in one write, at the start of the loop's next step (before anything sent later), and
    the reader takes what one write brought as one batch (`receive_batch`): calls that ended in
    the same step on one side (calls that fail at the same moment) end in the same step on the
    other, as they would in one process, not one message apart."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._send_lock = threading.Lock()
        # Read ahead: one read from the socket usually brings a whole message, length and all.
        self._incoming = bytearray()
        self._outbox = bytearray()  # loop steps' messages, not written yet
        # The loops with a flush to come (one that closes before it leaves its messages to the next write).
        self._flushing: set[Any] = set()

    def send(self, message: dict[str, Any], step_of: Any = None) -> None:
        """Send `message`; with `step_of` (the running loop, in its own thread), together with
        the rest of this loop step's messages. Anything sent before goes first."""
        data = _ENCODE(message).encode()
        if len(data) > MAX_FRAME:
            raise ValueError(f"a message of {len(data)} bytes is over the {MAX_FRAME}-byte limit")
        frame = _LENGTH.pack(len(data)) + data
        with self._send_lock:
            if step_of is not None:
                self._outbox += frame
                if step_of not in self._flushing:
                    step_of.call_soon(self._flush, step_of)
                    self._flushing.add(step_of)
                return
            if self._outbox:
                frame = bytes(self._outbox) + frame
                self._outbox.clear()
            self._write(frame)

    def _flush(self, loop: Any = None) -> None:
        with self._send_lock:
            self._flushing.discard(loop)
            if self._outbox:
                frame = bytes(self._outbox)
                self._outbox.clear()
                with contextlib.suppress(ChannelClosed):  # the reader finds the channel gone
                    self._write(frame)

    def _write(self, frame: bytes) -> None:
        try:
            self.sock.sendall(frame)
        except OSError as error:
            raise ChannelClosed(f"the other process is gone ({error})") from None

    def receive_batch(self) -> list[dict[str, Any]]:
        """The next message, and every whole message that arrived with it."""
        batch = [self.receive()]
        while self._whole_message_read():
            batch.append(self.receive())
        return batch

    def _whole_message_read(self) -> bool:
        if len(self._incoming) < _LENGTH.size:
            return False
        (length,) = _LENGTH.unpack_from(self._incoming)
        return len(self._incoming) >= _LENGTH.size + length

    def receive(self) -> dict[str, Any]:
        (length,) = _LENGTH.unpack(self._exactly(_LENGTH.size))
        if length > MAX_FRAME:
            raise ChannelBroken(f"a message of {length} bytes was announced (the limit is {MAX_FRAME})")
        try:
            message = _DECODE(self._exactly(length).decode())
        except (ValueError, RecursionError) as error:
            raise ChannelBroken(f"something that is not a message arrived ({type(error).__name__})") from None
        if type(message) is not dict:
            raise ChannelBroken("something that is not a message arrived")
        return message

    def _exactly(self, size: int) -> bytes:
        while len(self._incoming) < size:
            try:
                chunk = self.sock.recv(max(READ_AHEAD, size - len(self._incoming)))
            except OSError as error:
                raise ChannelClosed(f"the other process is gone ({error})") from None
            if not chunk:
                raise ChannelClosed("the other process is gone")
            self._incoming += chunk
        data = bytes(self._incoming[:size])
        del self._incoming[:size]
        return data

    def close(self) -> None:
        self._flush()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
