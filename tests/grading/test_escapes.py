"""Escape and abuse suite: hostile performance-task answers graded through the real sandbox.

Every hostile ``solution.py`` below does its hostile act and THEN returns the right value
(``2 * n``), so it can only lose its points if the act is stopped. Each must be contained and
graded as a failure with a clear reason in the outcome (the limit hit, the exception raised, or
that no result came back), and where it applies the test proves from the host that nothing
outside the sandbox was affected. The task has a ``call`` check (``values``: ``solve(2) == 4``,
``solve(5) == 10`` and a hidden case whose expected value is a random marker) and a ``command``
check (``cli``: ``python solution.py`` on stdin ``7`` prints ``14``). Limits are small so the
whole file stays fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import select
import socket
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exam_service.bank.authoring import PerformanceTask
from exam_service.grading import engine
from exam_service.grading.engine import CheckOutcome, TaskGrade
from exam_service.grading.sandbox import SYSTEM_DIRS, Sandbox, SandboxUnavailable, find_cgroups

REPO = Path(__file__).resolve().parents[2]
HIDDEN_ARG = 10**14 + secrets.randbelow(4 * 10**14)  # the hidden case's input: the sandbox may see it
HIDDEN_MARKER = 2 * HIDDEN_ARG  # its expected value, only ever in `expect`: must never reach the sandbox
FAST = {"cpu_seconds": 1, "wall_seconds": 2, "memory_mb": 128, "processes": 16, "file_kb": 64, "output_kb": 64}
STEM_GUESS = 6  # what a cheat can learn from the stem: solve(3) == 6


def make_task(
    *,
    limits: dict[str, Any] | None = None,
    cli_stdin: str = "7\n",
    cli_stdout: str = "14",
    answer_files: list[str] | None = None,
    starter_files: list[dict[str, str]] | None = None,
) -> PerformanceTask:
    return PerformanceTask.model_validate(
        {
            "id": "F-ESCAPE-001",
            "type": "performance_task",
            "tier": "foundation",
            "domain": "lifecycle",
            "tracks": ["DevOps"],
            "difficulty": "easy",
            "stem": "Write solve(n) in solution.py returning twice n, e.g. solve(3) == 6; "
            "`python solution.py` reads n from stdin and prints solve(n).",
            "rationale": "A tiny task used to attack the grading sandbox.",
            "references": ["docs/GRADING.md"],
            "estimated_minutes": 5,
            "answer_files": answer_files or ["solution.py"],
            "starter_files": starter_files or [],
            "grader": {
                "limits": limits or FAST,
                "checks": [
                    {
                        "id": "values",
                        "kind": "call",
                        "file": "solution.py",
                        "points": 3,
                        "partial": True,
                        "message": "solve returns twice its argument",
                        "cases": [
                            {"call": "solve", "args": [2], "expect": 4},
                            {"call": "solve", "args": [5], "expect": 10},
                            {"call": "solve", "args": [HIDDEN_ARG], "expect": HIDDEN_MARKER},
                        ],
                    },
                    {
                        "id": "cli",
                        "kind": "command",
                        "file": "solution.py",
                        "points": 1,
                        "message": "the script prints solve(n) for n on stdin",
                        "argv": ["python", "solution.py"],
                        "stdin": cli_stdin,
                        "expect": {"exit_code": 0, "stdout": cli_stdout},
                    },
                ],
            },
        }
    )


TASK = make_task()

GOOD = """\
def solve(n):
    return 2 * n


if __name__ == "__main__":
    print(solve(int(input())))
