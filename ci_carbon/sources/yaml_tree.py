"""Read a YAML file into plain values that remember their line numbers, and nothing more.

PyYAML's C loader composes the node graph (fast, and it never constructs objects from tags); this module
walks the graph itself so that it can: refuse every tag that is not plain data (``!!python/object`` …),
refuse duplicate keys (PyYAML keeps the last silently), apply ``<<`` merge keys, and stop alias bombs by
counting the nodes an alias expansion visits.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import yaml

from ci_carbon.errors import InputError, InputProblem

_TAG = "tag:yaml.org,2002:"
_SCALARS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null")}
_MAP, _SEQ, _MERGE, _TIMESTAMP, _STR, _INT, _FLOAT = (
    f"{_TAG}{t}" for t in ("map", "seq", "merge", "timestamp", "str", "int", "float"))
_NUMBER_START = frozenset("0123456789+-.")
_DECIMAL = re.compile(r"[-+]?\d+\.\d*")
_MIN_BUDGET = 10_000
_BUDGET_PER_CHAR = 2  # nodes a walk may visit per character of text: plain YAML needs far less than one
# YAML 1.2 floats that PyYAML's YAML 1.1 resolver reads as text (1e12, 2.5E-3): users mean numbers.
_FLOAT_12 = re.compile(r"[-+]?(\d[\d_]*(\.\d*)?|\.\d+)[eE][-+]?\d+")


class Located(NamedTuple):
    """A value and the 1-based line it was written on (for a mapping's values: the line of their key)."""

    value: Any
    line: int


def _plain_float(node: yaml.ScalarNode) -> bool:
    text = node.value
    return (node.tag == _STR and text[:1] in _NUMBER_START and ("e" in text or "E" in text) and not node.style
            and _FLOAT_12.fullmatch(text) is not None)


class _Walker:
    """Walks the composed graph once; aliases are walked again where used, counted against ``budget``."""

    def __init__(self, path: str, budget: int):
        self.path = path
        self.budget = budget
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, message: str) -> InputError:
        return InputError([InputProblem(self.path, node.start_mark.line + 1, None, message)])

    def walk(self, node: yaml.Node) -> Located:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail(node, "YAML aliases expand to too many nodes (an alias bomb?); write the data out")
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            return Located(self.mapping(node), line)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return Located([self.walk(item) for item in node.value], line)
        if isinstance(node, yaml.ScalarNode) and node.tag == _TIMESTAMP:
            return Located(node.value, line)  # dates stay as written: they are labels here, not times
        if isinstance(node, yaml.ScalarNode) and _plain_float(node):
            return Located(float(node.value.replace("_", "")), line)
        if isinstance(node, yaml.ScalarNode) and node.tag in _SCALARS:
            return Located(self.scalar(node), line)
        raise self.fail(node, f"YAML tag {node.tag.replace(_TAG, '!!')} is not allowed; write plain data")

    def scalar(self, node: yaml.ScalarNode) -> Any:
        """Plain text and decimal numbers directly; PyYAML's constructors for every other spelling."""
        tag, text = node.tag, node.value
        if tag == _STR:
            return text
        if tag == _INT and text.isdigit():
            return int(text)
        if tag == _FLOAT and _DECIMAL.fullmatch(text):
            return float(text)
        return self.constructor.yaml_constructors[tag](self.constructor, node)

    def mapping(self, node: yaml.MappingNode) -> dict[str, Located]:
        own: dict[str, Located] = {}
        merged: dict[str, Located] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.update(self.merge(key_node, value_node))
                continue
            key = self.walk(key_node)
            if not isinstance(key.value, str):
                raise self.fail(key_node, f"mapping key {key.value!r} must be a string")
            if key.value in own:
                raise self.fail(key_node, f"duplicate key '{key.value}' (first on line {own[key.value].line})")
            own[key.value] = Located(self.walk(value_node).value, key.line)
        return {**merged, **own}

    def merge(self, key: yaml.Node, node: yaml.Node) -> dict[str, Located]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out: dict[str, Located] = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                raise self.fail(key, "a '<<' merge key takes a mapping or a list of mappings")
            out.update(self.mapping(source))
        return out


def read_text(path: str) -> str:
    """The file's text, or one clear problem: missing, a directory, unreadable, or not UTF-8."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except IsADirectoryError:
        raise InputError([InputProblem(path, None, None, "is a directory, not a manifest file")]) from None
    except FileNotFoundError:
        raise InputError([InputProblem(path, None, None, "no such file")]) from None
    except OSError as err:
        raise InputError([InputProblem(path, None, None, f"cannot be read: {err.strerror}")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise InputError([InputProblem(path, line, None, f"is not UTF-8 text (byte 0x{raw[err.start]:02x}); "
                                                         "save it as UTF-8")]) from None


def load(path: str, text: str | None = None) -> Located | None:
    """Parse one YAML document (the file at ``path``, or ``text`` named by it); None for an empty document."""
    text = read_text(path) if text is None else text
    loader = yaml.CSafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        what = err.problem or "invalid YAML"
        raise InputError([InputProblem(path, line, None, f"invalid YAML: {what}")]) from None
    except yaml.YAMLError as err:
        raise InputError([InputProblem(path, None, None, f"invalid YAML: {err}")]) from None
    finally:
        loader.dispose()
    if root is None:
        return None
    return _Walker(path, max(_MIN_BUDGET, _BUDGET_PER_CHAR * len(text))).walk(root)
