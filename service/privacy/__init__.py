"""Privacy: encryption at rest, keyed lookup digests, avatar seeds and client addresses.

Owns how private data (emails, IP addresses) is stored and looked up. Imports nothing from
the other domains; every domain that stores private data goes through it.
"""
