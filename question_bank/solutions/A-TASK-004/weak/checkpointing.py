"""Crash-safe checkpointing and exact resume for a toy training loop (standard library only)."""
import json
import os
import random
import glob


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


def save_checkpoint(state, directory, step, keep_last=3):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"ckpt-{step:08d}.json")
    with open(path, "w") as f:  # written in place: a crash here leaves a truncated checkpoint
        json.dump({"step": step, "state": state}, f)
    for old in sorted(glob.glob(os.path.join(directory, "ckpt-[0-9]*.json")))[:-keep_last]:
        os.remove(old)
    return path


def latest_checkpoint(directory):
    found = sorted(glob.glob(os.path.join(directory, "ckpt-*.json")))
    return found[-1] if found else None


def load_latest(directory):
    for path in sorted(glob.glob(os.path.join(directory, "ckpt-*.json")), reverse=True):
        try:
            with open(path) as f:
                data = json.load(f)
            return data["step"], data["state"]
        except (ValueError, KeyError, TypeError):
            continue
    return None


def train(total_steps, directory, checkpoint_every, seed=0, crash_at=None):
    step, weight, rng = 0, 0.0, random.Random(seed)
    found = load_latest(directory)
    if found:
        step, weight = found[1]["step"], found[1]["weight"]
        rng.setstate(rng_state_from_json(found[1]["rng"]))
    while step < total_steps:
        weight = toy_update(weight, rng)
        step += 1
        if crash_at == step:
            raise RuntimeError("simulated crash")
        if step % checkpoint_every == 0 or step == total_steps:
            save_checkpoint({"step": step, "weight": weight, "rng": rng_state_to_json(rng)}, directory, step)
    return {"step": step, "weight": weight}
