"""The staff admin web (FastAPI + Jinja2) mounted under /admin; see app.py."""
