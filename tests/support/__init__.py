"""Shared test helpers, in one place: a hand-moved clock, bounded waits, conversation walks and faults.

Test modules import from here (and from conftest fixtures and the loopback fakes in tests/fakes), never from one
another, so a test file can be read, moved or deleted on its own.
"""
