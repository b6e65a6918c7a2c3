"""A per-process cache of rendered thread pages, keyed by their ETag.

The ETag is made from the article's ``thread_version``, which every public change bumps in
the database, so a cached page is never served after it went stale: each process only saves
re-reading and re-encoding a page it has already built. Nothing here is shared state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


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
