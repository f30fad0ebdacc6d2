"""Item-writing lint: the cues a test-wise candidate uses to beat a bank without knowing the subject.

Each rule measures one property over a set of items, prints its figure and fails past a
documented threshold (question_bank/FORMAT.md, "Item-writing lint"). Rules about proportions
only judge a set large enough for the proportion to mean something (``minimum``).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import mean

from exam_service.bank.answers import normalise_text
from exam_service.bank.authoring import (
    ANY_DOMAIN,
    THEORY_TYPES,
    TIER_ORDER,
    Blueprint,
    Difficulty,
    Item,
    MultipleResponse,
    PerformanceTask,
    ShortText,
    SingleChoice,
    Tier,
    TrueFalse,
)
from exam_service.bank.scoring import fraction_correct

# thresholds (documented in question_bank/FORMAT.md)
LONGEST_KEY_MAX = 0.35  # single choice: share of items whose key is the longest option
KEY_LENGTH_RATIO_MAX = 2.0  # single choice: key length / mean distractor length
KEY_POSITION_MAX = 0.40  # single choice: share of keys at any one authored position
MR_LONGEST_OVER_CHANCE = 0.10  # multiple response: keyed share of the longest option above chance
MR_KEY_COUNT_MAX = 0.40  # multiple response: share of items with any one number of keys
MR_KEY_COUNTS_MIN = 4  # multiple response: distinct key counts in a bank of 20 or more
TRUE_SHARE = (0.40, 0.60)  # true/false: share of true keys
ABSOLUTE_OVER_KEYS = 0.10  # absolute words: rate in distractors above the rate in keys
DUPLICATE_SIMILARITY = 0.25  # near-duplicates: TF-IDF cosine of stem and keyed answer (words and word pairs)
DUPLICATE_REVIEW = 0.18  # pairs from here up are listed for a reviewer, without failing
POOL_FACTOR = 4  # pool per domain: times the blueprint's quota
DIFFICULTY_STEP = 0.15  # mean difficulty (easy 1, medium 2, hard 3) rises by this per tier

ABSOLUTE_WORDS = re.compile(
    r"\b(always|never|only|must|all|none|every|guaranteed?|guarantees|completely|entirely)\b", re.IGNORECASE
)
_WORD = re.compile(r"[a-z][a-z0-9_]+")
_STOP_WORDS = (
    "the a an and or of to in on for with by at from is are be was were it its this that these those which "
    "what when where who how why does do did not no can could should would will may might has have had than "
    "then into onto as if so but about after before over under per each one two three team your you their "
    "they them following best most least true false statement describes select apply"
)
_STOP = frozenset(_STOP_WORDS.split(" "))


@dataclass(frozen=True)
class Rule:
    name: str
    figure: str
    threshold: str
    ok: bool
    offenders: tuple[str, ...] = ()


@dataclass
class LintReport:
    rules: list[Rule] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rules)

    def add(self, name: str, figure: str, threshold: str, ok: bool, offenders: Sequence[str] = ()) -> None:
        self.rules.append(Rule(name, figure, threshold, ok, tuple(offenders)))


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "n/a"


def _key_longest(options: dict[str, str], keys: set[str]) -> bool:
    longest = max(len(t) for t in options.values())
    return any(len(options[k]) >= longest for k in keys)


def _single_choice(items: list[SingleChoice], report: LintReport) -> None:
    n = len(items)
    if not n:
        return
    longest = [i.id for i in items if _key_longest({o.id: o.text.strip() for o in i.options}, {i.key})]
    report.add(
        "single choice: key is the longest option",
        f"{len(longest)} of {n} ({_pct(len(longest), n)})",
        f"<= {LONGEST_KEY_MAX:.0%}",
        n < 10 or len(longest) / n <= LONGEST_KEY_MAX,
    )
    heavy = []
    for item in items:
        key = next(len(o.text.strip()) for o in item.options if o.id == item.key)
        others = mean(len(o.text.strip()) for o in item.options if o.id != item.key)
        if key >= KEY_LENGTH_RATIO_MAX * others:
            heavy.append(item.id)
    report.add(
        "single choice: key at least twice the mean distractor length",
        f"{len(heavy)} items",
        "0",
        not heavy,
        heavy,
    )
    positions = Counter([o.id for o in i.options].index(i.key) for i in items)
    top = max(positions.values())
    report.add(
        "single choice: keys at one authored position",
        ", ".join(f"{chr(65 + p)} {_pct(c, n)}" for p, c in sorted(positions.items())),
        f"each <= {KEY_POSITION_MAX:.0%}",
        n < 10 or top / n <= KEY_POSITION_MAX,
    )


def _multiple_response(items: list[MultipleResponse], report: LintReport) -> None:
    n = len(items)
    if not n:
        return
    keyed = sum(_key_longest({o.id: o.text.strip() for o in i.options}, set(i.key)) for i in items)
    chance = mean(len(i.key) / len(i.options) for i in items)
    report.add(
        "multiple response: longest option is keyed",
        f"{keyed} of {n} ({_pct(keyed, n)}; chance {chance:.0%})",
        f"<= chance + {MR_LONGEST_OVER_CHANCE:.0%}",
        n < 10 or keyed / n <= chance + MR_LONGEST_OVER_CHANCE,
    )
    counts = Counter(len(i.key) for i in items)
    spread_ok = max(counts.values()) / n <= MR_KEY_COUNT_MAX and (n < 20 or len(counts) >= MR_KEY_COUNTS_MIN)
    report.add(
        "multiple response: number of keys",
        ", ".join(f"{k} keys: {c}" for k, c in sorted(counts.items())),
        f"no count > {MR_KEY_COUNT_MAX:.0%}; >= {MR_KEY_COUNTS_MIN} counts in 20+ items",
        n < 10 or spread_ok,
    )


def _select_all(items: list[MultipleResponse], report: LintReport) -> None:
    """Items on which choosing every option earns marks: a candidate gains without knowing anything."""
    paid = [
        i.id
        for i in items
        if len(i.key) < len(i.options) and (fraction_correct(i, [o.id for o in i.options], "partial") or 0) > 0
    ]
    report.add("multiple response: choosing every option earns marks", f"{len(paid)} items", "0", not paid, paid)


def _true_false(items: list[TrueFalse], report: LintReport) -> None:
    n = len(items)
    if not n:
        return
    true = sum(i.key for i in items)
    low, high = TRUE_SHARE
    report.add(
        "true/false: keyed true",
        f"{true} true, {n - true} false ({_pct(true, n)} true)",
        f"{low:.0%}-{high:.0%} true",
        n < 10 or low <= true / n <= high,
    )


def _absolute_words(items: list[SingleChoice | MultipleResponse], report: LintReport) -> None:
    keys: list[str] = []
    distractors: list[str] = []
    for item in items:
        keyed = {item.key} if isinstance(item, SingleChoice) else set(item.key)
        for option in item.options:
            (keys if option.id in keyed else distractors).append(option.text)
    if not keys or not distractors:
        return
    in_keys = sum(bool(ABSOLUTE_WORDS.search(t)) for t in keys) / len(keys)
    in_distractors = sum(bool(ABSOLUTE_WORDS.search(t)) for t in distractors) / len(distractors)
    report.add(
        "absolute words (always, never, only, must, all, none, every...)",
        f"distractors {in_distractors:.0%}, keys {in_keys:.0%}",
        f"distractors <= keys + {ABSOLUTE_OVER_KEYS:.0%}",
        len(items) < 10 or in_distractors <= in_keys + ABSOLUTE_OVER_KEYS,
    )


def _contains(stem: str, answer: str) -> bool:
    answer = normalise_text(answer)
    return bool(answer) and re.search(rf"(?<![\w-]){re.escape(answer)}(?![\w-])", normalise_text(stem)) is not None


def stem_gives_key(item: Item) -> bool:
    """Whether the stem spells out the keyed answer (an option's text or an accepted short answer)."""
    if isinstance(item, SingleChoice | MultipleResponse):
        keyed = {item.key} if isinstance(item, SingleChoice) else set(item.key)
        return any(len(o.text.strip()) >= 8 and _contains(item.stem, o.text) for o in item.options if o.id in keyed)
    if isinstance(item, ShortText):
        return any(len(a.strip()) >= 3 and _contains(item.stem, a) for a in item.accepted)
    return False


def _answer_text(item: Item) -> str:
    """The stem and what the key says: two items that ask for the same fact share both."""
    if isinstance(item, SingleChoice):
        return item.stem + " " + next(o.text for o in item.options if o.id == item.key)
    if isinstance(item, MultipleResponse):
        return item.stem + " " + " ".join(o.text for o in item.options if o.id in item.key)
    if isinstance(item, ShortText):
        return item.stem + " " + " ".join(item.accepted)
    return item.stem


def _terms(text: str) -> Counter[str]:
    words = [w for w in _WORD.findall(text.casefold()) if w not in _STOP]
    return Counter(words + [f"{a} {b}" for a, b in itertools.pairwise(words)])


def near_duplicates(items: Sequence[Item], threshold: float = DUPLICATE_SIMILARITY) -> list[tuple[str, str, float]]:
    """Pairs of items asking for the same thing: TF-IDF cosine of stem and keyed answer, highest first.

    Terms are content words and adjacent word pairs, weighted by how rare they are in the set, so
    two items share a high score when they share the specific vocabulary of one fact.
    """
    docs = {item.id: _terms(_answer_text(item)) for item in items}
    frequency = Counter(term for terms in docs.values() for term in terms)
    vectors: dict[str, dict[str, float]] = {}
    for item_id, terms in docs.items():
        weights = {t: (1 + math.log(n)) * math.log((len(docs) + 1) / frequency[t]) for t, n in terms.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors[item_id] = {t: w / norm for t, w in weights.items() if w}
    index: dict[str, list[tuple[str, float]]] = {}
    for item_id, vector in vectors.items():
        for term, weight in vector.items():
            index.setdefault(term, []).append((item_id, weight))
    scores: dict[tuple[str, str], float] = {}
    for postings in index.values():
        for (a, wa), (b, wb) in itertools.combinations(postings, 2):
            pair = (a, b) if a < b else (b, a)
            scores[pair] = scores.get(pair, 0.0) + wa * wb
    return sorted(((a, b, s) for (a, b), s in scores.items() if s >= threshold), key=lambda p: -p[2])


_LEVEL = {Difficulty.easy: 1, Difficulty.medium: 2, Difficulty.hard: 3}


def _difficulty(items: list[Item], report: LintReport) -> None:
    means: list[tuple[Tier, float]] = []
    for tier in TIER_ORDER:
        labels = [i.difficulty for i in items if i.tier is tier]
        if not labels:
            continue
        counts = Counter(labels)
        level = mean(_LEVEL[d] for d in labels)
        means.append((tier, level))
        shares = ", ".join(f"{d.value} {_pct(counts[d], len(labels))}" for d in Difficulty)
        report.add(f"difficulty labels, {tier.value}", f"{shares}; mean {level:.2f}", "reported", True)
    rising = all(b - a >= DIFFICULTY_STEP for (_, a), (_, b) in itertools.pairwise(means))
    if len(means) > 1:
        report.add(
            "difficulty rises with the tier",
            " < ".join(f"{t.value} {m:.2f}" for t, m in means),
            f"each tier's mean >= the one below + {DIFFICULTY_STEP}",
            rising,
        )


def _pools(items: list[Item], blueprints: Sequence[Blueprint], report: LintReport) -> None:
    for blueprint in blueprints:
        short = []
        sizes = []
        for section in blueprint.sections:
            if section.id != "theory":
                continue
            for quota in section.quotas:
                have = sum(
                    1
                    for i in items
                    if i.tier is blueprint.tier
                    and i.type in THEORY_TYPES
                    and (quota.domain == ANY_DOMAIN or i.domain == quota.domain)
                )
                sizes.append(f"{quota.domain} {have}/{quota.count}")
                if have < POOL_FACTOR * quota.count:
                    short.append(f"{quota.domain}: {have} < {POOL_FACTOR} x {quota.count}")
        report.add(
            f"pool per domain, {blueprint.id}",
            "; ".join(sizes),
            f">= {POOL_FACTOR} x the quota",
            not short,
            short,
        )


def _task_minutes(items: Sequence[Item], blueprints: Sequence[Blueprint], report: LintReport) -> None:
    """Tasks whose estimated minutes fit no set of tasks the minutes quota allows: in no form."""
    for blueprint in blueprints:
        for section in blueprint.sections:
            if section.task_minutes is None:
                continue
            low = section.task_minutes.target - section.task_minutes.tolerance
            high = section.task_minutes.target + section.task_minutes.tolerance
            count = sum(q.count for q in section.quotas)
            minutes = {
                i.id: i.estimated_minutes for i in items if isinstance(i, PerformanceTask) and i.tier is blueprint.tier
            }
            usable = {
                task_id
                for combination in itertools.combinations(sorted(minutes), count)
                if low <= sum(minutes[t] for t in combination) <= high
                for task_id in combination
            }
            idle = sorted(set(minutes) - usable)
            report.add(
                f"tasks outside the minutes quota, {blueprint.id}",
                f"{len(idle)} of {len(minutes)} tasks" + (f": {', '.join(idle)}" if idle else ""),
                "reported",
                True,
                idle,
            )


def lint(items: Sequence[Item], blueprints: Sequence[Blueprint] = ()) -> LintReport:
    """Every rule over ``items`` (theory items; tasks are only counted)."""
    report = LintReport()
    theory = [i for i in items if i.type in THEORY_TYPES]
    report.counts = dict(Counter(i.type for i in items))
    single = [i for i in theory if isinstance(i, SingleChoice)]
    multiple = [i for i in theory if isinstance(i, MultipleResponse)]
    _single_choice(single, report)
    _multiple_response(multiple, report)
    _select_all(multiple, report)
    _true_false([i for i in theory if isinstance(i, TrueFalse)], report)
    _absolute_words([*single, *multiple], report)
    giveaways = [i.id for i in theory if stem_gives_key(i)]
    report.add("stems that contain their key", f"{len(giveaways)} items", "0", not giveaways, giveaways)
    similar = near_duplicates(theory, DUPLICATE_REVIEW)
    duplicates = [p for p in similar if p[2] >= DUPLICATE_SIMILARITY]
    report.add(
        "near-duplicates (stem and key, within and across tiers)",
        f"{len(duplicates)} pairs",
        f"0 pairs at similarity >= {DUPLICATE_SIMILARITY}",
        not duplicates,
        [f"{a} ~ {b} ({s:.2f})" for a, b, s in duplicates],
    )
    report.add(
        "similar pairs for a reviewer to read",
        f"{len(similar) - len(duplicates)} pairs at {DUPLICATE_REVIEW}-{DUPLICATE_SIMILARITY}",
        "reported",
        True,
        [f"{a} ~ {b} ({s:.2f})" for a, b, s in similar if s < DUPLICATE_SIMILARITY],
    )
    _difficulty(list(theory), report)
    _pools(list(theory), blueprints, report)
    _task_minutes(items, blueprints, report)
    return report
