"""Read a YAML file into plain values that remember their line numbers, and nothing more.

PyYAML's C loader composes the node graph (fast, and it never constructs objects from tags); this module
walks the graph itself so that it can: refuse every tag that is not plain data (``!!python/object`` …),
refuse duplicate keys (PyYAML keeps the last silently), apply ``<<`` merge keys, and stop alias bombs by
counting the nodes an alias expansion visits.

It also refuses YAML 1.1's traps, which silently turn what a user wrote into something else: sexagesimal numbers
(``hours: 1:30`` is 90), the booleans ``yes``/``no``/``on``/``off`` (``country:
NO`` is false), explicit tags whose value is not of the tag (``!!float abc``), numbers too long to be any field's,
nesting deeper than any file of ours needs, and keys that are not text. Each is one line with its file, line and
the path of the value (``jobs[0].hours``), and a hint.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import yaml

from ci_carbon.core import files
from ci_carbon.core.fields import type_name
from ci_carbon.errors import InputError, InputProblem

_TAG = "tag:yaml.org,2002:"
_SCALARS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null")}
_MAP, _SEQ, _MERGE, _TIMESTAMP, _STR, _INT, _FLOAT, _BOOL = (
    f"{_TAG}{t}" for t in ("map", "seq", "merge", "timestamp", "str", "int", "float", "bool"))
_NUMBERS = (_INT, _FLOAT)
_NUMBER_START = frozenset("0123456789+-.")
_DECIMAL = re.compile(r"[-+]?\d+\.\d*")
_MIN_BUDGET = 10_000
_BUDGET_PER_CHAR = 2  # nodes a walk may visit per character of text: plain YAML needs far less than one
# YAML 1.2 floats that PyYAML's YAML 1.1 resolver reads as text (1e12, 2.5E-3): users mean numbers.
_FLOAT_12 = re.compile(r"[-+]?(\d[\d_]*(\.\d*)?|\.\d+)[eE][-+]?\d+")
_BOOLEANS = frozenset(("true", "false"))  # the spellings YAML 1.2 keeps; yes/no/on/off are 1.1's alone
MAX_NUMBER_CHARS = 32  # longer than any number a field takes (1e+18 and its decimals); int() past 4,300 digits fails
MAX_DEPTH = 32  # a manifest nests 4 levels (jobs, a job, tags, a tag); YAML itself allows 1,000, Python's stack not


class Located(NamedTuple):
    """A value and the 1-based line it was written on (for a mapping's values: the line of their key)."""

    value: Any
    line: int


def _plain_float(node: yaml.ScalarNode) -> bool:
    text = node.value
    return (node.tag == _STR and text[:1] in _NUMBER_START and ("e" in text or "E" in text) and not node.style
            and _FLOAT_12.fullmatch(text) is not None)


def _sexagesimal_hint(text: str) -> str:
    """'1:30' → 'write 1.5': the decimal a user who wrote hours:minutes(:seconds) meant, where it is one."""
    parts = text.lstrip("+-").split(":")
    try:
        value = sum(float(part) / 60 ** i for i, part in enumerate(parts))
    except ValueError:
        return "write a decimal number"
    return f"for {' h '.join(parts[:2])} min write {value:g}" if len(parts) == 2 else f"write {value:g}"


def _key_name(value: Any) -> str:
    """A refused key as the user wrote it, never Python's repr of a value or of None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"the number {value:g}" if isinstance(value, float) else f"the number {value}"
    return type_name(value)


class _Walker:
    """Walks the composed graph once; aliases are walked again where used, counted against ``budget``."""

    def __init__(self, path: str, budget: int):
        self.path = path
        self.budget = budget
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, message: str, where: str = "") -> InputError:
        return InputError([InputProblem(self.path, node.start_mark.line + 1, where or None, message)])

    def walk(self, node: yaml.Node, where: str = "", depth: int = 0) -> Located:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail(node, "YAML aliases expand to too many nodes (an alias bomb?); write the data out")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nested more than {MAX_DEPTH} levels deep; a manifest needs 4 (jobs, a job, "
                                  "tags, a tag)", where if len(where) <= 40 else f"{where[:40]}…")
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            return Located(self.mapping(node, where, depth), line)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return Located([self.walk(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(node.value)], line)
        if isinstance(node, yaml.ScalarNode) and node.tag == _TIMESTAMP:
            return Located(node.value, line)  # dates stay as written: they are labels here, not times
        if isinstance(node, yaml.ScalarNode) and _plain_float(node):
            self.trap(node, where)
            return Located(float(node.value.replace("_", "")), line)
        if isinstance(node, yaml.ScalarNode) and node.tag in _SCALARS:
            self.trap(node, where)
            return Located(self.scalar(node, where), line)
        raise self.fail(node, f"YAML tag {node.tag.replace(_TAG, '!!')} is not allowed; write plain data", where)

    def trap(self, node: yaml.ScalarNode, where: str) -> None:
        """Refuse the YAML 1.1 readings that silently change what was written (see the module docstring)."""
        tag, text, quoted = node.tag, node.value, bool(node.style)
        if tag == _BOOL and text.lower() not in _BOOLEANS:
            meaning = str(self.scalar(node, where)).lower()
            raise self.fail(node, f"'{text}' is read by YAML 1.1 as the boolean {meaning}; quote it (\"{text}\") "
                                  "if you meant text", where)
        if tag not in _NUMBERS and not _plain_float(node):
            return
        if len(text) > MAX_NUMBER_CHARS:
            raise self.fail(node, f"a number of {len(text):,} characters is far outside any field's range; write "
                                  "the value itself", where)
        if ":" in text and not quoted:
            raise self.fail(node, f"'{text}' is read by YAML 1.1 as a base-60 number "
                                  f"({self.scalar(node, where):g}); {_sexagesimal_hint(text)}, or quote it "
                                  "if you meant text", where)

    def scalar(self, node: yaml.ScalarNode, where: str = "") -> Any:
        """Plain text and decimal numbers directly; PyYAML's constructors for every other spelling."""
        tag, text = node.tag, node.value
        if tag == _STR:
            return text
        if tag == _INT and text.isdigit():
            return int(text)
        if tag == _FLOAT and _DECIMAL.fullmatch(text):
            return float(text)
        try:
            return self.constructor.yaml_constructors[tag](self.constructor, node)
        except (ValueError, KeyError, TypeError, OverflowError, yaml.YAMLError):
            kind = tag.replace(_TAG, "")
            wanted = {"int": "a whole number", "float": "a number", "bool": "true or false"}.get(kind, kind)
            raise self.fail(node, f"'{text}' is not a valid !!{kind}: write {wanted}, or drop the tag", where) from None

    def mapping(self, node: yaml.MappingNode, where: str = "", depth: int = 0) -> dict[str, Located]:
        own: dict[str, Located] = {}
        merged: dict[str, Located] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.update(self.merge(key_node, value_node, where, depth))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "a mapping" if isinstance(key_node, yaml.MappingNode) else "a list"
                raise self.fail(key_node, f"a key must be plain text, got {kind}; write a name", where)
            key = self.walk(key_node, where, depth + 1)
            if not isinstance(key.value, str):
                raise self.fail(key_node, f"a key must be text, got {_key_name(key.value)}; quote it if it is a "
                                          "name", where)
            if key.value in own:
                raise self.fail(key_node, f"duplicate key '{key.value}' (first on line {own[key.value].line})",
                                where)
            inner = f"{where}.{key.value}" if where else key.value
            own[key.value] = Located(self.walk(value_node, inner, depth + 1).value, key.line)
        return {**merged, **own}

    def merge(self, key: yaml.Node, node: yaml.Node, where: str, depth: int) -> dict[str, Located]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out: dict[str, Located] = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                raise self.fail(key, "a '<<' merge key takes a mapping or a list of mappings", where)
            out.update(self.mapping(source, where, depth + 1))
        return out


def read_text(path: str, what: str = "manifest file") -> str:
    """The file's text, or one clear problem: missing, a directory, a pipe or device, too large, unreadable, or not
    UTF-8 (the checks before reading are :mod:`ci_carbon.core.files`'s, shared by every input)."""
    return decode(files.read_input(path, what=what), path)


def decode(raw: bytes, path: str) -> str:
    """UTF-8 text (a byte-order mark dropped), or the line of the first byte that is not."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise InputError([InputProblem(path, line, None, f"is not UTF-8 text (byte 0x{raw[err.start]:02x}); "
                                                         "save it as UTF-8")]) from None


def load(path: str, text: str | None = None, what: str = "manifest file") -> Located | None:
    """Parse one YAML document (the file at ``path``, or ``text`` named by it); None for an empty document."""
    text = read_text(path, what) if text is None else text
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
