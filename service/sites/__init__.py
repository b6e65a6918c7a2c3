"""Sites and articles: who hosts comments, their policy, and the articles comments hang under.

Imports only ``service.db`` and ``service.errors``; every other domain may import it.
"""
