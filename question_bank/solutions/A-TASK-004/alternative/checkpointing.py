"""Crash-safe checkpointing and exact resume for a toy training loop (standard library only)."""
import json
import os
import random
import re
import tempfile
from os import fsync
from pathlib import Path


def toy_update(weight, rng):
    """One 'training step' of the toy model. Do not change."""
    return weight + rng.uniform(-1.0, 1.0) * 0.1


def rng_state_to_json(rng):
    """JSON-serialisable form of a random.Random's state. Do not change."""
    version, internal, gauss_next = rng.getstate()
    return [version, list(internal), gauss_next]


def rng_state_from_json(data):
    """State tuple for random.Random.setstate(), from rng_state_to_json's output. Do not change."""
    version, internal, gauss_next = data
    return (version, tuple(internal), gauss_next)


_NAME = re.compile(r"^ckpt-(?P<step>[0-9]{8})\.json$")


def _by_step(directory):
    """{step: Path} of the checkpoints in `directory`."""
    folder = Path(directory)
    if not folder.is_dir():
        return {}
    found = {}
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match and entry.is_file():
            found[int(match["step"])] = entry
    return found


def save_checkpoint(state, directory, step, keep_last=3):
    """Atomically write ckpt-NNNNNNNN.json and keep only the `keep_last` highest steps."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"ckpt-{step:08d}.json"
    payload = json.dumps({"step": step, "state": state}, separators=(",", ":"))
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".partial", delete=False, encoding="utf-8") as tmp:
        tmp.write(payload)
        tmp.flush()
        fsync(tmp)  # os.fsync accepts any object with fileno()
    try:
        Path(tmp.name).replace(target)  # os.replace under the hood
    finally:
        Path(tmp.name).unlink(missing_ok=True)
    checkpoints = _by_step(folder)
    steps = sorted(checkpoints, reverse=True)
    for old_step in steps[max(keep_last, 1):]:
        checkpoints[old_step].unlink(missing_ok=True)
    return str(target)


def latest_checkpoint(directory):
    """Path of the checkpoint with the highest step number, or None."""
    checkpoints = _by_step(directory)
    return str(checkpoints[max(checkpoints)]) if checkpoints else None


def load_latest(directory):
    """(step, state) of the highest readable checkpoint, or None."""
    checkpoints = _by_step(directory)
    for step in sorted(checkpoints, reverse=True):
        try:
            data = json.loads(checkpoints[step].read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and {"step", "state"} <= data.keys():
            return data["step"], data["state"]
    return None


def train(total_steps, directory, checkpoint_every, seed=0, crash_at=None):
    """Toy training loop that resumes exactly from the latest checkpoint."""
    rng = random.Random(seed)
    resumed = load_latest(directory)
    if resumed is None:
        step, weight = 0, 0.0
    else:
        state = resumed[1]
        step, weight = state["step"], state["weight"]
        rng.setstate(rng_state_from_json(state["rng_state"]))
    while step < total_steps:
        weight = toy_update(weight, rng)
        step += 1
        if step == crash_at:
            raise RuntimeError("simulated crash")
        if step % checkpoint_every == 0 or step == total_steps:
            state = {"step": step, "weight": weight, "rng_state": rng_state_to_json(rng)}
            save_checkpoint(state, directory, step)
    return {"step": step, "weight": weight}
