"""The real-worker fixtures of tests/e2e, for the privacy test that reads a worker's log."""

from tests.e2e.conftest import queue_name, start_worker

__all__ = ["queue_name", "start_worker"]
