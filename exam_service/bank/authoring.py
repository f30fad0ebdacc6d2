"""The bank's authoring format: YAML items and blueprints, validated by pydantic.

An authoring file holds either one item (a mapping with an ``id``) or several
(``items: [...]``). Blueprints live in files with a top-level ``blueprint`` key.
Validation errors name the file, the line and the field at fault.
"""

from __future__ import annotations

import enum
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from exam_service.bank.answers import normalise_text, pattern_problem
from exam_service.bank.mapping import ValueMap, check_choice_mapping, check_pair_mapping, check_text_mapping

ITEM_ID = r"^[A-Z]{1,3}-[A-Z0-9]{2,12}-[0-9]{3}$"


class Tier(enum.StrEnum):
    foundation = "foundation"
    professional = "professional"
    advanced = "advanced"


TIER_ORDER: tuple[Tier, ...] = (Tier.foundation, Tier.professional, Tier.advanced)

# The competency domains each tier examines (see the MLOCP domain brief).
DOMAINS: dict[Tier, tuple[str, ...]] = {
    Tier.foundation: ("lifecycle", "containers", "versioning", "data_validation", "serving"),
    Tier.professional: ("cicd", "orchestration", "monitoring", "deployment", "retraining"),
    Tier.advanced: ("security", "finops", "distributed_training", "governance", "platform"),
}

ANY_DOMAIN = "any"  # a blueprint quota that any domain of the tier may fill

TRACKS = ("DevOps", "DevSecOps", "SRE", "AIOps/MLOps", "DataOps", "FinOps")


class Difficulty(enum.StrEnum):
    easy = "easy"
    medium = "medium"
    hard = "hard"


def fail(field: str, message: str) -> ValueError:
    """An error found by a cross-field rule, tagged with the field the author should fix."""
    return ValueError(f"[{field}] {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _visible(text: str) -> str:
    """Refuses text that shows nothing: only spaces, control or zero-width characters."""
    if not any(unicodedata.category(c)[0] not in "ZC" for c in text):
        raise ValueError("the text is empty once spaces and invisible characters are left out")
    return text


VisibleText = Annotated[str, AfterValidator(_visible)]


class Option(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,16}$")]
    text: Annotated[VisibleText, Field(min_length=1, max_length=2000)]


class StarterFile(_Strict):
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-/]{1,120}$")]
    content: str = ""


class CheckLimits(_Strict):
    """Sandbox limits; unset fields take the task's, then the defaults (grading.sandbox)."""

    cpu_seconds: Annotated[float, Field(gt=0, le=30)] | None = None
    wall_seconds: Annotated[float, Field(ge=1, le=60)] | None = None
    memory_mb: Annotated[int, Field(ge=32, le=1024)] | None = None
    processes: Annotated[int, Field(ge=1, le=256)] | None = None
    file_kb: Annotated[int, Field(ge=1, le=16 * 1024)] | None = None
    output_kb: Annotated[int, Field(ge=1, le=4096)] | None = None


CALLABLE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


class CallSetup(_Strict):
    call: Annotated[str, Field(pattern=CALLABLE)]
    args: list[Any] = []
    kwargs: dict[str, Any] = {}


class CallCase(_Strict):
    """One call of a candidate's function and what it must return (or raise)."""

    call: Annotated[str, Field(pattern=CALLABLE)]
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    setup: CallSetup | None = None  # builds the object whose method ``call`` names
    expect: Any = None
    raises: str | list[str] | None = None
    tolerance: Annotated[float, Field(ge=0)] | None = None
    rel_tolerance: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _expect_or_raises(self) -> CallCase:
        # a stored payload writes expect: null beside raises; null is no expectation then
        expects = "expect" in self.model_fields_set and not (self.raises is not None and self.expect is None)
        if expects == (self.raises is not None):
            raise fail("expect", f"case {self.call!r} needs exactly one of expect or raises")
        return self


DOCUMENT_FORMATS = ("yaml", "json", "toml", "dockerfile", "github_workflow", "kubernetes")


