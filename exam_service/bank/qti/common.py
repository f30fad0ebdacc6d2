"""Namespaces, limits, errors and element helpers shared by QTI export and import."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from exam_service.core.errors import BadRequest

QTI_NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
CP_NS = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
BANK_NS = "urn:mlocp:bank"
_TEMPLATES = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"
MATCH_CORRECT = _TEMPLATES + "match_correct.xml"
MAP_RESPONSE = _TEMPLATES + "map_response.xml"
ITEM_RESOURCE = "imsqti_item_xmlv3p0"
MANIFEST = "imsmanifest.xml"
MAX_PACKAGE_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 5000
PLACEHOLDER_RATIONALE = "Imported from QTI; no rationale supplied."
SUPPORTED_INTERACTIONS = (
    "qti-choice-interaction",
    "qti-order-interaction",
    "qti-match-interaction",
    "qti-text-entry-interaction",
)
# scored by map_response_point on where the candidate clicks; the bank has no such delivery
POINT_INTERACTIONS = ("qti-select-point-interaction", "qti-hotspot-interaction", "qti-position-object-interaction")


class QtiUnsupported(ValueError):
    """An item this module cannot express in QTI 3.0."""

    def __init__(self, item_id: str, reason: str) -> None:
        super().__init__(f"{item_id}: cannot be exported to QTI 3.0: {reason}")
        self.item_id = item_id
        self.reason = reason


class Reject(Exception):
    """A file that cannot be imported; the message says why."""


class PackageRefused(BadRequest):
    """A package with at least one file that cannot be imported; nothing of it is imported."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__(f"{len(errors)} file(s) of the package cannot be imported", errors=list(errors))
        self.errors = list(errors)


def local(element: ET.Element) -> str:
    """A QTI tag without its namespace; tags of other namespaces keep theirs."""
    namespace, _, name = element.tag[1:].partition("}") if element.tag[0] == "{" else ("", "", element.tag)
    return name if namespace in ("", QTI_NS) else element.tag


def kids(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if local(child) == name]


def kid(element: ET.Element, name: str) -> ET.Element | None:
    return next(iter(kids(element, name)), None)
