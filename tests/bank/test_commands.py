"""`exam-service bank ...` as an author runs it: real processes against a real database."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.models import BlueprintVersion, ItemVersion

pytestmark = pytest.mark.slow


async def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXAM_DATABASE_URL": database_url, "COLUMNS": "200"}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "exam_service.cli", "bank", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def _counts(sm: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sm() as session:
        items = (await session.execute(select(func.count()).select_from(ItemVersion))).scalar_one()
        blueprints = (await session.execute(select(func.count()).select_from(BlueprintVersion))).scalar_one()
        return int(items), int(blueprints)


async def test_validate_import_reimport_and_edit(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bank = tmp_path / "bank"
    shutil.copytree("question_bank", bank)
    validated = await _cli(database_url, "validate", str(bank))
    assert validated.returncode == 0, validated.stdout
    total = int(validated.stdout.split("ok: ")[1].split(" items")[0])
    assert total >= 3 * 63

    first = await _cli(database_url, "import", str(bank), "--author", "alice")
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"published {total} new items" in first.stdout
    assert await _counts(sessionmaker) == (total, 3)

    again = await _cli(database_url, "import", str(bank))
    assert "published 0 new items, 0 new versions, 0 blueprints" in again.stdout
    assert await _counts(sessionmaker) == (total, 3)

    domain_file = bank / "mlocp" / "foundation" / "containers.yaml"
    content = yaml.safe_load(domain_file.read_text())
    content["items"][0]["stem"] += " (Choose one.)"
    domain_file.write_text(yaml.safe_dump(content, sort_keys=False))
    edited = await _cli(database_url, "import", str(bank), "--note", "clarify stem")
    assert "published 0 new items, 1 new versions" in edited.stdout
    assert await _counts(sessionmaker) == (total + 1, 3)


async def test_a_broken_file_is_reported_and_nothing_is_imported(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bank = tmp_path / "bank"
    shutil.copytree("question_bank", bank)
    broken = bank / "mlocp" / "foundation" / "zz-broken.yaml"
    broken.write_text("items:\n  - id: F-CONT-001\n    type: essay\n")
    validated = await _cli(database_url, "validate", str(bank))
    assert validated.returncode == 1
    assert "zz-broken.yaml:3: type:" in validated.stdout
    imported = await _cli(database_url, "import", str(bank))
    assert imported.returncode == 1
    assert "nothing was imported" in imported.stdout
    assert await _counts(sessionmaker) == (0, 0)


async def test_stats_prints_counts_per_tier_and_domain(database_url: str) -> None:
    result = await _cli(database_url, "stats")
    assert result.returncode == 0, result.stderr
    for tier in ("foundation", "professional", "advanced"):
        assert tier in result.stdout
    assert "by type:" in result.stdout


async def test_qti_export_then_import_through_the_command_line(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    out = tmp_path / "qti"
    exported = await _cli(database_url, "export", "--format", "qti3", str(out))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    written = int(exported.stdout.split("wrote ")[1].split(" items")[0])
    assert "skipped F-TASK-001: " in exported.stdout  # performance tasks have no QTI form here
    assert (out / "imsmanifest.xml").is_file()
    assert len(list(out.glob("*.xml"))) == written + 1
    imported = await _cli(database_url, "import", "--format", "qti3", str(out))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert f"published {written} new items" in imported.stdout
    assert (await _counts(sessionmaker))[0] == written
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "item.xml").write_text("<qti-assessment-item><unclosed></qti-assessment-item>")
    refused = await _cli(database_url, "import", "--format", "qti3", str(broken))
    assert refused.returncode == 1
    assert "item.xml" in refused.stdout
    assert (await _counts(sessionmaker))[0] == written
