"""Vetted's tests. A package, so that tests/test_cli.py and tests/<area>/test_cli.py can coexist."""