class GraderCheck(_Strict):
    """One check: a sandbox run that gathers data, and a verdict the trusted grader computes."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]
    file: str
    kind: Literal["call", "probe", "document", "command"]
    points: Annotated[float, Field(gt=0)] = 1.0
    message: str
    partial: bool = False
    sample: bool = False
    limits: CheckLimits | None = None
    support_files: list[StarterFile] = []
    cases: list[CallCase] = []
    code: str | None = None
    collect: list[str] = []
    format: Literal["yaml", "json", "toml", "dockerfile", "github_workflow", "kubernetes"] | None = None
    argv: list[str] = []
    stdin: str = ""
    expect: dict[str, Any] | None = None
    judge: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> GraderCheck:
        need = {"call": "cases", "probe": "code", "document": "format", "command": "argv"}[self.kind]
        if not getattr(self, need):
            raise fail(need, f"check {self.id!r} of kind {self.kind} needs {need}")
        if self.kind == "call" and (self.expect is not None or self.judge):
            raise fail("cases", f"check {self.id!r}: a call check compares each case's expect")
        if self.kind == "document" and not self.judge:
            raise fail("judge", f"check {self.id!r}: a document check needs a judge")
        if self.kind in ("probe", "command") and (self.expect is None) == (self.judge is None):
            raise fail("expect", f"check {self.id!r} needs exactly one of expect or judge")
        if self.judge:
            try:
                compiled = compile(self.judge, f"<judge {self.id}>", "exec")
            except SyntaxError as exc:
                raise fail("judge", f"check {self.id!r}: the judge does not compile: {exc}") from exc
            if "judge" not in compiled.co_names:
                raise fail("judge", f"check {self.id!r}: the judge must define judge(data)")
        return self


class GraderSpec(_Strict):
    kind: Literal["checks"] = "checks"
    limits: CheckLimits | None = None
    # Python shared by the task's judges (run by the trusted grader before each judge, never in the sandbox)
    judge_helpers: str | None = None
    # Python shared by the task's probes (runs in the sandbox, before each probe's code)
    probe_helpers: str | None = None
    checks: Annotated[list[GraderCheck], Field(min_length=1)]

    @field_validator("judge_helpers", "probe_helpers")
    @classmethod
    def _compiles(cls, source: str | None) -> str | None:
        if source:
            try:
                compile(source, "<helpers>", "exec")
            except SyntaxError as exc:
                raise fail("judge_helpers", f"the helpers do not compile: {exc}") from exc
        return source

    @field_validator("checks")
    @classmethod
    def _unique_ids(cls, checks: list[GraderCheck]) -> list[GraderCheck]:
        ids = [c.id for c in checks]
        if len(ids) != len(set(ids)):
            raise fail("checks", "check ids must be unique")
        return checks


class ItemSource(_Strict):
    """Where an item imported from another tool came from: its identifier (and tool) there."""

    format: Literal["qti3"]
    identifier: Annotated[str, Field(min_length=1, max_length=200)]
    tool: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class ItemBase(_Strict):
    id: Annotated[str, Field(pattern=ITEM_ID)]
    tier: Tier
    domain: Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "enum": [domain for domains in DOMAINS.values() for domain in domains],
                "description": "one of the tier's own domains",
            }
        ),
    ]
    tracks: Annotated[
        list[str],
        Field(min_length=1),
        WithJsonSchema({"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(TRACKS)}}),
    ]
    difficulty: Difficulty
    stem: Annotated[VisibleText, Field(min_length=10, max_length=8000)]
    rationale: Annotated[str, Field(min_length=20)]
    references: Annotated[list[str], Field(min_length=1)]
    points: Annotated[float, Field(ge=0.01, le=100, allow_inf_nan=False)] = 1.0
    source: ItemSource | None = None

    @model_validator(mode="after")
    def _domain_and_tracks(self) -> ItemBase:
        if self.domain not in DOMAINS[self.tier]:
            allowed = ", ".join(DOMAINS[self.tier])
            raise fail("domain", f"domain {self.domain!r} is not a {self.tier} domain ({allowed})")
        for track in self.tracks:
            if track not in TRACKS:
                raise fail("tracks", f"unknown track {track!r} (one of {', '.join(TRACKS)})")
        return self


def _check_option_ids(options: list[Option]) -> None:
    ids = [o.id for o in options]
    if len(ids) != len(set(ids)):
        raise fail("options", "option ids must be unique")


class SingleChoice(ItemBase):
    type: Literal["single_choice"]
    options: Annotated[list[Option], Field(min_length=3, max_length=8)]
    key: str

    @model_validator(mode="after")
    def _key_in_options(self) -> SingleChoice:
        _check_option_ids(self.options)
        if self.key not in {o.id for o in self.options}:
            raise fail("key", f"key {self.key!r} is not among the options")
        return self


class MultipleResponse(ItemBase):
    type: Literal["multiple_response"]
    options: Annotated[list[Option], Field(min_length=3, max_length=10)]
    key: Annotated[list[str], Field(min_length=1)]
    # None: the blueprint's policy (``Blueprint.multiple_response_scoring``) decides
    scoring: Literal["all_or_nothing", "partial"] | None = None
    penalty: Annotated[float, Field(ge=0, le=1)] = 0.0
    mapping: ValueMap | None = None  # points per option (exam_service.bank.mapping); decides the score when set

    @model_validator(mode="after")
    def _keys_in_options(self) -> MultipleResponse:
        _check_option_ids(self.options)
        ids = {o.id for o in self.options}
        missing = [k for k in self.key if k not in ids]
        if missing:
            raise fail("key", f"key {missing[0]!r} is not among the options")
        if len(set(self.key)) != len(self.key):
            raise fail("key", "key lists an option twice")
        check_choice_mapping(self.mapping, ids, self.scoring, self.penalty)
        return self


class TrueFalse(ItemBase):
    type: Literal["true_false"]
    key: bool


UNIT = r"^[^\d\s+\-.,].{0,29}$"


class Numeric(ItemBase):
    """A number typed by the candidate; see ``exam_service.bank.answers`` for what a typed answer may hold."""

    type: Literal["numeric"]
    key: Annotated[float, Field(allow_inf_nan=False, gt=-1e15, lt=1e15)]  # what a typed answer can reach
    tolerance: Annotated[float, Field(ge=0, allow_inf_nan=False, lt=1e15)] = 0.0
    # shown after the input and accepted after the number ("11.6 GB"); "%" also accepts "percent"
    unit: Annotated[str, Field(pattern=UNIT)] | None = None
    # other spellings of the unit accepted after the number ("gigabytes")
    unit_aliases: list[Annotated[str, Field(pattern=UNIT)]] = []
    # a sign shown before the input and accepted before the number ("$371")
    prefix: Annotated[str, Field(pattern=r"^[^\d\s+\-.,]{1,3}$")] | None = None
    # the precision wanted: answers are compared after rounding to this many decimal places
    decimals: Annotated[int, Field(ge=0, le=6)] | None = None

    @model_validator(mode="after")
    def _key_finite(self) -> Numeric:
        if self.unit_aliases and not self.unit:
            raise fail("unit_aliases", "unit_aliases need a unit")
        return self


class Ordering(ItemBase):
    """Options are authored in the correct order; delivery shuffles them."""

    type: Literal["ordering"]
    options: Annotated[list[Option], Field(min_length=3, max_length=10)]

    @model_validator(mode="after")
    def _unique(self) -> Ordering:
        _check_option_ids(self.options)
        return self


class Matching(ItemBase):
    type: Literal["matching"]
    premises: Annotated[list[Option], Field(min_length=2, max_length=10)]
    responses: Annotated[list[Option], Field(min_length=2, max_length=12)]
    key: dict[str, str]
    mapping: ValueMap | None = None  # points per "premise response" pair; decides the score when set

    @model_validator(mode="after")
    def _key_consistent(self) -> Matching:
        _check_option_ids(self.premises)
        _check_option_ids(self.responses)
        premise_ids = {p.id for p in self.premises}
        response_ids = {r.id for r in self.responses}
        if set(self.key) != premise_ids:
            raise fail("key", "key must map every premise exactly once")
        for premise, response in self.key.items():
            if response not in response_ids:
                raise fail("key", f"key maps {premise!r} to {response!r}, not among the responses")
        check_pair_mapping(self.mapping, premise_ids, response_ids)
        return self


class ShortText(ItemBase):
    type: Literal["short_text"]
    accepted: list[str] = []
    patterns: list[str] = []
    case_sensitive: bool = False
    manual: bool = False
    mapping: ValueMap | None = None  # points per answer text; decides the score when set

    @model_validator(mode="after")
    def _some_rule(self) -> ShortText:
        if not self.manual and not (self.accepted or self.patterns):
            raise fail("accepted", "short_text needs accepted answers, patterns, or manual: true")
        for answer in self.accepted:
            if not normalise_text(answer):
                raise fail("accepted", f"accepted answer {answer!r} is empty once spaces and punctuation go")
        for pattern in self.patterns:
            problem = pattern_problem(pattern)
            if problem:
                raise fail("patterns", problem)
        check_text_mapping(self.mapping, self.accepted, self.patterns, self.manual, self.case_sensitive)
        return self


class PerformanceTask(ItemBase):
    type: Literal["performance_task"]
    estimated_minutes: Annotated[int, Field(ge=5, le=240)]
    starter_files: list[StarterFile] = []
    answer_files: Annotated[list[str], Field(min_length=1, max_length=10)]
    grader: GraderSpec

    @model_validator(mode="after")
    def _checks_target_answer_files(self) -> PerformanceTask:
        for check in self.grader.checks:
            if check.file not in self.answer_files:
                raise fail("grader", f"check {check.id!r} reads {check.file!r}, not an answer file")
        return self


Item = Annotated[
    SingleChoice | MultipleResponse | TrueFalse | Numeric | Ordering | Matching | ShortText | PerformanceTask,
    Field(discriminator="type"),
]

THEORY_TYPES = frozenset(
    {"single_choice", "multiple_response", "true_false", "numeric", "ordering", "matching", "short_text"}
)
ITEM_TYPES = THEORY_TYPES | {"performance_task"}


class DomainQuota(_Strict):
    domain: str
    count: Annotated[int, Field(ge=1)]


class TaskMinutes(_Strict):
    """The time a form's performance tasks add up to, so that every form of a tier asks as much work."""

    target: Annotated[int, Field(ge=5, le=600)]
    tolerance: Annotated[int, Field(ge=0, le=60)] = 5


