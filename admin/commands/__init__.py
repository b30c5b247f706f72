"""One Typer sub-app per staff concern; `admin.cli` registers them."""
