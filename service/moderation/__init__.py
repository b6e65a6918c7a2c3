"""Moderation: the publication policy, API tokens, and (later) the review API.

May import ``comments``, ``sites``, ``privacy``, ``db`` and ``errors``.
"""
