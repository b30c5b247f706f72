"""Turn a built summary into HTML, Markdown or PDF: Jinja2 templates, WeasyPrint for PDF (DejaVu fonts).

Never queries the database and never changes numbers: templates print what the builder protected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("pdf", "html", "md")

_MD_SPECIAL = re.compile(r"([\\`*_{}<>|#])")


def md_escape(value: object) -> str:
    """Escape text for Markdown (tables included) so people's words can never become markup."""
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def strong(value: object) -> Markup:
    """Our own sentence for HTML: escaped, with its **bold** figures as <strong>."""
    return Markup(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", str(escape(str(value)))))


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["capitalize_first"] = lambda v: str(v)[:1].upper() + str(v)[1:]
    env.filters["strong"] = strong
    return env


def render_text(template: str, fmt: str, **context: Any) -> str:
    """Render `<template>.<fmt>.j2` (fmt: html or md)."""
    out = environment().get_template(f"{template}.{fmt}.j2").render(**context)
    if fmt == "md":
        out = re.sub(r"\n{3,}", "\n\n", out).strip() + "\n"
    return out


def html_to_pdf(html: str) -> bytes:
    """PDF bytes from our HTML (fonts come from fontconfig: Debian's fonts-dejavu)."""
    from weasyprint import HTML  # imported here: heavy, and only PDF needs it

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


def render(template: str, fmt: str, **context: Any) -> bytes:
    """Bytes for one format of one template."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "pdf":
        return html_to_pdf(render_text(template, "html", **context))
    return render_text(template, fmt, **context).encode("utf-8")
