"""Reading QTI packages: a folder, a zip or one item file, and the manifest that lists the items."""

from __future__ import annotations

import lzma
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank.authoring import Difficulty, Item, Tier
from exam_service.bank.qti.common import (
    BANK_NS,
    ITEM_RESOURCE,
    MANIFEST,
    MAX_ENTRIES,
    MAX_PACKAGE_BYTES,
    PackageRefused,
    Reject,
    local,
)
from exam_service.bank.qti.ids import IdAllocator, KnownIds, is_bank_id, known_ids
from exam_service.bank.qti.importer import Origin, import_item
from exam_service.bank.repository import ItemRepository
from exam_service.core.errors import Conflict


@dataclass
class ImportResult:
    items: list[Item] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "<file>: <what is wrong>"
    assigned: dict[str, str] = field(default_factory=dict)  # a bank id first given here -> the source identifier


_XML_ERRORS = (ET.ParseError, DefusedXmlException)


MAX_DEPTH = 64  # elements nested deeper than any item body needs


def _parse(data: bytes) -> ET.Element:
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except (LookupError, ValueError) as exc:  # an encoding the parser cannot read
        raise ET.ParseError(f"unreadable encoding ({exc})") from None
    depth, level = 0, [(root, 1)]
    while level:
        element, depth = level.pop()
        if depth > MAX_DEPTH:
            raise ET.ParseError(f"elements nested more than {MAX_DEPTH} deep")
        level.extend((child, depth + 1) for child in element)
    return root


def _safe_name(name: str) -> str | None:
    """A package-relative POSIX path, or None if it could leave the package."""
    parts = PurePosixPath(name).parts
    if "\\" in name or name.startswith("/") or not parts or ":" in parts[0] or ".." in parts:
        return None
    return "/".join(p for p in parts if p != ".") or None


def _read_folder(folder: Path) -> dict[str, bytes]:
    root, total = folder.resolve(), 0
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() != ".xml" or not path.is_file():
            continue
        name = path.relative_to(folder).as_posix()
        if not path.resolve().is_relative_to(root):
            raise Reject(f"{name} points outside the package; refused")
        total += path.stat().st_size
        if total > MAX_PACKAGE_BYTES or len(files) >= MAX_ENTRIES:
            raise Reject(f"package exceeds {MAX_PACKAGE_BYTES} bytes or {MAX_ENTRIES} files; refused")
        files[name] = path.read_bytes()
    return files


