"""QTI 3.0 interchange for the theory item types.

``export_item`` writes one ``qti-assessment-item``; ``export_package`` writes a folder of them
with an IMS content-packaging manifest whose resources carry the bank's own metadata (tier,
domain, tracks, difficulty, and the source of an item first written elsewhere) in a
``urn:mlocp:bank`` extension, so our own round trip keeps every field. ``import_package`` reads
our packages and plain QTI 3 items from other tools (a folder or a zip), all or nothing: it
reports every file it cannot represent, with the reason, instead of guessing. Another tool's
item identifier becomes the next free bank id of its tier and domain and is kept as the item's
``source``; ``import_for_bank`` takes the ids from the database, so that importing the same item
again finds the bank id it was given.

MAXSCORE is the item's points. ``match_correct`` earns all of them for the correct response;
``map_response`` earns the mapped total, in points (our partial credit is written as shares of
the points). Where a QTI delivery engine scores differently from ``scoring.py``: it compares
short text answers as typed (case aside, where an entry says so), while the bank first normalises
spacing, outer quotes and trailing punctuation; it reads only a plain number, while the bank also
takes units, a prefix and rounding; and its ``qti-equal`` has no 1e-9 slack. Importing our
export rebuilds the identical item, so the bank scores it identically. Performance tasks and
short text with patterns or manual marking are not expressible here and raise ``QtiUnsupported``.

Layout: ``common`` holds the namespaces, limits and errors; ``export`` writes items and packages;
``package`` reads folders, zips and manifests; ``ids`` gives other tools' items bank ids;
``importer`` turns one item into a bank item, with ``processing`` reading how it is scored.
"""

from exam_service.bank.qti.common import (
    BANK_NS,
    CP_NS,
    ITEM_RESOURCE,
    MAP_RESPONSE,
    MATCH_CORRECT,
    MAX_ENTRIES,
    MAX_PACKAGE_BYTES,
    PLACEHOLDER_RATIONALE,
    POINT_INTERACTIONS,
    QTI_NS,
    SUPPORTED_INTERACTIONS,
    PackageRefused,
    QtiUnsupported,
)
from exam_service.bank.qti.export import ExportReport, export_item, export_package
from exam_service.bank.qti.ids import KnownIds, known_ids
from exam_service.bank.qti.package import ImportResult, import_for_bank, import_package

__all__ = [
    "BANK_NS",
    "CP_NS",
    "ITEM_RESOURCE",
    "MAP_RESPONSE",
    "MATCH_CORRECT",
    "MAX_ENTRIES",
    "MAX_PACKAGE_BYTES",
    "PLACEHOLDER_RATIONALE",
    "POINT_INTERACTIONS",
    "QTI_NS",
    "SUPPORTED_INTERACTIONS",
    "ExportReport",
    "ImportResult",
    "KnownIds",
    "PackageRefused",
    "QtiUnsupported",
    "export_item",
    "export_package",
    "import_for_bank",
    "import_package",
    "known_ids",
]
