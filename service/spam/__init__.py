"""Spam checks: the rules, the classifier and each site's adaptation of it, and Akismet.

services.check_comment runs the pipeline and records the verdict; learning.py keeps each site's
model current with its moderators' feedback (feedback.py); cli.py is `vetted spam`. May import
``comments``, ``sites``, ``privacy``, ``db``, ``errors``, and from ``moderation`` the blocks
and the policy that runs after the verdict; never ``workers`` or Flask (but hooks.py and
cli.py, the spam domain's edge).
"""