def _read_zip(path: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            unsafe = [i.filename for i in infos if _safe_name(i.filename) is None]
            if unsafe:
                raise Reject(f"unsafe entry name {unsafe[0]!r} (absolute or '..'); package refused")
            if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_PACKAGE_BYTES:
                raise Reject(f"package exceeds {MAX_PACKAGE_BYTES} bytes or {MAX_ENTRIES} entries; refused")
            budget = MAX_PACKAGE_BYTES
            for info in infos:
                name = _safe_name(info.filename)
                if info.is_dir() or name is None or not name.lower().endswith(".xml"):
                    continue
                if name in files:
                    raise Reject(f"the zip holds {name!r} twice; package refused")
                with archive.open(info) as entry:
                    data = entry.read(budget + 1)
                budget -= len(data)
                if budget < 0:
                    raise Reject("package inflates beyond its declared size; refused")
                files[name] = data
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise Reject(f"not a readable zip package ({exc})") from None
    except (zlib.error, lzma.LZMAError) as exc:
        raise Reject(f"not a readable zip package (corrupt compressed data: {exc})") from None
    return files


def _read_package(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return _read_folder(path)
    if path.is_file() and path.suffix.lower() == ".xml":
        if path.name == MANIFEST:
            return _read_folder(path.parent)
        if path.stat().st_size > MAX_PACKAGE_BYTES:
            raise Reject(f"{path.name} exceeds {MAX_PACKAGE_BYTES} bytes; refused")
        return {path.name: path.read_bytes()}
    if path.is_file():
        return _read_zip(path)
    raise Reject("no such file or folder")


@dataclass(frozen=True)
class _Listed:
    """An item file of the package, with what our manifest says of it."""

    name: str
    meta: dict[str, Any] = field(default_factory=dict)  # the bank fields our manifest carries
    ours: bool = False
    mapped: bool = False


def _listed(resource: ET.Element, target: str) -> _Listed:
    """The resource's item file, with the bank fields of our extension if it has one."""
    extension = next(resource.iter(f"{{{BANK_NS}}}item"), None)
    if extension is None:
        return _Listed(target)
    meta: dict[str, Any] = {k: v for k in ("tier", "domain", "difficulty", "prefix") if (v := extension.get(k))}
    meta |= {"decimals": extension.get("decimals")} if extension.get("decimals") else {}
    meta |= {"penalty": extension.get("penalty")} if extension.get("penalty") else {}
    tracks = [t.text or "" for t in extension.iter(f"{{{BANK_NS}}}track")]
    meta |= {"tracks": tracks} if tracks else {}
    aliases = [a.text or "" for a in extension.iter(f"{{{BANK_NS}}}unit-alias")]
    meta |= {"unit_aliases": aliases} if aliases else {}
    source = next(extension.iter(f"{{{BANK_NS}}}source"), None)
    if source is not None:
        meta["source"] = {k: v for k in ("format", "identifier", "tool") if (v := source.get(k)) is not None}
    return _Listed(target, meta, ours=True, mapped=extension.get("scoring") == "mapping")


def _manifest_entries(name: str, data: bytes, result: ImportResult) -> list[_Listed]:
    """The item files a manifest lists, with the bank metadata it carries for each."""
    base = PurePosixPath(name).parent
    entries: list[_Listed] = []
    for resource in _parse(data).iter():
        if resource.tag.rpartition("}")[2] != "resource":
            continue
        kind = resource.get("type", "")
        files = [f.get("href", "") for f in resource if f.tag.rpartition("}")[2] == "file"]
        href = unquote(resource.get("href") or next(iter(files), ""))
        if not kind.startswith("imsqti_item_"):
            continue
        if kind != ITEM_RESOURCE:
            result.errors.append(f"{href}: resource type {kind} is not QTI 3.0 ({ITEM_RESOURCE}); skipped")
            continue
        target = _safe_name((base / href).as_posix())
        if target is None:
            result.errors.append(f"{name}: resource href {href!r} leaves the package; refused")
            continue
        if any(e.name == target for e in entries):
            result.errors.append(f"{name}: {target} is listed twice in the manifest; refused")
            continue
        entries.append(_listed(resource, target))
    return entries


def _read_items(files: dict[str, bytes], entries: list[_Listed], listed: bool, result: ImportResult) -> list[_Parsed]:
    """The well-formed QTI 3 items among the entries; the rest are reported."""
    parsed: list[_Parsed] = []
    for entry in entries:
        if entry.name not in files:
            result.errors.append(f"{entry.name}: listed in the manifest but not in the package")
            continue
        try:
            root = _parse(files[entry.name])
        except _XML_ERRORS as exc:
            result.errors.append(f"{entry.name}: not well-formed XML ({exc})")
            continue
        tag = local(root)
        if tag == "qti-assessment-item":
            parsed.append(_Parsed(entry, root))
        elif tag.endswith("assessmentItem"):
            result.errors.append(f"{entry.name}: a QTI 2.x item; only QTI 3.0 items are supported")
        elif listed:
            result.errors.append(f"{entry.name}: the root is {tag}, not qti-assessment-item")
    return parsed


@dataclass(frozen=True)
class _Parsed:
    entry: _Listed
    root: ET.Element

    @property
    def identifier(self) -> str:
        return (self.root.get("identifier") or "").strip()


def _origin(parsed: _Parsed, merged: dict[str, Any], ids: IdAllocator, result: ImportResult) -> Origin:
    """The item's bank id; another tool's identifier gets one and is kept as the item's source."""
    ident = parsed.identifier
    if is_bank_id(ident):
        return Origin(ident, ours=parsed.entry.ours, mapped=parsed.entry.mapped)
    if not ident:
        raise Reject("the item has no identifier")
    earlier = ids.known(ident)
    item_id = ids.bank_id(ident, str(merged["tier"]), str(merged["domain"]))
    if earlier is None:
        result.assigned[item_id] = ident
    tool = (parsed.root.get("tool-name") or "").strip()
    source = {"format": "qti3", "identifier": ident} | ({"tool": tool} if tool else {})
    return Origin(item_id, source, parsed.entry.ours, parsed.entry.mapped)


def import_package(
    path: Path,
    *,
    default_tier: Tier | str | None = None,
    default_domain: str | None = None,
    default_tracks: Sequence[str] | None = None,
    default_difficulty: Difficulty | str = "medium",
    known: KnownIds | None = None,
) -> ImportResult:
    """Reads a QTI 3.0 package (folder, .zip or one item file) into bank items, all or nothing.

    Metadata comes from our manifest extension, else from the defaults; ``default_tracks``
    falls back to the certification's own track, ``AIOps/MLOps``. An item whose identifier is
    not a bank id gets the next free id of its tier and domain (after the highest in ``known``,
    the database, and in the package), or the id an earlier import gave it (``known.by_source``).
    Nothing is invented for a missing tier or domain. Every file that cannot be imported is
    reported in ``errors``, and then no item is returned.
    """
    result = ImportResult()
    try:
        files = _read_package(path)
    except Reject as exc:
        result.errors.append(f"{path}: {exc}")
        return result
    defaults: dict[str, Any] = {"difficulty": str(default_difficulty)}
    defaults |= {"tracks": list(default_tracks) if default_tracks else ["AIOps/MLOps"]}
    defaults |= {"tier": str(default_tier)} if default_tier else {}
    defaults |= {"domain": default_domain} if default_domain else {}
    manifests = sorted((n for n in files if PurePosixPath(n).name == MANIFEST), key=len)
    entries: list[_Listed]
    if manifests:
        try:
            entries = _manifest_entries(manifests[0], files[manifests[0]], result)
        except _XML_ERRORS as exc:
            result.errors.append(f"{manifests[0]}: not a well-formed manifest ({exc})")
            return result
    else:
        entries = [_Listed(n) for n in sorted(files)]
    parsed = _read_items(files, entries, bool(manifests), result)
    ids = IdAllocator(known or KnownIds(), [p.identifier for p in parsed])
    seen: dict[str, str] = {}  # bank id or source identifier -> the file that holds it
    for item in parsed:
        name = item.entry.name
        merged = defaults | item.entry.meta
        missing = [k for k in ("tier", "domain") if k not in merged]
        try:
            if missing:
                options = " and ".join(f"--{k}" for k in missing)
                raise Reject(f"no bank metadata for {' or '.join(missing)}; pass {options} (qti3 import)")
            if item.identifier in seen:
                raise Reject(f"item identifier {item.identifier!r} is also used by {seen[item.identifier]}")
            seen[item.identifier] = name
            imported = import_item(name, item.root, merged, _origin(item, merged, ids, result))
        except Reject as exc:
            result.errors.append(f"{name}: {exc}")
            continue
        if imported.id in seen and seen[imported.id] != name:
            result.errors.append(f"{name}: duplicate item id {imported.id} (also {seen[imported.id]})")
            continue
        seen[imported.id] = name
        result.items.append(imported)
    if result.errors:
        result.items, result.assigned = [], {}
    return result


async def import_for_bank(
    session: AsyncSession,
    path: Path,
    *,
    default_tier: Tier | str | None = None,
    default_domain: str | None = None,
    default_tracks: Sequence[str] | None = None,
) -> list[Item]:
    """The package's items, with the ids the database gives them; raises ``PackageRefused``.

    Run in the transaction that publishes the items: an id given here that another import took
    in the meantime is refused rather than published as a new version of someone else's item.
    """
    known = await known_ids(session)
    result = import_package(
        path, default_tier=default_tier, default_domain=default_domain, default_tracks=default_tracks, known=known
    )
    if result.errors:
        raise PackageRefused(result.errors)
    repo = ItemRepository(session)
    for item_id, identifier in result.assigned.items():
        if await repo.get_item(item_id) is not None:
            raise Conflict(f"{item_id}, given to {identifier!r}, was taken by another import; import again", field="id")
    return result.items
