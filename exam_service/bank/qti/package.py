"""Reading QTI packages: a folder, a zip or one item file, and the manifest that lists the items."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from exam_service.bank.authoring import Difficulty, Item, Tier
from exam_service.bank.qti.common import BANK_NS, ITEM_RESOURCE, MANIFEST, MAX_ENTRIES, MAX_PACKAGE_BYTES, Reject, local
from exam_service.bank.qti.importer import import_item


@dataclass
class ImportResult:
    items: list[Item] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "<file>: <what is wrong>"


_XML_ERRORS = (ET.ParseError, DefusedXmlException)


def _parse(data: bytes) -> ET.Element:
    return SafeET.fromstring(data, forbid_dtd=True)


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
                with archive.open(info) as entry:
                    data = entry.read(budget + 1)
                budget -= len(data)
                if budget < 0:
                    raise Reject("package inflates beyond its declared size; refused")
                files[name] = data
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError) as exc:
        raise Reject(f"not a readable zip package ({exc})") from None
    return files


def _read_package(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return _read_folder(path)
    if path.is_file() and path.suffix.lower() == ".xml":
        return _read_folder(path.parent) if path.name == MANIFEST else {path.name: path.read_bytes()}
    if path.is_file():
        return _read_zip(path)
    raise Reject("no such file or folder")


def _manifest_entries(name: str, data: bytes, result: ImportResult) -> list[tuple[str, dict[str, Any]]]:
    """The item files a manifest lists, with the bank metadata it carries for each."""
    base = PurePosixPath(name).parent
    entries: list[tuple[str, dict[str, Any]]] = []
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
        meta: dict[str, Any] = {}
        extension = next(resource.iter(f"{{{BANK_NS}}}item"), None)
        if extension is not None:
            meta = {k: v for k in ("tier", "domain", "difficulty") if (v := extension.get(k))}
            tracks = [t.text or "" for t in extension.iter(f"{{{BANK_NS}}}track")]
            meta |= {"tracks": tracks} if tracks else {}
        entries.append((target, meta))
    return entries


def import_package(
    path: Path,
    *,
    default_tier: Tier | str | None = None,
    default_domain: str | None = None,
    default_tracks: Sequence[str] | None = None,
    default_difficulty: Difficulty | str = "medium",
) -> ImportResult:
    """Reads a QTI 3.0 package (folder, .zip or one item file) into bank items.

    Metadata comes from our manifest extension, else from the defaults; ``default_tracks``
    falls back to the certification's own track, ``AIOps/MLOps``. Nothing is invented for a
    missing tier, domain or a non-bank identifier: those files are reported in ``errors``.
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
    entries: list[tuple[str, dict[str, Any]]]
    if manifests:
        try:
            entries = _manifest_entries(manifests[0], files[manifests[0]], result)
        except _XML_ERRORS as exc:
            result.errors.append(f"{manifests[0]}: not a well-formed manifest ({exc})")
            return result
    else:
        entries = [(n, {}) for n in sorted(files)]
    seen: set[str] = set()
    for name, meta in entries:
        if name not in files:
            result.errors.append(f"{name}: listed in the manifest but not in the package")
            continue
        try:
            root = _parse(files[name])
        except _XML_ERRORS as exc:
            result.errors.append(f"{name}: not well-formed XML ({exc})")
            continue
        tag = local(root)
        if tag != "qti-assessment-item":
            if tag.endswith("assessmentItem"):
                result.errors.append(f"{name}: a QTI 2.x item; only QTI 3.0 items are supported")
            elif manifests:
                result.errors.append(f"{name}: the root is {tag}, not qti-assessment-item")
            continue
        merged = defaults | meta
        missing = [k for k in ("tier", "domain") if k not in merged]
        try:
            if missing:
                raise Reject(f"no bank metadata for {' or '.join(missing)}; pass default_{missing[0]}")
            item = import_item(name, root, merged)
        except Reject as exc:
            result.errors.append(f"{name}: {exc}")
            continue
        if item.id in seen:
            result.errors.append(f"{name}: duplicate item id {item.id}")
            continue
        seen.add(item.id)
        result.items.append(item)
    return result
