"""Participant-facing runtime: the engine, the dispatcher and the channels."""
