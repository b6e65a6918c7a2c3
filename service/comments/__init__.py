"""Comments: submission, validation, rendering, status changes and the public thread.

May import ``sites``, ``privacy``, ``events``, ``db`` and ``errors``. The spam checks and
moderation import it, never the other way round.
"""
