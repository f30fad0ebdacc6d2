"""Item text (Markdown) rendered to HTML on the server, then sanitised with an allowlist.

Item text is CommonMark with GFM tables and strikethrough; raw HTML in it is shown as text, never
interpreted. What reaches a page is only text structure: paragraphs, emphasis, code, lists, quotes,
tables (in a scrolling ``div.table-scroll``, header cells with ``scope="col"``) and headings moved
down so the item's highest is an h3, below the page's own question title. Links keep their text but not the link, so a
candidate cannot navigate away mid-exam; images keep only their alt text. No element may carry a
style, event handler or URL, so item content can neither run script nor break the pages' strict CSP.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

INLINE_TAGS = frozenset({"em", "strong", "code", "del", "s", "kbd", "sub", "sup", "br"})
BLOCK_TAGS = INLINE_TAGS | {
    "p",
    "hr",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "h3",
    "h4",
    "h5",
    "h6",
}
TABLE_CLASS = "table-scroll"
TOP_HEADING = 3  # the page's question title is an h2
# Text that only block Markdown can show: a blank line, a code fence, or a list on its own lines.
_NEEDS_BLOCK = re.compile(r"\n[ \t]*\n|^ {0,3}(?:```|~~~)|\n {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]", re.M)


def _demote_headings(state: StateCore) -> None:
    """The item's highest heading becomes an h3, the others follow it: no level is skipped."""
    headings = [token for token in state.tokens if token.type in ("heading_open", "heading_close")]
    if not headings:
        return
    top = min(int(token.tag[1]) for token in headings)
    for token in headings:
        token.tag = f"h{min(6, TOP_HEADING + int(token.tag[1]) - top)}"


def _nothing(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return ""


def _image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return escapeHtml(self.renderInlineAsText(tokens[idx].children or [], options, env))


def _fence(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return f"<pre><code>{escapeHtml(tokens[idx].content)}</code></pre>\n"


def _table_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return f'<div class="{TABLE_CLASS}">\n<table>\n'


def _table_close(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return "</table>\n</div>\n"


def _cell_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return f"<{tokens[idx].tag}>"  # GFM's alignment would be a style attribute: none allowed


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    # Every link and image parses as one, whatever its URL, so that only its text is ever shown.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    md.core.ruler.push("demote_headings", _demote_headings)
    rules: dict[str, Any] = {
        "link_open": _nothing,
        "link_close": _nothing,
        "image": _image,
        "fence": _fence,
        "table_open": _table_open,
        "table_close": _table_close,
        "th_open": _cell_open,
        "td_open": _cell_open,
    }
    for name, rule in rules.items():
        md.add_render_rule(name, rule)
    return md


_MD = _markdown()


def _clean(html: str, tags: frozenset[str]) -> str:
    return nh3.clean(
        html,
        tags=set(tags),
        attributes={"ol": {"start"}} if "ol" in tags else {},
        allowed_classes={"div": {TABLE_CLASS}} if "div" in tags else None,
        set_tag_attribute_values={"th": {"scope": "col"}} if "th" in tags else None,
        link_rel=None,
        url_schemes=set(),
    )


@lru_cache(maxsize=4096)
def render_block(text: str) -> str:
    """A stem or task statement as sanitised HTML: block Markdown, tables included."""
    return _clean(_MD.render(text), BLOCK_TAGS)


@lru_cache(maxsize=4096)
def render_inline(text: str) -> str:
    """An option, premise or response as sanitised inline HTML (block HTML if the text needs it)."""
    if _NEEDS_BLOCK.search(text):
        return render_block(text)
    return _clean(_MD.renderInline(text), INLINE_TAGS)
