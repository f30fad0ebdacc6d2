"""Bank ids for items another tool wrote: the next free id of their tier and domain, the same on re-import.

An item whose identifier is not a bank id gets ``<tier letter>-<domain code>-<number>``, the
number one past the highest of that prefix in the database and in the package. Its identifier
is kept as the item's ``source``; importing it again finds the published item with that source
and publishes a new version of it, if anything changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank.authoring import DOMAINS, ITEM_ID, Tier
from exam_service.bank.qti.common import Reject
from exam_service.bank.repository import ItemRepository
from exam_service.models import BankItem, VersionStatus

TIER_LETTERS = {Tier.foundation: "F", Tier.professional: "P", Tier.advanced: "A"}
# the codes the bank's own ids use (question_bank/mlocp/<tier>/<domain>.yaml)
DOMAIN_CODES = {
    "lifecycle": "LIFE",
    "containers": "CONT",
    "versioning": "VERS",
    "data_validation": "DATA",
    "serving": "SERV",
    "cicd": "CICD",
    "orchestration": "ORCH",
    "monitoring": "MON",
    "deployment": "DEPL",
    "retraining": "RETR",
    "security": "SEC",
    "finops": "FIN",
    "distributed_training": "DIST",
    "governance": "GOV",
    "platform": "PLAT",
}
_NUMBERED = re.compile(r"^(?P<prefix>[A-Z]{1,3}-[A-Z0-9]{2,12})-(?P<number>[0-9]{3})$")


def is_bank_id(identifier: str) -> bool:
    return re.fullmatch(ITEM_ID, identifier) is not None


def prefix_of(tier: str, domain: str) -> str:
    """``F-SERV`` for a foundation serving item."""
    if tier not in TIER_LETTERS:
        raise Reject(f"tier {tier!r} is not one of {', '.join(TIER_LETTERS)}")
    if domain not in DOMAINS[Tier(tier)]:
        raise Reject(f"domain {domain!r} is not a {tier} domain ({', '.join(DOMAINS[Tier(tier)])})")
    return f"{TIER_LETTERS[Tier(tier)]}-{DOMAIN_CODES[domain]}"


@dataclass
class KnownIds:
    """What the database holds: the highest number of each id prefix, and the ids of imported items."""

    highest: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, str] = field(default_factory=dict)  # source identifier -> bank id

    def note(self, item_id: str) -> None:
        numbered = _NUMBERED.match(item_id)
        if numbered:
            prefix, number = numbered["prefix"], int(numbered["number"])
            self.highest[prefix] = max(self.highest.get(prefix, 0), number)


class IdAllocator:
    """Gives foreign identifiers bank ids, one past the highest of the database and the package."""

    def __init__(self, known: KnownIds, package_ids: Iterable[str]) -> None:
        self._by_source = dict(known.by_source)
        self._taken = KnownIds(dict(known.highest))
        for item_id in package_ids:
            self._taken.note(item_id)

    def known(self, identifier: str) -> str | None:
        """The bank id an earlier import gave this identifier."""
        return self._by_source.get(identifier)

    def bank_id(self, identifier: str, tier: str, domain: str) -> str:
        found = self.known(identifier)
        if found is not None:
            return found
        prefix = prefix_of(tier, domain)
        number = self._taken.highest.get(prefix, 0) + 1
        if number > 999:
            raise Reject(f"every id of {prefix} up to {prefix}-999 is taken")
        item_id = f"{prefix}-{number:03d}"
        self._taken.note(item_id)
        self._by_source[identifier] = item_id
        return item_id


async def known_ids(session: AsyncSession) -> KnownIds:
    """Every item id in the database, and the source identifiers of the published items."""
    known = KnownIds()
    for item_id in (await session.execute(select(BankItem.id))).scalars():
        known.note(item_id)
    published = await ItemRepository(session).latest_versions(status=VersionStatus.published)
    for version in sorted(published, key=lambda v: v.item_id, reverse=True):
        source = version.payload.get("source")
        if isinstance(source, dict) and isinstance(source.get("identifier"), str):
            known.by_source[source["identifier"]] = version.item_id  # the lowest id wins
    return known
