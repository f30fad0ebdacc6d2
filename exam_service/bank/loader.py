"""Reads authoring files from disk and reports every error with file, line and field."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from exam_service.bank.authoring import ITEM_TYPES, Blueprint, BlueprintFile, Item, ItemFile, RetiredFile, Retirement

SOLUTIONS = "solutions"
_ITEM_FILE = TypeAdapter(ItemFile)
_BLUEPRINT_FILE = TypeAdapter(BlueprintFile)
_RETIRED_FILE = TypeAdapter(RetiredFile)
_File = TypeVar("_File", BlueprintFile, RetiredFile)


@dataclass(frozen=True)
class AuthoringError:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass(frozen=True)
class SourcedItem:
    item: Item
    file: str
    line: int


@dataclass
class LoadResult:
    items: list[SourcedItem] = field(default_factory=list)
    blueprints: list[Blueprint] = field(default_factory=list)
    retired: list[Retirement] = field(default_factory=list)
    errors: list[AuthoringError] = field(default_factory=list)


_TAGGED = re.compile(r"^(?:Value error, )?\[(?P<field>[a-z_]+)\] (?P<message>.*)$", re.S)


def _error(name: str, node: yaml.Node, loc: Sequence[int | str], field: str, msg: str) -> AuthoringError:
    """Builds an error; a cross-field rule's ``[field]`` tag moves it onto that field's line."""
    tagged = _TAGGED.match(msg)
    if tagged:
        loc = [*loc, tagged["field"]]
        field = f"{field}.{tagged['field']}" if field and field != "item" else tagged["field"]
        msg = tagged["message"]
    else:
        msg = msg.removeprefix("Value error, ")
    return AuthoringError(name, _line_of(node, loc), field, msg)


def _line_of(node: yaml.Node, loc: Sequence[int | str]) -> int:
    """Follows a pydantic error location through the YAML node tree to a line number."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            if child is None:
                continue  # a discriminator tag, or a field that is missing
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
    return node.start_mark.line + 1


def _field_name(loc: Sequence[int | str]) -> str:
    parts = list(loc[2:])
    # drop the union tag pydantic inserts after a list index (items.0.single_choice.key)
    if parts and parts[0] in ITEM_TYPES:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "item"


def _item_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        # worked task solutions live beside the bank and are not items
        if path.suffix in (".yaml", ".yml") and path.is_file() and SOLUTIONS not in path.relative_to(root).parts:
            yield path


def load_path(root: Path) -> LoadResult:
    """Loads every authoring file under ``root``; collects errors instead of stopping."""
    result = LoadResult()
    seen: dict[str, SourcedItem] = {}
    if not root.exists():
        result.errors.append(AuthoringError(str(root), 0, "", "no such file or folder"))
        return result
    for path in _item_files(root):
        name = str(path)
        try:
            text = path.read_text(encoding="utf-8")
            node = yaml.compose(text)
            data: Any = yaml.safe_load(text)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 0
            result.errors.append(AuthoringError(name, line, "", f"not valid YAML: {exc}"))
            continue
        repeated = _repeated_keys(node)
        if repeated:
            result.errors.extend(
                AuthoringError(name, line, key, "written twice in one mapping") for line, key in repeated
            )
            continue
        if node is None or not isinstance(data, dict):
            result.errors.append(AuthoringError(name, 1, "", "expected a mapping (an item, items: or blueprint:)"))
            continue
        if "blueprint" in data:
            _load_blueprint(name, node, data, result)
            continue
        if "retired" in data:
            _load_retired(name, node, data, result)
            continue
        wrapped = "items" not in data
        payload = {"items": [data]} if wrapped else data
        try:
            parsed = _ITEM_FILE.validate_python(payload)
        except ValidationError as exc:
            for err in exc.errors():
                loc = err["loc"]
                if err["type"].startswith("union_tag"):  # unknown or missing item type
                    loc = (*loc, "type")
                node_loc = loc[2:] if wrapped else loc
                result.errors.append(_error(name, node, node_loc, _field_name(loc), err["msg"]))
            continue
        item_nodes = [node] if wrapped else _items_nodes(node)
        for index, item in enumerate(parsed.items):
            line = item_nodes[index].start_mark.line + 1 if index < len(item_nodes) else 1
            sourced = SourcedItem(item, name, line)
            if item.id in seen:
                first = seen[item.id]
                result.errors.append(
                    AuthoringError(name, line, "id", f"duplicate id {item.id!r} (first at {first.file}:{first.line})")
                )
                continue
            seen[item.id] = sourced
            result.items.append(sourced)
    for retirement in result.retired:
        if retirement.id in seen:
            live = seen[retirement.id]
            result.errors.append(
                AuthoringError(live.file, live.line, "id", f"{retirement.id} is retired; a retired id is never reused")
            )
    return result


def _repeated_keys(root: yaml.Node | None) -> list[tuple[int, str]]:
    """Keys written twice in one mapping (YAML keeps the last silently): each at its second line."""
    repeated: list[tuple[int, str]] = []
    stack = [root] if root is not None else []
    seen_nodes: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:  # an alias repeats a node; walk it once
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in keys and key.value != "<<":
                    repeated.append((key.start_mark.line + 1, str(key.value)))
                keys.add(key.value if isinstance(key, yaml.ScalarNode) else "")
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(repeated)


def _items_nodes(node: yaml.Node) -> list[yaml.Node]:
    assert isinstance(node, yaml.MappingNode)
    for key, value in node.value:
        if key.value == "items" and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return []


def _parse(
    adapter: TypeAdapter[_File], name: str, node: yaml.Node, data: dict[str, Any], result: LoadResult
) -> _File | None:
    """A whole-file model, or ``None`` with every error recorded at its line."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            result.errors.append(_error(name, node, loc, ".".join(str(p) for p in loc), err["msg"]))
        return None


def _load_blueprint(name: str, node: yaml.Node, data: dict[str, Any], result: LoadResult) -> None:
    parsed = _parse(_BLUEPRINT_FILE, name, node, data, result)
    if parsed is not None:
        result.blueprints.append(parsed.blueprint)


def _load_retired(name: str, node: yaml.Node, data: dict[str, Any], result: LoadResult) -> None:
    parsed = _parse(_RETIRED_FILE, name, node, data, result)
    if parsed is None:
        return
    known = {r.id for r in result.retired}
    for index, retirement in enumerate(parsed.retired):
        if retirement.id in known:
            line = _line_of(node, ("retired", index))
            result.errors.append(AuthoringError(name, line, "retired", f"{retirement.id} is retired twice"))
        known.add(retirement.id)
        result.retired.append(retirement)
