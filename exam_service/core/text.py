"""Text a person writes into the record (reasons, notes): trimmed, printable, storable in every database.

PostgreSQL refuses NUL in text and every database refuses a lone surrogate when it encodes, so
such text is refused at the boundary with the field named, before anything is written.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

ALLOWED_CONTROLS = frozenset("\n\t")


def storable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("contains a character that is not valid Unicode (a lone surrogate)") from exc
    for ch in value:
        if unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS:
            raise ValueError(f"contains the control character U+{ord(ch):04X}")
    return value


Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000), AfterValidator(storable)
]
