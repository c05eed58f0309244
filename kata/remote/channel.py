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


class ChannelClosed(Exception):
    """The other side is gone, or sent something that is not a message."""


class Channel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._send_lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
        if len(data) > MAX_FRAME:
            raise ValueError(f"a message of {len(data)} bytes is over the {MAX_FRAME}-byte limit")
        with self._send_lock:
            try:
                self.sock.sendall(_LENGTH.pack(len(data)) + data)
            except OSError as error:
                raise ChannelClosed(f"the other process is gone ({error})") from None

    def receive(self) -> dict[str, Any]:
        (length,) = _LENGTH.unpack(self._exactly(_LENGTH.size))
        if length > MAX_FRAME:
            raise ChannelClosed(f"a message of {length} bytes was announced (the limit is {MAX_FRAME})")
        try:
            message = json.loads(self._exactly(length))
        except (ValueError, RecursionError) as error:
            raise ChannelClosed(f"something that is not a message arrived ({type(error).__name__})") from None
        if type(message) is not dict:
            raise ChannelClosed("something that is not a message arrived")
        return message

    def _exactly(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            try:
                chunk = self.sock.recv(min(left, 1 << 20))
            except OSError as error:
                raise ChannelClosed(f"the other process is gone ({error})") from None
            if not chunk:
                raise ChannelClosed("the other process is gone")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
