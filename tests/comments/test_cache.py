"""The per-process caches of the thread read."""

from __future__ import annotations

from service.comments.cache import PageCache, RecentHeads


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_recent_heads_are_trusted_until_the_ttl_passes() -> None:
    clock = Clock()
    heads: RecentHeads[str] = RecentHeads(ttl=1.0, clock=clock)
    heads.put("story", "version 3")
    clock.now += 0.9
    assert heads.get("story") == "version 3"
    clock.now += 0.2
    assert heads.get("story") is None


def test_recent_heads_forget_the_oldest_beyond_their_size() -> None:
    heads: RecentHeads[int] = RecentHeads(ttl=60, max_entries=2)
    for number in range(3):
        heads.put(f"thread-{number}", number)
    assert heads.get("thread-0") is None
    assert [heads.get("thread-1"), heads.get("thread-2")] == [1, 2]


def test_a_ttl_of_zero_keeps_nothing() -> None:
    heads: RecentHeads[str] = RecentHeads(ttl=0)
    heads.put("story", "version 1")
    assert heads.get("story") is None


def test_page_cache_drops_least_recently_used_pages_beyond_its_bytes() -> None:
    cache = PageCache(max_bytes=40)
    cache.put("a", b"x" * 10)
    cache.put("b", b"y" * 10)
    assert cache.get("a") == b"x" * 10  # now "b" is the least recently used
    cache.put("c", b"z" * 10)
    cache.put("d", b"w" * 10)
    cache.put("e", b"v" * 10)
    assert cache.get("b") is None
    assert cache.get("a") == b"x" * 10
