"""Runs one check's data-gathering half in bubblewrap and returns the harness's report.

The sandbox has no network (its own, empty network namespace), a read-only view of the system
and the Python environment, a fresh size-limited work folder holding only the task's files, a
clean environment, its own PID namespace (everything in it dies with the harness) and dies
with the grader. Inside, the harness drops to an unprivileged user when the grader runs as
root, sets the resource limits and runs the candidate's code in a child process.

Without bubblewrap nothing runs, unless ``EXAM_GRADING_ALLOW_UNSANDBOXED`` is set in
development: then the harness runs as a plain subprocess with the same resource limits but none
of the isolation, and every report says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).with_name("harness.py")
TOOLS = Path(__file__).with_name("tools")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/alternatives", "/etc/localtime", "/etc/nsswitch.conf")
REPORT_CAP = 8 * 1024 * 1024
SANDBOX_UID_BASE = 200_000  # unprivileged user ids the harness takes when the grader is root

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 5
    wall_seconds: float = 10
    memory_mb: int = 256
    processes: int = 64
    file_kb: int = 1024
    output_kb: int = 1024

    def as_job(self) -> dict[str, Any]:
        return {
            "cpu_seconds": max(1, round(self.cpu_seconds)),
            "wall_seconds": self.wall_seconds,
            "memory_mb": self.memory_mb,
            "processes": self.processes,
            "file_kb": self.file_kb,
            "output_kb": self.output_kb,
        }


CEILING = Limits(cpu_seconds=30, wall_seconds=60, memory_mb=1024, processes=256, file_kb=16 * 1024, output_kb=4096)


@dataclass
class Report:
    """What the sandbox gathered; ``error`` says why it gathered nothing usable."""

    records: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int | None = None
    signal: str | None = None
    stdout: str = ""
    stderr: str = ""
    files: dict[str, Any] = field(default_factory=dict)
    limit: str | None = None  # cpu, wall, memory, output, file: the limit the run hit
    truncated: bool = False
    error: str | None = None
    isolation: str = "bubblewrap"
    duration_ms: int = 0


class Cgroup:
    """One sandbox's cgroup: a memory and process cap on everything in it, whatever forks.

    Per-process limits (``RLIMIT_AS``) cannot bound memory spread over many processes or held
    in System V shared memory; a memory cgroup can. Created under the grader's own cgroup
    (cgroup v1, when the grader may write there: root on most hosts) or under
    ``EXAM_GRADING_CGROUP`` (a delegated cgroup v2 folder with the memory and pids controllers).
    """

    def __init__(self, folders: list[Path], version: int) -> None:
        self.folders, self.version = folders, version

    @classmethod
    def create(cls, parents: CgroupParents, memory_bytes: int, processes: int) -> Cgroup | None:
        name = f"exam-grade-{secrets.token_hex(8)}"
        folders: list[Path] = []
        try:
            if parents.version == 2:
                folder = parents.memory / name
                folder.mkdir()
                folders.append(folder)
                _write(folder / "memory.max", memory_bytes)
                _write(folder / "memory.swap.max", 0, optional=True)
                _write(folder / "pids.max", processes, optional=True)
            else:
                folder = parents.memory / name
                folder.mkdir()
                folders.append(folder)
                _write(folder / "memory.limit_in_bytes", memory_bytes)
                _write(folder / "memory.memsw.limit_in_bytes", memory_bytes, optional=True)
                if parents.pids is not None:
                    pids = parents.pids / name
                    pids.mkdir()
                    folders.append(pids)
                    _write(pids / "pids.max", processes)
        except OSError as exc:
            log.warning("no cgroup for this sandbox (%s); per-process limits only", exc)
            cls(folders, parents.version).remove()
            return None
        return cls(folders, parents.version)

    def enter(self) -> None:
        """Runs in the child between fork and exec: joins every cgroup before anything can fork."""
        pid = str(os.getpid()).encode()
        for folder in self.folders:
            fd = os.open(folder / "cgroup.procs", os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    def out_of_memory(self) -> bool:
        events = self.folders[0] / ("memory.events" if self.version == 2 else "memory.oom_control")
        with contextlib.suppress(OSError, ValueError):
            for line in events.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        return False

    def remove(self) -> None:
        for folder in reversed(self.folders):
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    _kill_members(folder)
                    time.sleep(0.02)
            else:
                log.error("could not remove the sandbox cgroup %s", folder)


@dataclass(frozen=True)
class CgroupParents:
    memory: Path
    pids: Path | None
    version: int


def find_cgroups(configured: str | None = None) -> CgroupParents | None:
    """Where sandbox cgroups can be made, or ``None`` (then only per-process limits apply)."""
    if configured:
        folder = Path(configured)
        controllers = (folder / "cgroup.subtree_control").read_text() if folder.is_dir() else ""
        if "memory" in controllers.split():
            return CgroupParents(folder, None, 2)
        log.warning("EXAM_GRADING_CGROUP %s does not delegate the memory controller; not used", configured)
        return None
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    own = {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            own[controller] = path
    if "memory" not in own:
        return None  # cgroup v2 only: use EXAM_GRADING_CGROUP
    memory = Path("/sys/fs/cgroup/memory") / own["memory"].lstrip("/")
    pids = Path("/sys/fs/cgroup/pids") / own.get("pids", "/").lstrip("/")
    if not (memory.is_dir() and os.access(memory, os.W_OK)):
        return None
    return CgroupParents(memory, pids if pids.is_dir() and os.access(pids, os.W_OK) else None, 1)


def _write(path: Path, value: int, *, optional: bool = False) -> None:
    try:
        path.write_text(str(value))
    except OSError:
        if not optional:
            raise


def _kill_members(folder: Path) -> None:
    with contextlib.suppress(OSError):
        for pid in (folder / "cgroup.procs").read_text().split():
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing and the unsandboxed fallback is not allowed."""


