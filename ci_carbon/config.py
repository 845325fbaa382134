"""ci-carbon.yaml: an organisation's own settings (its tag and param names for MLflow runs, its defaults).

Looked up as ``--config FILE`` or ``./ci-carbon.yaml``. Read with the same safe YAML reader and field rules as the
manifest, so a mistake here is one clear line with its file and line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from ci_carbon.core.model import EMPTY
from ci_carbon.core.names import nearest
from ci_carbon.errors import InputError
from ci_carbon.sources import yaml_tree
from ci_carbon.sources.manifest import FIELDS, Problems, check_fields
from ci_carbon.sources.yaml_tree import Located

DEFAULT_FILE = "ci-carbon.yaml"
MLFLOW_KEYS = ("fields", "team", "project", "defaults")
TOP = {"version": "version", "mlflow": "mlflow"}


class MlflowConfig(NamedTuple):
    fields: Mapping[str, tuple[str, ...]] = EMPTY  # ci-carbon field → the organisation's names, in order
    team: tuple[str, ...] = ()
    project: tuple[str, ...] = ()
    defaults: Mapping[str, object] = EMPTY


class Config(NamedTuple):
    path: str | None = None
    mlflow: MlflowConfig = MlflowConfig()


def _names(item: Located, where: str, out: Problems) -> tuple[str, ...]:
    values = item.value if isinstance(item.value, list) else [item]
    names = tuple(v.value for v in values if isinstance(v.value, str) and v.value.strip())
    if len(names) != len(values):
        out.add(item.line, where, "must be a name or a list of tag/param names")
    return names


def _mlflow(item: Located, out: Problems) -> MlflowConfig:
    if not isinstance(item.value, dict):
        out.add(item.line, "mlflow", "must be a mapping")
        return MlflowConfig()
    fields: dict[str, tuple[str, ...]] = {}
    team = project = ()
    defaults: Mapping[str, object] = EMPTY
    for key, value in item.value.items():
        if key == "fields" and isinstance(value.value, dict):
            for field, names in value.value.items():
                if field not in FIELDS or field in ("name", "tags"):
                    out.add(names.line, f"mlflow.fields.{field}", "unknown field",
                            nearest(field, {f: f for f in FIELDS if f not in ("name", "tags")}))
                else:
                    fields[field] = _names(names, f"mlflow.fields.{field}", out)
        elif key in ("team", "project"):
            names = _names(value, f"mlflow.{key}", out)
            team, project = (names, project) if key == "team" else (team, names)
        elif key == "defaults" and isinstance(value.value, dict):
            defaults = {k: v.value for k, v in check_fields(value.value, "mlflow.defaults", out, False).items()}
        else:
            problem = "unknown setting" if key not in MLFLOW_KEYS else "must be a mapping"
            out.add(value.line, f"mlflow.{key}", problem, nearest(key, {k: k for k in MLFLOW_KEYS}))
    return MlflowConfig(fields, team, project, defaults)


def load(path: str | None) -> Config:
    """The configuration at ``path``, or ./ci-carbon.yaml when it exists, or the built-in defaults."""
    if path is None:
        if not os.path.isfile(DEFAULT_FILE):
            return Config()
        path = DEFAULT_FILE
    out = Problems(path)
    root = yaml_tree.load(path)
    if root is None:
        return Config(path)
    if not isinstance(root.value, dict):
        out.add(root.line, None, "must be a mapping with 'version: 1'")
        raise InputError(out.items)
    mlflow = MlflowConfig()
    for key, item in root.value.items():
        if key == "version":
            if item.value != 1:
                out.add(item.line, "version", f"unsupported version {item.value!r}; this ci-carbon reads version 1")
        elif key == "mlflow":
            mlflow = _mlflow(item, out)
        else:
            out.add(item.line, key, "unknown top-level setting", nearest(key, TOP))
    if out.items:
        raise InputError(out.items)
    return Config(path, mlflow)
