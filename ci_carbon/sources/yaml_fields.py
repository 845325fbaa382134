"""Job fields as written in YAML (a manifest, ci-carbon.yaml's defaults), checked by the core's field rules.

The rules themselves are :mod:`ci_carbon.core.fields`; this module only locates each problem at its file and line
and collects every problem of a file, so that one pass of ``ci-carbon validate`` shows them all.
"""

from __future__ import annotations

from typing import Any

from ci_carbon.core import fields
from ci_carbon.core.fields import FIELDS, FieldRule, type_name
from ci_carbon.core.names import nearest, suggestion
from ci_carbon.errors import InputProblem
from ci_carbon.sources.yaml_tree import Located


class Problems:
    def __init__(self, path: str):
        self.path = path
        self.items: list[InputProblem] = []

    def add(self, line: int | None, field: str | None, message: str, options: list[str] | None = None) -> None:
        self.items.append(InputProblem(self.path, line, field, message, suggestion(options or [])))


def _check(rule: FieldRule, item: Located, where: str, out: Problems) -> Any:
    """The field's value if it fits its rule (core.fields), else None with a problem recorded at its line."""
    value, why = fields.check(rule, item.value)
    if why is not None:
        out.add(item.line, where, why)
        return None
    if rule.kind != "tags":
        return value
    tags: dict[str, str] = {}
    for key, tag in item.value.items():
        if isinstance(tag.value, (dict, list)) or tag.value is None:
            out.add(tag.line, f"{where}.{key}", f"must be text, got {type_name(tag.value)}")
        else:
            tags[key] = str(tag.value).lower() if isinstance(tag.value, bool) else str(tag.value)
    return tags


def check_fields(raw: dict[str, Located], where: str, out: Problems, allow_name: bool) -> dict[str, Located]:
    """Known fields, each checked; unknown ones reported with the nearest known name."""
    good: dict[str, Located] = {}
    for key, item in raw.items():
        rule = FIELDS.get(key)
        if rule is None or (key == "name" and not allow_name):
            options = nearest(key, {k: k for k in FIELDS if allow_name or k != "name"})
            message = "a job's name cannot be a default" if key == "name" else f"unknown field '{key}'"
            out.add(item.line, f"{where}.{key}", message, options)
            continue
        value = _check(rule, item, f"{where}.{key}", out)
        if value is not None:
            good[key] = Located(value, item.line)
    return good
