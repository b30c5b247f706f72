"""Tests for the safeguarding risk check and its lexicon."""
