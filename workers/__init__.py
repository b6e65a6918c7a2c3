"""Celery tasks: thin wrappers that load by id and call the domain layer in ``service``."""