@dataclass(frozen=True)
class Sandbox:
    python: str = sys.executable
    bwrap: str | None = shutil.which("bwrap")
    allow_unsandboxed: bool = False
    cgroups: CgroupParents | None = None  # a memory and process cap per sandbox (find_cgroups)

    @property
    def isolation(self) -> str:
        if self.bwrap:
            return "bubblewrap"
        if self.allow_unsandboxed:
            return "none"
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so candidate code cannot be run safely; install the Debian "
            "package 'bubblewrap', or set EXAM_GRADING_ALLOW_UNSANDBOXED=true on a development machine"
        )

    async def run(
        self,
        job: dict[str, Any],
        files: dict[str, str],
        limits: Limits,
        support: dict[str, str] | None = None,
    ) -> Report:
        """Runs the harness on ``job`` with ``files`` in its work folder."""
        isolation = self.isolation
        job = {**job, "limits": limits.as_job()}
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="exam-grade-") as scratch:
            root = Path(scratch)
            inputs, support_dir = root / "input", root / "support"
            _write_tree(inputs, files)
            _write_tree(support_dir, support or {})
            if isolation == "bubblewrap":
                argv = self._bwrap_argv(inputs, support_dir, limits)
            else:
                log.warning("grading WITHOUT a sandbox: candidate code runs with the grader's rights")
                argv = [self.python, "-I", str(HARNESS)]
                job = {
                    **job,
                    "paths": {
                        "input": str(inputs),
                        "support": str(support_dir),
                        "work": str(root / "work"),
                        "tools": str(TOOLS),
                    },
                }
            cgroup = None
            if self.cgroups is not None and isolation == "bubblewrap":
                cgroup = Cgroup.create(self.cgroups, _sandbox_memory(limits), limits.processes + 16)
            try:
                report = await _execute(
                    argv, json.dumps(job).encode(), limits.wall_seconds + 3, cgroup.enter if cgroup else None
                )
                if cgroup is not None and cgroup.out_of_memory():
                    report.limit = "memory"
            finally:
                if cgroup is not None:
                    cgroup.remove()
        report.isolation = isolation
        report.duration_ms = round((time.monotonic() - started) * 1000)
        return report

    def _bwrap_argv(self, inputs: Path, support: Path, limits: Limits) -> list[str]:
        assert self.bwrap
        argv = [self.bwrap, "--die-with-parent", "--new-session", "--clearenv"]
        argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        root = os.geteuid() == 0
        if not root:  # a user namespace of its own; as root, the harness becomes an unprivileged user instead
            argv += ["--unshare-user", "--disable-userns"]
        for path in SYSTEM_DIRS:
            if os.path.islink(path):
                argv += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                argv += ["--ro-bind", path, path]
        argv += ["--perms", "0755", "--dir", "/etc"]
        for path in ETC_FILES:
            argv += ["--ro-bind-try", path, path]
        # the private folders first: a Python environment that lives under /tmp is bound inside it
        work_bytes = _work_bytes(limits)
        argv += [
            "--perms", "1777", "--size", str(work_bytes), "--tmpfs", "/task",
            "--perms", "1777", "--size", str(work_bytes), "--tmpfs", "/tmp",
        ]  # fmt: skip
        made: set[str] = set()
        for prefix in sorted({sys.base_prefix, sys.prefix, str(Path(self.python).resolve().parent.parent)}):
            if not prefix.startswith("/usr/"):
                argv += [*_parents(prefix, made), "--ro-bind", prefix, prefix]
        argv += _parents("/harness/harness.py", made)
        argv += [
            "--ro-bind", str(HARNESS), "/harness/harness.py",
            "--ro-bind", str(inputs), "/input",
            "--ro-bind", str(support), "/support",
            "--ro-bind", str(TOOLS), "/tools",
            "--proc", "/proc",
            "--dev", "/dev",
            "--chdir", "/task",
            "--setenv", "PATH", f"{Path(self.python).parent}:/usr/local/bin:/usr/bin:/bin",
            "--setenv", "HOME", "/task",
            "--setenv", "TMPDIR", "/tmp",
            "--setenv", "LANG", "C.UTF-8",
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
            "--setenv", "PYTHONHASHSEED", "0",
            # the work folder belongs to root outside; git would refuse it as "dubious ownership"
            "--setenv", "GIT_CONFIG_COUNT", "1",
            "--setenv", "GIT_CONFIG_KEY_0", "safe.directory",
            "--setenv", "GIT_CONFIG_VALUE_0", "*",
        ]  # fmt: skip
        if root:
            uid = str(SANDBOX_UID_BASE + secrets.randbelow(100_000))
            argv += [
                "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs",
            ]  # fmt: skip
        return [*argv, self.python, "-I", "/harness/harness.py"]


