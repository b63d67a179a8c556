"""Text keys for new rows: UUIDv7, so keys generated later sort later.

A UUIDv7 starts with the Unix time in milliseconds; the next 12 bits count keys made within one
millisecond (RFC 9562, method 3), so the keys of one process strictly increase and keyset
pagination by key lists rows in creation order. Keys from different processes created in the
same millisecond still sort uniquely, in an arbitrary but fixed order.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_COUNTER_MAX = 0xFFF
_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> str:
    """A new UUIDv7 in its canonical text form, greater than every one made before here."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms = ms
            _counter = 0
        else:
            # Same millisecond, or the wall clock stepped back: keep counting from the last key.
            _counter += 1
            if _counter > _COUNTER_MAX:
                _last_ms += 1
                _counter = 0
        ms, counter = _last_ms, _counter
    random_bits = int.from_bytes(os.urandom(8)) & 0x3FFF_FFFF_FFFF_FFFF
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | random_bits
    return str(uuid.UUID(int=value))


__all__ = ["new_id"]
