"""Scheduled job functions: plain `job(rt, *, now) -> str`, also runnable from the CLI."""
