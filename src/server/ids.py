"""Decision ids: UUID version 7 (RFC 9562), so ids sort by the time they were made."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid

__all__ = ("is_decision_id", "new_decision_id")

_lock = threading.Lock()
# Ids need to be unique, not secret: a generator seeded from the OS once per process (and again in a forked
# child) costs no system call per id (os.urandom per id made the event loop wait for the GIL).
_random = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(32)))
_last_ms = 0
_counter = 0


def new_decision_id() -> str:
    """A new UUIDv7: 48 bits of Unix milliseconds, a 12-bit counter within the millisecond, random rest.

    The counter keeps ids made in the same millisecond by one process in order; ids of different worker
    processes differ in their 62 random bits. This is the id's clock, not a decision's time: decisions take
    their time from the request.
    """
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:  # 4,096 ids in one millisecond: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            now_ms = _last_ms
        else:
            _last_ms = now_ms
            _counter = 0
        counter = _counter
    rand = _random.getrandbits(62)
    value = (now_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand
    h = f"{value:032x}"  # the canonical text of uuid.UUID(int=value), without building the object
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def is_decision_id(text: str) -> bool:
    """Whether ``text`` is a UUID in its canonical lower-case form."""
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False