class Section(_Strict):
    id: Literal["theory", "performance"]
    quotas: Annotated[list[DomainQuota], Field(min_length=1)]
    minimum_percent: Annotated[float, Field(ge=0, le=100)] = 0.0
    # how the section counts (docs/SCORING.md): its share of the total in percent (unset on every
    # section: sections count by their points), and the points each of its items is worth
    # (unset: the item's own ``points``)
    weight: Annotated[float, Field(gt=0, le=100)] | None = None
    item_points: Annotated[float, Field(gt=0, le=100)] | None = None
    # performance sections: the tasks' estimated minutes must add up to target +- tolerance
    task_minutes: TaskMinutes | None = None


class Blueprint(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9\-]{3,40}$")]
    tier: Tier
    title: str
    time_limit_minutes: Annotated[int, Field(ge=10, le=600)]
    cut_score_percent: Annotated[float, Field(gt=0, lt=100)]
    sections: Annotated[list[Section], Field(min_length=1)]
    prerequisite: Tier | None = None
    validity_years: Annotated[int, Field(ge=1, le=5)] = 3
    track_weights: dict[str, float] = {}
    # multiple response items that do not state their own scoring
    multiple_response_scoring: Literal["all_or_nothing", "partial"] = "all_or_nothing"

    @model_validator(mode="after")
    def _consistent(self) -> Blueprint:
        expected = None if self.tier is Tier.foundation else TIER_ORDER[TIER_ORDER.index(self.tier) - 1]
        if self.prerequisite != expected:
            raise fail("prerequisite", f"prerequisite of {self.tier} must be {expected}")
        section_ids = [s.id for s in self.sections]
        if len(section_ids) != len(set(section_ids)):
            raise fail("sections", "section ids must be unique")
        for section in self.sections:
            for quota in section.quotas:
                if quota.domain != ANY_DOMAIN and quota.domain not in DOMAINS[self.tier]:
                    raise fail("sections", f"quota domain {quota.domain!r} is not a {self.tier} domain")
        for section in self.sections:
            if section.task_minutes is not None and section.id != "performance":
                raise fail("sections", "task_minutes applies to the performance section only")
        weighted = [s.weight for s in self.sections if s.weight is not None]
        if weighted and len(weighted) != len(self.sections):
            raise fail("sections", "give every section a weight, or none")
        if weighted and abs(sum(weighted) - 100) > 1e-9:
            raise fail("sections", f"section weights must add up to 100, not {sum(weighted):g}")
        return self


class ItemFile(_Strict):
    items: Annotated[list[Item], Field(min_length=1)]


class BlueprintFile(_Strict):
    blueprint: Blueprint


class Retirement(_Strict):
    """An item withdrawn from the bank for good: its id stays reserved and is never reused."""

    id: Annotated[str, Field(pattern=ITEM_ID)]
    reason: Annotated[str, Field(min_length=10, max_length=500)]


class RetiredFile(_Strict):
    retired: Annotated[list[Retirement], Field(min_length=1)]


# Fields added to the format after items were first published: left out of the canonical form
# while unset, so that adding them to the format does not change any published item's hash.
_LATER_FIELDS = frozenset({"unit_aliases", "prefix", "decimals", "source", "mapping"})


def item_payload(item: BaseModel) -> dict[str, Any]:
    """The canonical JSON form of an item, the input of its content hash."""
    payload = item.model_dump(mode="json", exclude_defaults=False)
    return {k: v for k, v in payload.items() if not (k in _LATER_FIELDS and v in (None, []))}
