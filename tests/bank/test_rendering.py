"""Item text is rendered from Markdown on the server, and only allowlisted HTML ever leaves it."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank.loader import load_path
from exam_service.bank.presentation import candidate_view
from exam_service.bank.rendering import BLOCK_TAGS, INLINE_TAGS, render_block, render_inline
from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from tests.factories import auth_headers, item_payload

BANK = Path(__file__).resolve().parents[2] / "question_bank"
ALLOWED_ATTRIBUTES = {("ol", "start"), ("div", "class"), ("th", "scope")}


class _Tags(HTMLParser):
    """Every element and attribute of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((tag, name, value) for name, value in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> _Tags:
    tags = _Tags()
    tags.feed(html)
    tags.close()
    return tags


def assert_allowlisted(html: str, allowed: frozenset[str] = BLOCK_TAGS) -> None:
    found = parsed(html)
    assert set(found.tags) <= allowed, html
    for tag, name, value in found.attributes:
        assert (tag, name) in ALLOWED_ATTRIBUTES, html
        if name == "class":
            assert value == "table-scroll", html
        if name == "scope":
            assert value == "col", html


TABLE = """Compare the two:

| option | cost |
|:---|---:|
| spot | `0.3` |
| on-demand | **1.0** |
"""


def test_a_table_is_wrapped_and_its_header_cells_have_a_scope() -> None:
    html = render_block(TABLE)
    assert '<div class="table-scroll">\n<table>' in html
    assert html.count('<th scope="col">') == 2
    assert "<thead>" in html
    assert "<tbody>" in html
    assert "<td>spot</td>" in html
    assert "<td><code>0.3</code></td>" in html
    assert "<strong>1.0</strong>" in html
    assert "style" not in html
    assert "align" not in html
    assert_allowlisted(html)


def test_lists_keep_their_numbering() -> None:
    html = render_block("Steps:\n\n3. build\n4. push\n\nand\n\n- one\n- two\n")
    assert '<ol start="3">\n<li>build</li>\n<li>push</li>\n</ol>' in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<ol>\n<li>a</li>" in render_block("1. a\n2. b\n")


def test_fenced_code_keeps_its_text_exactly_and_drops_the_language() -> None:
    code = 'def f(a, b):\n    if a < b and b > 0:\n\treturn "<x>" & 1\n\n    return 0\n'
    html = render_block(f"Read:\n\n```python\n{code}```\n")
    escaped = code.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f"<pre><code>{escaped}</code></pre>" in html
    assert "class" not in html
    assert "language" not in html
    assert code in "".join(parsed(html).text)  # what the browser shows is the code, character for character


def test_inline_markdown_and_demoted_headings() -> None:
    assert render_inline("Use **`docker build`** then *push*") == (
        "Use <strong><code>docker build</code></strong> then <em>push</em>"
    )
    assert render_inline("~~old~~ new") == "<s>old</s> new"
    html = render_block("# Task\n\n## Part\n\n### Sub\n\n#### Deeper\n\n###### Deepest\n")
    assert "<h3>Task</h3>" in html
    assert "<h4>Part</h4>" in html
    assert "<h5>Sub</h5>" in html
    assert "<h6>Deeper</h6>" in html
    assert "<h6>Deepest</h6>" in html
    assert not re.search(r"<h[12]", html)
    # an item whose highest heading is "##" starts at h3 too: no level is skipped below the page's h2
    assert render_block("## Part\n\n### Sub\n") == "<h3>Part</h3>\n<h4>Sub</h4>\n"


def test_option_text_that_needs_blocks_renders_as_blocks() -> None:
    assert render_inline("one line") == "one line"
    assert render_inline("first\n\nsecond") == "<p>first</p>\n<p>second</p>\n"
    assert "<pre><code>x = 1\n</code></pre>" in render_inline("```\nx = 1\n```")
    assert "<ul>" in render_inline("Either\n- this\n- that")


HOSTILE = [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    ("[x](javascript:alert(1))", "x"),
    ("[click](https://evil.example/ 'a title')", "click"),
    ("![a cat](http://evil/x.png)", "a cat"),
    ('![x](javascript:alert(1) "t")', "x"),
    ("<iframe src=https://evil.example></iframe>", "&lt;iframe src=https://evil.example&gt;&lt;/iframe&gt;"),
    ('<a href="https://evil.example">go</a>', '&lt;a href="https://evil.example"&gt;go&lt;/a&gt;'),
    ("<style>body{display:none}</style>", "&lt;style&gt;body{display:none}&lt;/style&gt;"),
    ("<svg onload=alert(1)>", "&lt;svg onload=alert(1)&gt;"),
    ('<div style="position:fixed">x</div>', '&lt;div style="position:fixed"&gt;x&lt;/div&gt;'),
    ("<http://evil.example/x>", "http://evil.example/x"),
    ("<javascript:alert(1)>", "javascript:alert(1)"),
    ("&lt;script&gt; &#x3C;script&#x3E; &copy;", "&lt;script&gt; &lt;script&gt; ©"),
    ("<!-- hidden --> shown", "&lt;!-- hidden --&gt; shown"),
    ("[ref]\n\n[ref]: javascript:alert(1)", "ref"),
]


@pytest.mark.parametrize(("source", "shown"), HOSTILE, ids=[h[0][:24] for h in HOSTILE])
@pytest.mark.parametrize("render", [render_block, render_inline], ids=["block", "inline"])
def test_hostile_text_is_shown_never_run(source: str, shown: str, render: Callable[[str], str]) -> None:
    html = render(source)
    for pattern in (r"<script", r"<a[\s>]", r"<img", r"<iframe", r"<style", r"<svg", r"<div"):
        assert not re.search(pattern, html, re.I), html
    tags = re.findall(r"<[^>]*>", html)  # text is escaped, so every `<` left opens a real element
    assert not any(re.search(r"\bon\w+\s*=|style\s*=|href|src\s*=|javascript:", t, re.I) for t in tags), html
    if source.startswith(("[", "![")):  # a Markdown link's or image's URL never shows, only its text
        assert "javascript:" not in html, html
        assert "evil" not in html, html
    assert shown in html
    assert_allowlisted(html, INLINE_TAGS if render is render_inline and "\n" not in source else BLOCK_TAGS)


def test_the_whole_bank_renders_within_the_allowlist() -> None:
    loaded = load_path(BANK)
    assert not loaded.errors
    assert loaded.items
    tables = 0
    for sourced in loaded.items:
        payload = sourced.item.model_dump(mode="json")
        stem_html = render_block(payload["stem"])
        assert_allowlisted(stem_html)
        assert parsed(stem_html).text, sourced.item.id
        tables += "<table>" in stem_html
        if "\n|---" in payload["stem"] or re.search(r"\n\|[ :-]+\|", payload["stem"]):
            assert "<table>" in stem_html, sourced.item.id
        for list_name in ("options", "premises", "responses"):
            for entry in payload.get(list_name) or []:
                text = entry["text"]
                assert_allowlisted(render_inline(text), BLOCK_TAGS if "\n" in text else INLINE_TAGS)
    assert tables > 0


def test_the_candidate_view_carries_rendered_text_and_never_the_key() -> None:
    payload = item_payload("F-CONT-001", stem="Which **one** holds?\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    payload["options"][0]["text"] = "Use `COPY --chown`"
    view = candidate_view(payload, {"options": ["c", "a", "d", "b"]})
    assert "<strong>one</strong>" in view["stem_html"]
    assert "<table>" in view["stem_html"]
    assert view["stem"] == payload["stem"]
    assert [o["id"] for o in view["options"]] == ["A", "B", "C", "D"]
    assert view["options"][1] == {"id": "B", "text": "Use `COPY --chown`", "html": "Use <code>COPY --chown</code>"}
    assert all(o["html"] == render_inline(o["text"]) for o in view["options"])
    assert not {"key", "rationale", "references", "grader"} & set(view)

    matching = candidate_view(
        item_payload("F-CONT-002", kind="matching"), {"premises": ["p2", "p1"], "responses": ["r3", "r1", "r2"]}
    )
    assert all("html" in e for e in matching["premises"] + matching["responses"])
    true_false = candidate_view(item_payload("F-CONT-003", kind="true_false"), {})
    assert true_false["options"] == [
        {"id": "true", "text": "True", "html": "True"},
        {"id": "false", "text": "False", "html": "False"},
    ]
    task = candidate_view(item_payload("F-TASK-001", "serving", "performance_task"), {})
    assert task["stem_html"] == render_block(task["stem"])
    assert "key" not in task
    assert "grader" not in task


@pytest.fixture
async def examiner(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> dict[str, str]:
    return (await auth_headers(client, sessionmaker, clock, Role.examiner))[1]


async def test_examiners_read_items_with_the_rendered_stem(client: httpx.AsyncClient, examiner: dict[str, str]) -> None:
    stem = "## Compare\n\nWhich is cheaper? <script>alert(1)</script>\n\n" + TABLE
    created = await client.post(
        "/api/v1/bank/items",
        json={"content": item_payload("F-CONT-099", stem=stem), "change_note": "new"},
        headers=examiner,
    )
    assert created.status_code == 201
    assert created.json()["version"]["stem_html"] == render_block(stem)
    read = (await client.get("/api/v1/bank/items/F-CONT-099", headers=examiner)).json()
    assert read["content"]["stem"] == stem
    assert read["stem_html"] == render_block(stem)
    assert "<h3>Compare</h3>" in read["stem_html"]
    assert '<div class="table-scroll">' in read["stem_html"]
    assert "&lt;script&gt;" in read["stem_html"]
    assert "<script" not in read["stem_html"]
    history = (await client.get("/api/v1/bank/items/F-CONT-099/versions", headers=examiner)).json()
    assert [v["stem_html"] for v in history] == [read["stem_html"]]
