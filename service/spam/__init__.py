"""Spam checks: the signals, the verdict, and (later) the classifier and its feedback.

May import ``comments``, ``sites``, ``privacy``, ``db`` and ``errors``; the moderation policy
runs after it.
"""
