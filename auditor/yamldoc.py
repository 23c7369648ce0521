"""Safe YAML loading that remembers where each key came from.

Policy authors need errors that point at a line. PyYAML's safe loader composes a node
tree with marks; we keep that tree beside the data so that a validation error on
``condition.ge`` can be reported as ``checks/x.yaml:12``. Only the safe loader is used:
no tag in a policy file can construct a Python object.

Before anything is constructed, the node tree is walked once (each node once, iteratively)
and refused when it holds what would make the data other than what a reader of the file
sees: a key given twice in one mapping (YAML keeps the last silently: ``parameters:`` twice
would drop the first), an alias or merge key (``*name``, ``<<``: a reader must follow them, and a
few lines of aliases expand to gigabytes: the "billion laughs"), or nesting deeper than
:data:`auditor.limits.MAX_YAML_DEPTH`. Policy and configuration files need none of these.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import InputError, duplicate_key
from auditor.limits import MAX_YAML_DEPTH, check_int_text, check_size

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


def load_yaml(path: str | Path, display: str | None = None, kind: str = "config") -> YamlDoc:
    """Read and parse one YAML file; any failure is an :class:`InputError` naming the line.

    ``kind`` is the file's kind in :data:`auditor.limits.MAX_FILE_BYTES` (``policy`` or ``config``).
    """
    name = display or str(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise InputError(name, "is a directory, not a file" if stat.S_ISDIR(mode) else
                         "not a regular file (a device, pipe or socket)")
    check_size(path, kind)
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
        if root is not None:
            _check_tree(root, name, loader)
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = f"invalid YAML: {exc.problem or exc.context}"
        if "nesting depth" in problem:  # libyaml stops at 1,000 levels
            raise InputError(name, f"nested more than {MAX_YAML_DEPTH} levels deep", line=line) from None
        if exc.context and exc.context_mark is not None and exc.problem_mark is not None \
                and exc.context_mark.line != exc.problem_mark.line:
            problem += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        raise InputError(name, problem, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(name, f"invalid YAML: {exc}") from None
    except RecursionError:  # the pure-Python loader, on nesting libyaml would have refused
        raise InputError(name, f"nested more than {MAX_YAML_DEPTH} levels deep") from None
    except (ValueError, OverflowError) as exc:  # a scalar the safe constructor cannot build
        raise InputError(name, f"invalid YAML value: {exc}") from None
    finally:
        loader.dispose()
    return YamlDoc(path=name, data=data, raw=raw, _root=root)


_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def _check_tree(root: yaml.Node, name: str, loader: Any) -> None:
    """Refuse duplicate keys, aliases, merge keys, long integers and deep nesting, naming the line (see the module).

    Each entry carries the line it is reached from (a mapping value's key line): an alias is
    the anchored node itself, whose own mark is the anchor's line.
    """
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, int, tuple[Any, ...], int]] = [(root, 1, (), root.start_mark.line + 1)]
    while pending:
        node, depth, keys, line = pending.pop()
        where = format_path(keys) or None
        if id(node) in seen:
            raise InputError(name, "an alias (*name) repeats a value given elsewhere; write each value out "
                             "(aliases are not allowed in policy and configuration files)", where=where, line=line)
        seen.add(id(node))
        if depth > MAX_YAML_DEPTH:
            raise InputError(name, f"nested more than {MAX_YAML_DEPTH} levels deep", line=line)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _INT_TAG:
                check_int_text(node.value.replace("_", ""), name, line=line, where=where)
            elif node.tag == _TIMESTAMP_TAG:  # YAML reads 2026-02-30 as a date, and fails constructing it
                try:
                    loader.construct_object(node)
                except (ValueError, OverflowError) as exc:
                    raise InputError(name, f"{node.value!r} is not a real date or time ({exc})", where=where,
                                     line=line) from None
            continue
        children: list[tuple[yaml.Node, int, tuple[Any, ...], int]] = []
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for k_node, v_node in node.value:
                k_line = k_node.start_mark.line + 1
                if k_node.tag == _MERGE_TAG:
                    raise InputError(name, "a merge key (<<) copies another mapping; write its keys out "
                                     "(merge keys are not allowed in policy and configuration files)",
                                     where=where, line=k_line)
                if isinstance(k_node, yaml.ScalarNode):
                    key = loader.construct_object(k_node)
                    try:
                        hash(key)
                    except TypeError:
                        key = k_node.value
                    if key in first:
                        raise duplicate_key(name, str(key), first[key], k_line, where=where)
                    first[key] = k_line
                    children.append((v_node, depth + 1, (*keys, key), k_line))
                else:
                    children.append((k_node, depth + 1, keys, k_line))
                    children.append((v_node, depth + 1, keys, k_line))
        elif isinstance(node, yaml.SequenceNode):
            # an item before its sequence's own line is an alias of something earlier: name the sequence's line
            children.extend((item, depth + 1, (*keys, i), max(item.start_mark.line + 1, line))
                            for i, item in enumerate(node.value))
        pending.extend(reversed(children))  # document order: an anchor is met before its aliases
