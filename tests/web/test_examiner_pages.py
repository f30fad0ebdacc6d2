"""The examiners' page shells: served with the strict policy, their scripts all load, their markup is
labelled and structured for assistive technology, and examiners are sent to them after signing in."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

import httpx

PAGES = ("/examiner", f"/examiner/results/{uuid.uuid4()}", "/examiner/analysis")
CONTROLS = {"input", "select", "textarea"}


class Shell(HTMLParser):
    """What a reviewer checks by eye: ids, labels, controls, tables, headings, scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.labels: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.described: list[str] = []
        self.tables = self.captions = self.h1 = 0
        self.header_cells: list[dict[str, str | None]] = []
        self.scripts: list[dict[str, str | None]] = []
        self.stylesheets: list[str] = []
        self.inline_styles = 0
        self._in_table_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if "style" in a or tag == "style":
            self.inline_styles += 1
        if a.get("aria-describedby"):
            self.described.extend(str(a["aria-describedby"]).split())
        if tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))
        if tag in CONTROLS and a.get("type") not in ("hidden", "submit", "button"):
            self.controls.append(a)
        counts = {"table": "tables", "caption": "captions", "h1": "h1"}
        if tag in counts:
            setattr(self, counts[tag], getattr(self, counts[tag]) + 1)
        if tag == "thead":
            self._in_table_head = True
        if tag == "th" and self._in_table_head:
            self.header_cells.append(a)
        if tag == "script":
            self.scripts.append(a)
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(str(a["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self._in_table_head = False


async def _shell(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, Shell]:
    response = await client.get(path)
    assert response.status_code == 200, path
    shell = Shell()
    shell.feed(response.text)
    return response, shell


async def test_examiner_pages_are_served_with_the_strict_policy_and_no_inline_code(client: httpx.AsyncClient) -> None:
    for path in PAGES:
        response, shell = await _shell(client, path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy, path
        assert "style-src 'self'" in policy, path
        assert response.headers["cache-control"] == "no-store"
        assert all(s.get("src") for s in shell.scripts), f"{path} has an inline script"
        assert shell.inline_styles == 0, f"{path} has inline style"
        assert "/static/examiner.css" in shell.stylesheets
    assert (await client.get("/examiner/results/not-an-id")).status_code == 422


async def test_every_script_and_module_the_pages_import_is_served(client: httpx.AsyncClient) -> None:
    pending = []
    for path in PAGES:
        _, shell = await _shell(client, path)
        pending += [str(s["src"]) for s in shell.scripts if s.get("type") == "module"]
        for sheet in shell.stylesheets:
            assert (await client.get(sheet)).status_code == 200, sheet
    assert pending, "the pages load no module"
    seen: set[str] = set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = await client.get(url)
        assert response.status_code == 200, url
        base = url.rsplit("/", 1)[0]
        for relative in re.findall(r'^import .* from "(\.{1,2}/[^"]+)";', response.text, re.MULTILINE):
            parts = f"{base}/{relative}".split("/")
            resolved: list[str] = []
            for part in parts:
                if part == "..":
                    resolved.pop()
                elif part != ".":
                    resolved.append(part)
            pending.append("/".join(resolved))
    assert "/static/js/live/dom.js" in seen  # the helpers shared with the proctor console


async def test_controls_are_labelled_tables_have_captions_and_headers_have_scope(client: httpx.AsyncClient) -> None:
    for path in PAGES:
        _, shell = await _shell(client, path)
        assert shell.h1 == 1, path
        duplicated = {i for i in shell.ids if shell.ids.count(i) > 1}
        assert not duplicated, f"{path}: repeated ids {duplicated}"
        unlabelled = [c.get("id") for c in shell.controls if c.get("id") not in shell.labels]
        assert not unlabelled, f"{path}: controls without a label {unlabelled}"
        missing = [i for i in shell.described if i not in shell.ids]
        assert not missing, f"{path}: aria-describedby names missing ids {missing}"
        assert shell.tables, path
        assert shell.tables == shell.captions, path
        assert all(th.get("scope") == "col" for th in shell.header_cells), path


async def test_examiners_land_on_their_pages_and_admins_stay_on_the_console(client: httpx.AsyncClient) -> None:
    script = (await client.get("/static/js/login.js")).text
    found = re.search(r"const HOME = \{([^}]*)\}", script)
    assert found is not None
    home = dict(re.findall(r'(\w+): "([^"]+)"', found.group(1)))
    assert home["examiner"] == "/examiner"
    assert home["admin"] == "/proctor"
    assert home["candidate"] == "/exams"