"""


def answer(act: str = "", *, prelude: str = "", **constants: Any) -> str:
    """A solution.py that does ``act`` in solve() (after ``prelude`` at import) and then returns 2 * n."""
    lines = ["import os", "import signal", "import sys", ""]
    lines += [f"{name} = {value!r}" for name, value in constants.items()]
    lines += ["", textwrap.dedent(prelude), "", "def solve(n):"]
    lines += [textwrap.indent(textwrap.dedent(act).strip() or "pass", "    "), "    return 2 * n", ""]
    lines += ['if __name__ == "__main__":', "    print(solve(int(input())))", ""]
    return "\n".join(lines)


async def grade(
    sandbox: Sandbox, source: str, task: PerformanceTask = TASK, only: list[str] | None = None
) -> TaskGrade:
    return await engine.grade_task(task, {"solution.py": source}, sandbox, only=only, concurrency=2)


def host_files_named(root: Path, prefix: str) -> list[Path]:
    """Files under ``root`` whose name starts with ``prefix`` (folders vanishing meanwhile are skipped)."""
    return [Path(folder, name) for folder, _, names in os.walk(root) for name in names if name.startswith(prefix)]


def check(grade: TaskGrade, check_id: str) -> CheckOutcome:
    return next(c for c in grade.checks if c.id == check_id)


def describe(grade: TaskGrade) -> str:
    return "\n".join(
        f"[{c.id}] {c.points}/{c.max_points} limit={c.limit} {c.duration_ms} ms feedback={c.feedback}\n"
        f"    log: {c.log[-700:]!r}"
        for c in grade.checks
    )


def assert_zero(grade: TaskGrade, values: str, cli: str | None = None) -> None:
    """Zero points everywhere, feedback on every check, and the reasons named (regexes).

    ``values`` must be in the call check's feedback; ``cli`` in the command check's feedback or log.
    """
    report = describe(grade)
    assert grade.isolation == "bubblewrap", report
    assert grade.points == 0, f"a hostile answer scored {grade.points}:\n{report}"
    for outcome in grade.checks:
        assert outcome.points == 0, report
        assert not outcome.passed, report
        assert outcome.feedback, f"{outcome.id} failed without saying why:\n{report}"
    feedback = "\n".join(check(grade, "values").feedback)
    assert re.search(values, feedback), f"the values check does not say {values!r}:\n{report}"
    if cli is not None and any(c.id == "cli" for c in grade.checks):
        outcome = check(grade, "cli")
        text = "\n".join(outcome.feedback) + "\n" + outcome.log
        assert re.search(cli, text), f"the cli check does not say {cli!r}:\n{report}"


def all_cases_without_result(grade: TaskGrade) -> None:
    feedback = check(grade, "values").feedback
    missing = [f for f in feedback if "no result" in f]
    assert len(missing) == 3, f"every case should have no result:\n{describe(grade)}"


def processes_named(name: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                continue
            if comm == name:
                found.append(int(pid))
    return found


def scan_tag() -> str:
    return "x" + secrets.token_hex(6)  # <= 15 characters: fits a process name (comm)


# ---------------------------------------------------------------------------------------------
# the control: the suite can fail


async def test_well_behaved_solution_gets_full_marks(sandbox: Sandbox) -> None:
    grade = await engine.grade_task(TASK, {"solution.py": GOOD}, sandbox, concurrency=2)
    assert grade.points == grade.max_points == 4, describe(grade)
    assert grade.isolation == "bubblewrap"
    assert all(c.passed and not c.feedback and c.limit is None for c in grade.checks), describe(grade)


async def test_the_answer_template_passes_when_its_act_is_harmless(sandbox: Sandbox) -> None:
    """The hostile answers below fail only because their acts are stopped, not because of the template."""
    grade = await engine.grade_task(TASK, {"solution.py": answer("x = n")}, sandbox, concurrency=2)
    assert grade.points == grade.max_points, describe(grade)


# ---------------------------------------------------------------------------------------------
# resource abuse


async def test_fork_bomb_is_contained_and_leaves_no_process(sandbox: Sandbox) -> None:
    tag = scan_tag()
    bomb = answer(
        """
        import ctypes
        ctypes.CDLL(None).prctl(15, TAG.encode(), 0, 0, 0)  # PR_SET_NAME: the host can find us
        while True:
            try:
                if os.fork() == 0:
                    os.setsid()  # out of the harness's process group
            except OSError:
                pass
        """,
        TAG=tag,
    )
    started = time.monotonic()
    grade_ = await grade(sandbox, bomb)
    elapsed = time.monotonic() - started
    assert_zero(grade_, r"no result", r"stdout: got ''")
    all_cases_without_result(grade_)
    assert any(re.search(r"(wall-clock|CPU time) limit", f) for f in check(grade_, "values").feedback), describe(grade_)
    assert elapsed < FAST["wall_seconds"] + 5, f"the fork bomb held the grader for {elapsed:.1f} s"
    deadline = time.monotonic() + 2
    while processes_named(tag) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes_named(tag), "fork bomb processes survived the sandbox on the host"


@pytest.mark.parametrize(
    "prelude",
    [
        pytest.param("", id="plain"),
        pytest.param("signal.signal(signal.SIGXCPU, signal.SIG_IGN)", id="ignoring-SIGXCPU"),
    ],
)
async def test_infinite_loop_hits_the_cpu_limit(sandbox: Sandbox, prelude: str) -> None:
    task = make_task(limits={**FAST, "wall_seconds": 10})  # room for the CPU limit on a busy machine
    grade_ = await grade(sandbox, answer("while True:\n    pass", prelude=prelude), task)
    assert_zero(grade_, r"CPU time limit", r"CPU time limit")
    all_cases_without_result(grade_)
    assert all(c.limit == "cpu" for c in grade_.checks), describe(grade_)


@pytest.mark.parametrize(
    ("source", "values", "cli"),
    [
        pytest.param(answer("x = bytearray(1 << 30)"), r"raised MemoryError", r"MemoryError", id="one-gigabyte"),
        pytest.param(
            answer(prelude="hoard = []\nwhile True:\n    hoard.append(bytearray(1 << 20))"),
            r"no result.*\n(.*\n)*.*memory limit",
            r"memory limit",
            id="growing-at-import",
        ),
        pytest.param(
            answer(
                """
                pid = os.fork()
                if pid == 0:  # a forked process has the same memory limit
                    try:
                        bytearray(1 << 30)
                    except MemoryError:
                        os._exit(3)
                    os._exit(0)
                _, status = os.waitpid(pid, 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    raise MemoryError("the forked process could not get a gigabyte either")
                """
            ),
            r"raised MemoryError: the forked process",
            r"MemoryError",
            id="in-a-forked-process",
        ),
    ],
)
async def test_memory_bomb_hits_the_memory_limit(sandbox: Sandbox, source: str, values: str, cli: str) -> None:
    grade_ = await grade(sandbox, source)
    assert_zero(grade_, values, cli)


SPREAD_OVER_PROCESSES = """
        ready_r, ready_w = os.pipe()
        children = []
        for _ in range(6):  # 6 x 100 MB resident, against a 128 MB limit
            pid = os.fork()
            if pid == 0:
                hoard = b"m" * (100 << 20)  # written, so resident
                os.write(ready_w, b"+")
                signal.pause()
            children.append(pid)
        got = b""
        while len(got) < len(children):
            got += os.read(ready_r, 16)
        alive = sum(1 for pid in children if os.waitpid(pid, os.WNOHANG) == (0, 0))
        for pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if alive < len(children):  # the sandbox's cap killed some: 600 MB were never held at once
            raise MemoryError(f"only {alive} of {len(children)} hoards were held at once")
"""
SYSV_SHARED_MEMORY = """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        segments = []
        for _ in range(8):  # 8 x 64 MB, written then detached: held by the IPC namespace, in no address space
            sid = libc.shmget(0, 64 << 20, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
            addr = libc.shmat(sid, None, 0)
            if sid < 0 or addr in (None, ctypes.c_void_p(-1).value):
                raise MemoryError(f"shared memory refused: errno {ctypes.get_errno()}")
            ctypes.memset(addr, 1, 64 << 20)
            libc.shmdt(ctypes.c_void_p(addr))
            segments.append(sid)
        for sid in segments:
            libc.shmctl(sid, 0, None)  # IPC_RMID
"""


@pytest.mark.xfail(
    find_cgroups() is None,
    strict=True,
    raises=AssertionError,
    reason="no writable memory cgroup on this host: memory_mb is then RLIMIT_AS per process, not per sandbox, so "
    "forks may each hold memory_mb and System V shared memory, written then detached, is in no address space",
)
@pytest.mark.parametrize(
    "act",
    [
        pytest.param(SPREAD_OVER_PROCESSES, id="6x100MB-in-forks"),
        pytest.param(SYSV_SHARED_MEMORY, id="512MB-sysv-shm"),
    ],
)
async def test_memory_held_outside_one_address_space_is_bounded(sandbox: Sandbox, act: str) -> None:
    act = "if n == 2:\n" + textwrap.indent(textwrap.dedent(act), "    ")  # once, in the first case
    task = make_task(limits={**FAST, "wall_seconds": 6})
    grade_ = await grade(sandbox, answer(act), task, only=["values"])
    assert grade_.points == 0, f"hundreds of MB were held under a 128 MB limit:\n{describe(grade_)}"
    assert check(grade_, "values").limit == "memory" or "MemoryError" in describe(grade_), describe(grade_)


@pytest.mark.parametrize(
    "act",
    [
        pytest.param('sys.stdout.write("x" * (8 << 20))\nsys.stdout.flush()', id="one-huge-write"),
        pytest.param('while True:\n    print("y" * 4096)', id="endless"),
    ],
)
async def test_huge_output_hits_the_output_limit(sandbox: Sandbox, act: str) -> None:
    grade_ = await grade(sandbox, answer(act))
    assert_zero(grade_, r"output limit", r"output limit")
    all_cases_without_result(grade_)
    assert all(c.limit == "output" for c in grade_.checks), describe(grade_)
    assert all(len(c.log) <= engine.LOG_CHARS for c in grade_.checks), "the grader kept the flood"


@pytest.mark.parametrize(
    ("prelude", "values", "cli"),
    [
        # Python ignores SIGXFSZ: the write fails with EFBIG
        pytest.param("", r"raised OSError: \[Errno 27\] File too large", r"File too large", id="EFBIG"),
        # with the default action the process is killed by SIGXFSZ
        pytest.param(
            "signal.signal(signal.SIGXFSZ, signal.SIG_DFL)", r"file size limit", r"file size limit", id="SIGXFSZ"
        ),
    ],
)
async def test_huge_file_hits_the_file_size_limit(sandbox: Sandbox, prelude: str, values: str, cli: str) -> None:
    act = """
        with open("big.bin", "wb") as handle:
            for _ in range(64):
                handle.write(b"z" * (1 << 20))
    """
    grade_ = await grade(sandbox, answer(act, prelude=prelude))
    assert_zero(grade_, values, cli)


@pytest.mark.parametrize("folder", ["/task", "/tmp"])  # noqa: S108 - the sandbox's own tmpfs
async def test_many_files_fill_only_the_size_limited_folder(sandbox: Sandbox, folder: str) -> None:
    tag = scan_tag()
    act = """
        for i in range(100_000):
            with open(os.path.join(FOLDER, f"{TAG}-{i}"), "wb") as handle:
                handle.write(b"f" * 60_000)  # under the 64 KB file limit: only the folder's size stops it
    """
    grade_ = await grade(sandbox, answer(act, FOLDER=folder, TAG=tag))
    assert_zero(grade_, r"raised OSError: \[Errno 28\] No space left on device", r"No space left on device")
    leaked = host_files_named(Path(tempfile.gettempdir()), f"{tag}-")[:3]
    assert not leaked, f"the sandbox's files appeared on the host: {leaked}"


# ---------------------------------------------------------------------------------------------
# the network


@pytest.fixture
def host_listeners() -> Iterator[dict[str, Any]]:
    """A TCP, a UDP and an abstract Unix socket listening on the host, which must never hear from the sandbox."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract = "\0exam-escape-" + secrets.token_hex(8)
    unix.bind(abstract)
    unix.listen(8)
    sockets = [tcp, udp, unix]
    for s in sockets:
        s.setblocking(False)
    yield {"tcp": tcp.getsockname()[1], "udp": udp.getsockname()[1], "unix": abstract, "sockets": sockets}
    for s in sockets:
        s.close()


NETWORK_ACT = """
    import socket
    refused, reached = [], []

    def attempt(label, connect):
        try:
            connect()
            reached.append(label)
        except OSError as exc:
            refused.append(f"{label}: {type(exc).__name__}")

    attempt("outside", lambda: socket.create_connection(("1.1.1.1", 53), timeout=1))
    attempt("dns", lambda: socket.getaddrinfo("example.com", 443))
    attempt("host-tcp", lambda: socket.create_connection(("127.0.0.1", TCP_PORT), timeout=1))
    attempt("host-unix", lambda: socket.socket(socket.AF_UNIX).connect(UNIX_NAME))
    try:  # a datagram gives no error either way; the host checks it never arrived
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"hello", ("127.0.0.1", UDP_PORT))
    except OSError:
        pass
    if not reached:
        raise ConnectionError("no network: " + "; ".join(refused))
"""


async def test_network_is_unreachable_outside_and_on_the_host(sandbox: Sandbox, host_listeners: dict[str, Any]) -> None:
    source = answer(
        NETWORK_ACT, TCP_PORT=host_listeners["tcp"], UDP_PORT=host_listeners["udp"], UNIX_NAME=host_listeners["unix"]
    )
    grade_ = await grade(sandbox, source)
    assert_zero(grade_, r"raised ConnectionError: no network: outside: \w+; dns: \w+; host-tcp: \w+", "ConnectionError")
    ready, _, _ = select.select(host_listeners["sockets"], [], [], 0.2)
    assert not ready, "a host socket heard from the sandbox"


# ---------------------------------------------------------------------------------------------
# secrets and other people's files


async def test_service_files_environment_and_settings_are_out_of_reach(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = "escape-test-" + secrets.token_hex(16)
    database = tmp_path / "var" / "exam.db"
    database.parent.mkdir()
    database.write_text("SQLite format 3\0 candidates, tokens")
    monkeypatch.setenv("EXAM_TOKEN_SECRET", secret)
    monkeypatch.setenv("EXAM_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("EXAM_ENVIRONMENT", "test")
    service_files = [
        REPO / "pyproject.toml",
        REPO / "exam_service" / "core" / "settings.py",
        REPO / "alembic.ini",
        REPO / ".env",
        REPO / "var" / "exam.db",
        database,
    ]
    assert (REPO / "pyproject.toml").is_file()
    assert database.is_file()
    act = """
        import json
        secret = bytes.fromhex(SECRET_HEX)
        leaks, refused = [], []
        for path in FILES:
            try:
                with open(path, "rb") as handle:
                    handle.read()
                leaks.append(path)
            except OSError as exc:
                refused.append(type(exc).__name__)
        exam_keys = [k for k in os.environ if k.startswith("EXAM_")]
        leaks += exam_keys
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/environ", "rb") as handle:
                    if secret in handle.read():
                        leaks.append(f"/proc/{pid}/environ")
            except OSError:
                pass
        print("ENV-KEYS " + json.dumps(sorted(os.environ)), file=sys.stderr)
        if not leaks:
            raise PermissionError(f"no service file, setting or secret in reach ({sorted(set(refused))})")
        print("LEAKED " + json.dumps(leaks), file=sys.stderr)
    """
    source = answer(act, SECRET_HEX=secret.encode().hex(), FILES=[str(p) for p in service_files])
    grade_ = await grade(sandbox, source)
    assert_zero(grade_, r"raised PermissionError: no service file, setting or secret in reach", "PermissionError")
    everything = json.dumps(grade_.as_dict())
    assert secret not in everything, describe(grade_)
    assert "LEAKED" not in everything, describe(grade_)
    keys = json.loads(re.findall(r"ENV-KEYS (\[.*\])", check(grade_, "cli").log)[0])
    assert not [k for k in keys if k.startswith("EXAM_")], f"the sandbox saw {keys}"
    assert set(keys) <= {"PATH", "HOME", "TMPDIR", "LANG", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "PWD"} | {
        "GIT_CONFIG_COUNT",
        "GIT_CONFIG_KEY_0",
        "GIT_CONFIG_VALUE_0",
        "LC_CTYPE",
    }, f"unexpected environment in the sandbox: {keys}"


async def test_other_candidates_files_are_out_of_reach(sandbox: Sandbox) -> None:
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="exam-grade-other-candidate-") as other:
        theirs = Path(other) / "input" / "solution.py"
        theirs.parent.mkdir()
        theirs.write_text(f"# {token}\ndef solve(n):\n    return 2 * n\n")
        theirs.chmod(0o644)
        for folder in (Path(other), theirs.parent):
            folder.chmod(0o755)  # world-readable on the host: only the sandbox keeps it out of reach
        act = """
            import glob
            token = bytes.fromhex(TOKEN_HEX)
            paths = [THEIRS] + glob.glob("/tmp/exam-grade-*/**", recursive=True) + glob.glob(TMP + "/**/*.py")
            for path in paths:
                try:
                    with open(path, "rb") as handle:
                        if token in handle.read():
                            break
                except OSError:
                    pass
            else:
                raise FileNotFoundError(f"another candidate's answer is not in reach ({len(paths)} paths tried)")
        """
        source = answer(act, TOKEN_HEX=token.encode().hex(), THEIRS=str(theirs), TMP=tempfile.gettempdir())
        grade_ = await grade(sandbox, source)
        assert_zero(grade_, r"raised FileNotFoundError: another candidate's answer is not in reach", "FileNotFound")
        assert theirs.read_text().startswith(f"# {token}"), "the other candidate's file was changed"


# the omniscient adversary: it knows what to look for, by hash only, so it never holds the marker itself
SCANNER = r"""
import gc, hashlib, json, re

DIGITS = re.compile(rb"[0-9]{%d,}" % min(LENGTHS))


def _hits(blob, where, found):
    for match in DIGITS.finditer(blob):
        run = match.group()[:4096]
        for length in LENGTHS:
            for i in range(len(run) - length + 1):
                label = NEEDLES.get(hashlib.sha256(run[i:i + length]).hexdigest())
                if label:
                    places = found.setdefault(label, [])
                    if where not in places and len(places) < 20:
                        places.append(where)


def _read(path, limit=8 << 20):
    with open(path, "rb") as handle:
        return handle.read(limit)


def scan():
    found, stats = {}, {"files": 0, "file_bytes": 0, "memory_bytes": 0, "objects": 0, "denied": {}}
    skip = set(SKIP) | {"/proc", "/sys", "/dev"}

    def denied(path, exc):
        stats["denied"][path] = type(exc).__name__

    # every file the candidate can read, but the host's read-only system and Python trees
    for top, dirs, files in os.walk("/", onerror=lambda exc: denied(exc.filename, exc)):
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in skip]
        for name in files:
            path = os.path.join(top, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            try:
                data = _read(path)
            except OSError as exc:
                denied(path, exc)
                continue
            stats["files"] += 1
            stats["file_bytes"] += len(data)
            _hits(data, path, found)
    # every process's /proc files: the harness, bwrap, ourselves
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    stats["pids"] = pids
    for pid in pids:
        for leaf in ("cmdline", "environ", "status", "stat", "maps", "io", "limits", "mountinfo", "wchan", "fd"):
            path = f"/proc/{pid}/{leaf}"
            try:
                if leaf == "fd":
                    for fd in os.listdir(path):
                        target = os.readlink(f"{path}/{fd}")
                        if not target.startswith(("pipe:", "socket:", "anon_inode:", "/dev/")):
                            _hits(_read(f"{path}/{fd}"), f"{path}/{fd}", found)
                else:
                    _hits(_read(path), path, found)
            except OSError as exc:
                denied(path, exc)
    try:
        with open(f"/proc/{os.getppid()}/mem", "rb") as handle:
            handle.read(1)
    except OSError as exc:
        denied("parent-mem", exc)
    # the harness's job on stdin
    stdin = os.read(0, 1 << 20)
    stats["stdin_bytes"] = len(stdin)
    _hits(stdin, "stdin", found)
    # our own memory, byte by byte: whatever the harness parsed, copied or freed is in here (the
    # harness made itself, and so us, non-dumpable: /proc/self/mem is root's until we undo that)
    import ctypes
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
    with open("/proc/self/maps") as handle:
        regions = [line.split() for line in handle]
    with open("/proc/self/mem", "rb", 0) as mem:
        for region in regions:
            start, end = (int(x, 16) for x in region[0].split("-"))
            if "r" not in region[1] or (len(region) > 5 and region[5] in ("[vvar]", "[vsyscall]")):
                continue
            tail, pos = b"", start
            while pos < end:
                size = min(end - pos, 4 << 20)
                try:
                    mem.seek(pos)
                    chunk = mem.read(size)
                except (OSError, ValueError, OverflowError):
                    break
                stats["memory_bytes"] += len(chunk)
                _hits(tail + chunk, "memory", found)
                tail, pos = chunk[-64:], pos + size
    # every live Python object and frame (a number is binary in memory; look at it as text)
    def values(obj):
        if isinstance(obj, dict):
            return [*obj.keys(), *obj.values()]
        if isinstance(obj, (list, tuple, set, frozenset)):
            return list(obj)
        return []

    frames, frame = [], sys._getframe()
    while frame:
        frames.append(frame.f_locals)
        frame = frame.f_back
    for obj in gc.get_objects() + frames:
        stats["objects"] += 1
        for value in values(obj):
            if type(value) is int and value > 10**12:
                _hits(str(value).encode(), "objects", found)
            elif type(value) in (str, bytes) and len(value) >= 12:
                _hits(value.encode("utf-8", "replace") if type(value) is str else value, "objects", found)
    stats["denied"] = {"count": len(stats["denied"]), "some": sorted(stats["denied"].items())[:12]}
    return found, stats


def report(where):
    found, stats = scan()
    print("SCAN-RESULT " + json.dumps({"where": where, "found": found, "stats": stats}), file=sys.stderr)
    for label in ("hidden_expect", "cli_expect"):
        if label in found:
            return label
    return None
"""


def _needles(**labelled: int) -> dict[str, str]:
    return {hashlib.sha256(str(value).encode()).hexdigest(): label for label, value in labelled.items()}


def _scan_result(outcome: CheckOutcome) -> dict[str, Any]:
    match = re.search(r"SCAN-RESULT (\{.*\})", outcome.log)
    assert match, f"{outcome.id}: the scan did not report:\n{outcome.log[-2000:]}"
    result: dict[str, Any] = json.loads(match.group(1))
    return result


async def test_hidden_expected_values_never_reach_the_sandbox(sandbox: Sandbox) -> None:
    cli_arg = 10**14 + secrets.randbelow(4 * 10**14)
    cli_marker = 2 * cli_arg
    task = make_task(
        limits={**FAST, "cpu_seconds": 15, "wall_seconds": 25, "memory_mb": 512},
        cli_stdin=f"{cli_arg}\n",
        cli_stdout=str(cli_marker),
    )
    # from the host: what the grader hands the sandbox holds the inputs, never the expected values
    for grader_check in task.grader.checks:
        sent = json.dumps(engine.job_for(grader_check)) + json.dumps(engine.work_files(task, {"solution.py": GOOD}))
        assert str(HIDDEN_MARKER) not in sent, f"{grader_check.id} sends {sent}"
        assert str(cli_marker) not in sent, f"{grader_check.id} sends {sent}"
    assert str(HIDDEN_ARG) in json.dumps(engine.job_for(task.grader.checks[0])), "the hidden input is sent"
    python_prefix = str(Path(sys.executable).resolve().parent.parent)
    needles = _needles(hidden_expect=HIDDEN_MARKER, cli_expect=cli_marker, hidden_arg=HIDDEN_ARG, cli_arg=cli_arg)
    # the cheat: find the expected values and return them; else guess from the stem
    act = """
        global SOLVED
        if SOLVED is None:
            SOLVED = report("call" if __name__ != "__main__" else "command") or "nothing"
        if SOLVED != "nothing":
            return "the scan found " + SOLVED
        return GUESS
    """
    source = answer(
        act,
        prelude=SCANNER,
        NEEDLES=needles,
        LENGTHS=sorted({len(str(v)) for v in (HIDDEN_MARKER, cli_marker, HIDDEN_ARG, cli_arg)}),
        SKIP=sorted({*SYSTEM_DIRS, sys.prefix, sys.base_prefix, python_prefix}),
        GUESS=STEM_GUESS,
        SOLVED=None,
    )
    grade_ = await grade(sandbox, source, task)
    report = describe(grade_)
    assert_zero(grade_, rf"returned {STEM_GUESS}, expected {HIDDEN_MARKER}", rf"got '{STEM_GUESS}'")
    call_scan, cli_scan = _scan_result(check(grade_, "values")), _scan_result(check(grade_, "cli"))
    for scan in (call_scan, cli_scan):
        stats = scan["stats"]
        assert not {"hidden_expect", "cli_expect"} & set(scan["found"]), f"an expected value leaked: {scan}"
        assert stats["files"] > 10, scan
        assert stats["memory_bytes"] > 5_000_000, scan
        assert stats["objects"] > 1000, scan
    # the scanner works: it sees the inputs the job legitimately carries
    assert {"objects", "memory"} <= set(call_scan["found"].get("hidden_arg", [])), f"{call_scan}\n{report}"
    stdin_file = "/tmp/.stdin"  # noqa: S108 - the harness's file in the sandbox
    assert stdin_file in cli_scan["found"].get("cli_arg", []), f"{cli_scan}\n{report}"
    assert call_scan["stats"]["stdin_bytes"] == 0, "the candidate could read the harness's stdin"
    assert "parent-mem" in json.dumps(call_scan["stats"]["denied"]), f"the harness's memory was readable: {call_scan}"


# ---------------------------------------------------------------------------------------------
# the file system


async def test_writes_outside_the_work_folder_never_reach_the_host(sandbox: Sandbox, tmp_path: Path) -> None:
    tag = "escape-" + secrets.token_hex(8)
    tmp_path.chmod(0o777)
    host_targets = [
        Path(tempfile.gettempdir()) / tag,
        REPO / tag,
        REPO / "exam_service" / tag,
        Path("/usr") / tag,
        Path("/usr/local/bin") / tag,
        Path(sys.prefix) / tag,
        tmp_path / tag,
        Path("/etc") / tag,
        Path("/") / tag,
    ]
    act = """
        written, refused = [], []
        for path in TARGETS:
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as handle:
                    handle.write("pwned")
                written.append(path)
            except OSError as exc:
                refused.append(f"{path}: {type(exc).__name__}")
        print("WRITTEN", written, file=sys.stderr)
        if refused:
            raise PermissionError(f"{len(refused)} of {len(TARGETS)} writes refused")
    """
    source = answer(act, TARGETS=[str(p) for p in host_targets])
    grade_ = await grade(sandbox, source)
    assert_zero(grade_, r"raised PermissionError: \d+ of \d+ writes refused", "PermissionError")
    appeared = [p for p in host_targets if p.exists()]
    assert not appeared, f"the sandbox wrote on the host: {appeared}"


async def test_symlinks_out_of_the_work_folder_lead_nowhere(sandbox: Sandbox, tmp_path: Path) -> None:
    token = secrets.token_hex(16)
    host_file = tmp_path / "other-candidate.txt"
    host_file.write_text(token)
    host_file.chmod(0o644)
    tmp_path.chmod(0o755)
    tag = "escape-" + secrets.token_hex(8)
    links = {
        "shadow": "/etc/shadow",
        "passwd": "/etc/passwd",
        "pyproject": str(REPO / "pyproject.toml"),
        "repo": str(REPO),  # then repo/pyproject.toml
        "host_file": str(host_file),
        "init_root": "/proc/1/root/etc/shadow",
        "harness_root": "/proc/{ppid}/root/etc/passwd",
        "out": str(REPO / tag),  # written through
    }
    for target in ("/etc/shadow", "/etc/passwd", str(REPO / "pyproject.toml"), str(host_file)):
        assert Path(target).exists(), f"{target} should exist on the host for this test to mean anything"
    act = """
        leaked, refused = [], []
        for name, target in LINKS.items():
            if not os.path.lexists(name):
                os.symlink(target.format(ppid=os.getppid()), name)
        for path in ["shadow", "passwd", "pyproject", "repo/pyproject.toml", "host_file", "init_root", "harness_root"]:
            try:
                with open(path, "rb") as handle:
                    handle.read()
                leaked.append(path)
            except OSError as exc:
                refused.append(f"{path}: {type(exc).__name__}")
        try:
            with open("out", "w") as handle:
                handle.write("pwned")
            leaked.append("out")
        except OSError as exc:
            refused.append(f"out: {type(exc).__name__}")
        if not leaked:
            raise FileNotFoundError("every link leads nowhere: " + ", ".join(refused))
    """
    grade_ = await grade(sandbox, answer(act, LINKS=links))
    assert_zero(grade_, r"raised FileNotFoundError: every link leads nowhere: shadow: \w+", "FileNotFoundError")
    assert not (REPO / tag).exists(), "a write through a symlink reached the host"


@pytest.mark.parametrize(
    "name",
    ["../escape-{tag}.py", "../../escape-{tag}.py", "sub/../../escape-{tag}.py", "/tmp/escape-{tag}.py", "."],  # noqa: S108
)
async def test_a_file_name_leaving_the_work_folder_is_refused(sandbox: Sandbox, name: str) -> None:
    tag = secrets.token_hex(8)
    bad = name.format(tag=tag)
    as_answer = make_task(answer_files=["solution.py", bad])
    as_starter = make_task(starter_files=[{"path": bad.lstrip("/"), "content": "pwned"}] if bad != "." else [])
    with pytest.raises(ValueError, match="leaves the work folder"):
        await engine.grade_task(as_answer, {"solution.py": GOOD, bad: "pwned"}, sandbox)
    if bad.startswith(".."):
        with pytest.raises(ValueError, match="leaves the work folder"):
            await engine.grade_task(as_starter, {"solution.py": GOOD}, sandbox)
    tmp = Path(tempfile.gettempdir())
    appeared = [p for p in (tmp / f"escape-{tag}.py", Path(f"/escape-{tag}.py")) if p.exists()]
    appeared += [p for p in host_files_named(tmp, f"escape-{tag}") if p.parent.parent == tmp]
    assert not appeared, f"the engine wrote outside its scratch folder: {appeared}"


# ---------------------------------------------------------------------------------------------
# the grader's own code


async def test_the_graders_modules_cannot_be_imported(sandbox: Sandbox) -> None:
    act = """
        print("SYS-PATH", sys.path, file=sys.stderr)
        import exam_service.grading.verdict
    """
    grade_ = await grade(sandbox, answer(act))
    assert_zero(grade_, r"raised ModuleNotFoundError: No module named 'exam_service'", "No module named 'exam_service'")
    assert str(REPO / "exam_service") not in check(grade_, "cli").log


# ---------------------------------------------------------------------------------------------
# killing, stopping and exiting


@pytest.mark.parametrize(
    ("act", "prelude", "values"),
    [
        pytest.param("", "os.kill(os.getppid(), signal.SIGKILL)", r"ended without a report", id="kill-ppid-at-import"),
        pytest.param("os.kill(os.getppid(), signal.SIGKILL)", "", r"ended without a report", id="kill-ppid"),
        pytest.param("os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)", "", r"ended without a report", id="killpg"),
        pytest.param("os.kill(-1, signal.SIGKILL)", "", r"ended without a report", id="kill-all"),
        pytest.param("os.killpg(0, signal.SIGKILL)", "", r"no result \(the code exited", id="killpg-own"),
        pytest.param("os.kill(1, signal.SIGKILL)", "", r"raised PermissionError", id="kill-init"),
        pytest.param("os.kill(GRADER_PID, signal.SIGKILL)", "", r"raised ProcessLookupError", id="kill-grader-pid"),
        pytest.param("os.kill(os.getppid(), signal.SIGSTOP)", "", r"wall-clock limit", id="stop-ppid"),
    ],
)
async def test_killing_the_parent_fails_the_grade_and_the_grader_survives(
    sandbox: Sandbox, act: str, prelude: str, values: str
) -> None:
    grader_pid = os.getpid()
    grade_ = await grade(sandbox, answer(act, prelude=prelude, GRADER_PID=grader_pid))
    assert_zero(grade_, values, r"stdout: got ''")
    assert not any("CPU" in f for c in grade_.checks for f in c.feedback), f"not a CPU limit:\n{describe(grade_)}"
    assert os.getpid() == grader_pid
    os.kill(grader_pid, 0)  # still here
    again = await grade(sandbox, GOOD)  # and still grading
    assert again.points == again.max_points, describe(again)


async def test_sleeping_forever_hits_the_wall_limit(sandbox: Sandbox) -> None:
    act = """
        import time
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        time.sleep(10**6)
    """
    started = time.monotonic()
    grade_ = await grade(sandbox, answer(act))
    elapsed = time.monotonic() - started
    assert_zero(grade_, r"wall-clock limit", r"wall-clock limit")
    all_cases_without_result(grade_)
    assert all(c.limit == "wall" for c in grade_.checks), describe(grade_)
    assert elapsed < FAST["wall_seconds"] + 2, f"took {elapsed:.1f} s"


@pytest.mark.parametrize(
    "prelude",
    [
        pytest.param("os._exit(0)", id="os._exit"),
        pytest.param("sys.exit(0)", id="sys.exit"),
        pytest.param("sys.stdout.flush()\nos.kill(os.getpid(), signal.SIGKILL)", id="SIGKILL-self"),
    ],
)
async def test_early_exit_at_import_scores_nothing(sandbox: Sandbox, prelude: str) -> None:
    grade_ = await grade(sandbox, answer(prelude=prelude))
    assert_zero(grade_, r"no result", r"stdout: got ''")
    all_cases_without_result(grade_)
    assert all(c.limit is None for c in grade_.checks), f"no limit was hit:\n{describe(grade_)}"


@pytest.mark.parametrize(
    ("act", "points", "reason"),
    [
        # the first case returned; the exit loses the rest
        pytest.param("if n == 5:\n    os._exit(0)", 1.0, r"solve\(5\): no result", id="os._exit"),
        pytest.param(
            "if n == 5:\n    os.kill(os.getpid(), signal.SIGKILL)", 1.0, r"solve\(5\): no result", id="SIGKILL"
        ),
        # SystemExit is the second case's answer; the harness goes on to the third
        pytest.param("if n == 5:\n    sys.exit(0)", 2.0, r"solve\(5\): raised SystemExit", id="sys.exit"),
    ],
)
async def test_early_exit_between_cases_counts_only_the_cases_that_returned(
    sandbox: Sandbox, act: str, points: float, reason: str
) -> None:
    grade_ = await grade(sandbox, answer(act), only=["values"])
    values = check(grade_, "values")
    assert values.points == points, describe(grade_)
    assert any(re.search(reason, f) for f in values.feedback), describe(grade_)
    assert not any(f.startswith("solve(2)") for f in values.feedback), describe(grade_)
    assert values.limit is None, f"no limit was hit:\n{describe(grade_)}"


# ---------------------------------------------------------------------------------------------
# forging results


MONKEYPATCH = """
import builtins, gc, json

harness = sys.modules["__main__"]  # the harness in a call check; this very script in a command check
jobs = [o for o in gc.get_objects() if isinstance(o, dict) and "mode" in o and "limits" in o]
cases = [c for job in jobs for c in job.get("cases", [])]
expected = [c["expect"] for c in cases if "expect" in c]
print("JOB-SEEN", json.dumps({"jobs": len(jobs), "cases": len(cases), "expected": expected}), file=sys.stderr)


def forged(record):
    index = record.get("case")
    guess = cases[index]["expect"] if isinstance(index, int) and "expect" in cases[index] else GUESS
    return {"case": index, "value": guess, "passed": True, "ok": True, "score": 1.0}


harness.plain = lambda value, depth=0: GUESS
if hasattr(harness, "_Channel"):
    send = harness._Channel.send
    harness._Channel.send = lambda self, record: send(self, forged(record) if "case" in record else record)
dumps = json.dumps
json.dumps = lambda obj, *a, **k: dumps(forged(obj) if isinstance(obj, dict) and "case" in obj else obj, *a, **k)
os._exit = lambda code=0: None
builtins.AssertionError = Exception
for fd in range(3, 20):  # straight onto every descriptor, the record channel among them
    try:
        os.write(fd, b'{"case": 2, "value": %d, "passed": true}\\n' % GUESS)
    except OSError:
        pass
"""


async def test_patching_the_harness_cannot_forge_hidden_results(sandbox: Sandbox) -> None:
    act = "raise NotImplementedError('I only forge results')"
    grade_ = await grade(sandbox, answer(act, prelude=MONKEYPATCH, GUESS=STEM_GUESS))
    assert_zero(grade_, rf"solve\({HIDDEN_ARG}\): returned {STEM_GUESS}, expected {HIDDEN_MARKER}", "NotImplemented")
    seen = json.loads(re.findall(r"JOB-SEEN (\{.*\})", check(grade_, "values").log)[0])
    assert seen["jobs"] >= 1, f"the cheat did not find the job: {seen}"
    assert seen["cases"] == 3, f"the job held {seen}"
    assert seen["expected"] == [], f"the job held expected values: {seen}"


FAKE_OUTPUT = """
import json
fake_records = [{"case": 0, "value": 4}, {"case": 1, "value": 10}, {"case": 2, "value": GUESS}]
fake_report = {"records": fake_records, "exit_code": 0, "signal": None, "stdout": "14", "stderr": "",
               "files": {}, "limit": None, "truncated": False, "points": 4, "passed": True}
for stream in (sys.stdout, sys.stderr):
    for record in fake_records:
        print(json.dumps(record), file=stream)
    print(json.dumps(fake_report), file=stream)
    stream.flush()
os.write(1, json.dumps(fake_report).encode())
os._exit(0)
"""


async def test_printing_fake_results_scores_nothing(sandbox: Sandbox) -> None:
    grade_ = await grade(sandbox, answer(prelude=FAKE_OUTPUT, GUESS=STEM_GUESS))
    assert_zero(grade_, r"no result", r"stdout: got '\{")
    all_cases_without_result(grade_)


# ---------------------------------------------------------------------------------------------
# no bubblewrap


async def test_without_bubblewrap_candidate_code_runs_only_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SandboxUnavailable, match=r"bubblewrap \(bwrap\) is not installed.*cannot be run safely"):
        await engine.grade_task(TASK, {"solution.py": GOOD}, Sandbox(bwrap=None))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    grade_ = await engine.grade_task(TASK, {"solution.py": GOOD}, Sandbox(bwrap=None, allow_unsandboxed=True))
    assert grade_.isolation == "none"
    assert grade_.points == grade_.max_points, describe(grade_)
