"""QTI 3.0 interchange for the theory item types.

``export_item`` writes one ``qti-assessment-item``; ``export_package`` writes a folder of them
with an IMS content-packaging manifest whose resources carry the bank's own metadata (tier,
domain, tracks, difficulty) in a ``urn:mlocp:bank`` extension, so our own round trip keeps every
field. ``import_package`` reads our packages and plain QTI 3 items from other tools (a folder or
a zip) and reports, per file, whatever it cannot represent instead of guessing.

In QTI, SCORE is the share earned (0..1) and MAXSCORE the item's points. Differences from
``scoring.py`` in a QTI delivery engine: ``map_response`` compares short-text
answers exactly (``scoring.py`` trims and folds whitespace first) and ``qti-equal`` has no 1e-9
slack on numeric tolerances. Importing our export rebuilds the identical item, so the bank
scores it identically. Performance tasks and short text with patterns or manual marking are not
expressible here and raise ``QtiUnsupported``.

Layout: ``common`` holds the namespaces, limits and errors; ``export`` writes items and packages;
``package`` reads folders, zips and manifests; ``importer`` turns one item into a bank item, with
``processing`` reading how it is scored.
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
    QTI_NS,
    SUPPORTED_INTERACTIONS,
    QtiUnsupported,
)
from exam_service.bank.qti.export import ExportReport, export_item, export_package
from exam_service.bank.qti.package import ImportResult, import_package

__all__ = [
    "BANK_NS",
    "CP_NS",
    "ITEM_RESOURCE",
    "MAP_RESPONSE",
    "MATCH_CORRECT",
    "MAX_ENTRIES",
    "MAX_PACKAGE_BYTES",
    "PLACEHOLDER_RATIONALE",
    "QTI_NS",
    "SUPPORTED_INTERACTIONS",
    "ExportReport",
    "ImportResult",
    "QtiUnsupported",
    "export_item",
    "export_package",
    "import_package",
]
