"""The only package that talks to the database: models, query functions and migrations.

Content ids arrive here as plain strings; nothing in storage imports bot, content or admin.
"""
