"""Ids, stated once: what an id is (the rule every model, repository and job checks), and how
new text ids are made.

**An id** (a key: a UUID, a DID, an external id) is 1 to 255 characters of storable text with
no whitespace anywhere (Unicode whitespace included): :func:`key_problem` (stated in
:mod:`agentsdb.rules.text`, beside the other length limits) says why a value is not one.

**New ids** are UUIDv7 (RFC 9562): the Unix time in milliseconds, then 12 bits counting the
keys made within one millisecond (method 3), so the keys of one generator strictly increase and
keyset pagination by key lists rows in creation order. Keys from different generators made in
the same millisecond still sort uniquely, in an arbitrary but fixed order. A generator is an
object (:class:`UuidV7Generator`) passed where ids are made, with the process-wide
:data:`new_id` as the default.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import TypeAlias

from agentsdb.rules.text import key_problem

#: Something that makes new ids.
IdFactory: TypeAlias = Callable[[], str]

_COUNTER_MAX = 0xFFF


# Bytes read from the OS's random source at once: one system call per 512 default ids.
_ENTROPY_CHUNK = 4096
# Generators whose unread random bytes a forked child must not reuse.
_BUFFERED: weakref.WeakSet[UuidV7Generator] = weakref.WeakSet()


class UuidV7Generator:
    """Makes UUIDv7 ids in canonical text form, each greater than the one before.

    ``clock_ns`` gives the time in nanoseconds (default :func:`time.time_ns`) and ``random_bits``
    the 62 random bits of each id (default: the OS's random source); pass both to make ids that
    repeat from run to run. Thread-safe, and a forked child never repeats its parent's bits.
    """

    def __init__(
        self,
        clock_ns: Callable[[], int] = time.time_ns,
        random_bits: Callable[[], int] | None = None,
    ) -> None:
        self._clock_ns = clock_ns
        self._random_bits = random_bits
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0
        # The OS's random bytes, read a chunk at a time: a system call per id took a third of
        # the time the id took.
        self._entropy = b""
        self._entropy_at = 0
        if random_bits is None:
            _BUFFERED.add(self)

    def _os_random_bits(self) -> int:
        """62 bits from the OS's random source, through the buffer (call it under the lock)."""
        at = self._entropy_at
        if at >= len(self._entropy):
            self._entropy = os.urandom(_ENTROPY_CHUNK)
            at = 0
        self._entropy_at = at + 8
        return int.from_bytes(self._entropy[at : at + 8])

    def _forget_entropy(self) -> None:
        self._lock = threading.Lock()
        self._entropy = b""
        self._entropy_at = 0

    def __call__(self) -> str:
        with self._lock:
            ms = self._clock_ns() // 1_000_000
            if ms > self._last_ms:
                self._last_ms = ms
                self._counter = 0
            else:
                # Same millisecond, or the clock stepped back: keep counting from the last key.
                self._counter += 1
                if self._counter > _COUNTER_MAX:
                    self._last_ms += 1
                    self._counter = 0
            ms, counter = self._last_ms, self._counter
            source = self._random_bits
            random_bits = (self._os_random_bits() if source is None else source()) & (
                0x3FFF_FFFF_FFFF_FFFF
            )
        value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | random_bits
        # The canonical text str(uuid.UUID(int=value)) gives, without building the UUID.
        digits = f"{value:032x}"
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _after_fork_in_child() -> None:
    for generator in list(_BUFFERED):
        generator._forget_entropy()


os.register_at_fork(after_in_child=_after_fork_in_child)

#: The process-wide generator: the default wherever ids are made.
new_id: IdFactory = UuidV7Generator()


__all__ = ["IdFactory", "UuidV7Generator", "key_problem", "new_id"]
