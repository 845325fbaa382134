"""Publish a rendered report where a pull request's reviewers read it: one sticky comment per report key.

The forge-neutral logic (markers, fitting a body into a forge's limit, the upsert) is kept apart from the
forge-specific REST calls (github.py, gitlab.py) so that both forges behave the same way and are tested the same way.
"""
