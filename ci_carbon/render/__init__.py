"""Formats: one report model rendered through jinja2 templates into Markdown, JSON and CSV."""
