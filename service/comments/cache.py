"""Per-process caches of the thread read: rendered pages by ETag, and threads' versions.

The ETag is made from the article's ``thread_version``, which every public change bumps in
the database, so a page cached under an ETag is never stale. Which ETag is current is read
from the database, and each process trusts what it read for THREAD_VERSION_TTL seconds
(``RecentHeads``). Nothing here is shared state: a process that restarts only reads again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class PageCache:
    """A bounded least-recently-used map from ETag to encoded page."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        """The page cached under ``etag``, if any."""
        with self._lock:
            page = self._pages.get(etag)
            if page is not None:
                self._pages.move_to_end(etag)
            return page

    def put(self, etag: str, page: bytes) -> None:
        """Caches ``page``, dropping the least recently used pages beyond the size bound."""
        if len(page) > self.max_bytes // 4:
            return  # one huge page must not flush everything else
        with self._lock:
            old = self._pages.pop(etag, None)
            self._size -= len(old) if old else 0
            self._pages[etag] = page
            self._size += len(page)
            while self._size > self.max_bytes:
                _, dropped = self._pages.popitem(last=False)
                self._size -= len(dropped)


class RecentHeads(Generic[V]):
    """What this process read lately of each thread's state, trusted for ``ttl`` seconds.

    A big story brings thousands of readers a minute to one thread; asking the database for
    its version on each read was most of what a cached read cost. Thread responses already
    tell browsers and CDNs to keep them THREAD_CACHE_MAX_AGE seconds, so trusting a version
    read a second ago changes nothing a reader could tell. ``ttl`` 0 turns this off.
    """

    def __init__(
        self, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The value stored under ``key`` less than ``ttl`` seconds ago, if any."""
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def put(self, key: Hashable, value: V) -> None:
        """Stores ``value``, forgetting the oldest entries beyond ``max_entries``."""
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (self._clock() + self.ttl, value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forgets everything: the next read of each thread asks the database."""
        with self._lock:
            self._entries.clear()
