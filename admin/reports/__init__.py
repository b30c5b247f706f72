"""Participation summaries: builders, disclosure control, scrubbing, charts, templates and rendering."""
