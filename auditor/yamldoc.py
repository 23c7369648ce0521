"""Safe YAML loading that remembers where each key came from.

Policy authors need errors that point at a line. PyYAML's safe loader composes a node
tree with marks; we keep that tree beside the data so that a validation error on
``condition.ge`` can be reported as ``checks/x.yaml:12``. Only the safe loader is used:
no tag in a policy file can construct a Python object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import InputError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlDoc:
    """A parsed YAML document with its source file and node tree."""

    path: str
    data: Any
    raw: bytes
    _root: yaml.Node | None

    def line_of(self, keys: tuple[Any, ...] | list[Any]) -> int | None:
        """1-based line of the deepest node reachable along ``keys`` (None if unknown)."""
        node = self._root
        line = node.start_mark.line + 1 if node is not None else None
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                nxt = None
                for k_node, v_node in node.value:
                    if isinstance(k_node, yaml.ScalarNode) and k_node.value == str(key):
                        nxt = (k_node, v_node)
                        break
                if nxt is None:
                    return line
                line = nxt[0].start_mark.line + 1
                node = nxt[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    def error(self, keys: tuple[Any, ...] | list[Any], problem: str) -> InputError:
        where = format_path(keys) or None
        return InputError(self.path, problem, where=where, line=self.line_of(keys))


def format_path(keys: tuple[Any, ...] | list[Any]) -> str:
    """``('condition', 'all', 0)`` → ``condition.all[0]``."""
    out = ""
    for key in keys:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += ("." if out else "") + str(key)
    return out


def load_yaml(path: str | Path, display: str | None = None) -> YamlDoc:
    """Read and parse one YAML file; any failure is an :class:`InputError` naming the line."""
    name = display or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from None
    return parse_yaml(raw, name)


def parse_yaml(raw: bytes, name: str) -> YamlDoc:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(name, "not UTF-8 text (policy files must be UTF-8)", line=line) from None
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = f"invalid YAML: {exc.problem or exc.context}"
        if exc.context and exc.context_mark is not None and exc.problem_mark is not None \
                and exc.context_mark.line != exc.problem_mark.line:
            problem += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        raise InputError(name, problem, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(name, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return YamlDoc(path=name, data=data, raw=raw, _root=root)