def _parents(path: str, made: set[str]) -> list[str]:
    """Creates the folders above a mount point traversable by the sandbox's unprivileged user."""
    argv: list[str] = []
    for parent in reversed(Path(path).parents):
        name = str(parent)
        if name != "/" and name not in made:
            made.add(name)
            argv += ["--perms", "0755", "--dir", name]
    return argv


def _write_tree(root: Path, files: dict[str, str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    for name, text in files.items():
        target = (root / name).resolve()
        if root.resolve() not in target.parents:
            raise ValueError(f"file name {name!r} leaves the work folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", errors="surrogateescape")
        os.chmod(target, 0o644)
        for parent in target.parents:
            if parent == root:
                break
            os.chmod(parent, 0o755)


def _work_bytes(limits: Limits) -> int:
    return max(4 * 1024 * 1024, limits.file_kb * 1024 * 8)


def _sandbox_memory(limits: Limits) -> int:
    """The whole sandbox's memory: the code's allowance, its two tmpfs folders, the harness's own."""
    return limits.memory_mb * 1024 * 1024 + 2 * _work_bytes(limits) + 96 * 1024 * 1024


async def _execute(argv: list[str], stdin: bytes, wall: float, enter: Callable[[], None] | None = None) -> Report:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        preexec_fn=enter,
    )
    assert process.stdin
    assert process.stdout
    assert process.stderr
    process.stdin.write(stdin)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        await process.stdin.drain()
    process.stdin.close()
    try:
        out, err = await asyncio.wait_for(_read_capped(process), timeout=wall)
    except TimeoutError:
        _kill(process)
        await process.wait()
        return Report(error=f"the sandbox ran past its wall-clock limit ({wall - 3:g} s)", limit="wall")
    finally:
        _kill(process)
    await process.wait()
    try:
        data = json.loads(out)
    except ValueError:
        detail = err.decode("utf-8", "replace").strip()[-500:]
        return Report(error=f"the sandbox ended without a report{': ' + detail if detail else ''}")
    return Report(
        records=[r for r in data.get("records", []) if isinstance(r, dict)],
        exit_code=data.get("exit_code"),
        signal=data.get("signal"),
        stdout=str(data.get("stdout", "")),
        stderr=str(data.get("stderr", "")),
        files=data.get("files") or {},
        limit=data.get("limit"),
        truncated=bool(data.get("truncated")),
    )


async def _read_capped(process: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
    assert process.stdout
    assert process.stderr

    async def read(stream: asyncio.StreamReader) -> bytes:
        data = bytearray()
        while chunk := await stream.read(65536):
            if len(data) < REPORT_CAP:
                data.extend(chunk[: REPORT_CAP - len(data)])
        return bytes(data)

    out, err = await asyncio.gather(read(process.stdout), read(process.stderr))
    return out, err


def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
