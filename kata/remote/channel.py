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
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._send_lock = threading.Lock()
        # Read ahead: one read from the socket usually brings a whole message, length and all.
        self._incoming = bytearray()

    def send(self, message: dict[str, Any]) -> None:
        data = _ENCODE(message).encode()
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
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
