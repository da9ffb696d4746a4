"""Where `formcheck analyze` writes: checked before the analysis, written all-or-nothing.

In:  the output paths asked for (report JSON, angles CSV, annotated MP4) and every input video of
     the run.
Out: `check_outputs` raises `OutputError` for an output that is an input (the same file, also
     through a symbolic or hard link), a folder, the same file as another output, or an existing
     file that is not a formcheck output of that kind. `staged` hands out temporary paths in the
     outputs' own folders and renames them into place only when the whole analysis succeeded,
     so a failed run leaves neither a half-written file nor a damaged old one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import FormcheckError
from .writers import WRITERS


class OutputError(FormcheckError):
    """An output path that would destroy an input or a file formcheck did not write."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(outputs: dict[str, Path | None], inputs: Sequence[Path], video: Path) -> None:
    """Refuse outputs that would overwrite an input, each other, or a file that is not ours.

    `outputs` maps a kind ("json", "csv", "video") to its path (None when not asked for);
    `video` is the input they are for (named in the message).
    """
    seen: list[tuple[str, Path]] = []
    for kind, path in outputs.items():
        if path is None:
            continue
        name = f"{video.name}: --{kind} {path.name or path}"
        for clip in inputs:
            if _same_file(path, clip):
                raise OutputError(
                    f"{name} is the input video {clip.name}; refusing to overwrite it. "
                    "Choose another output path."
                )
        for other_kind, other in seen:
            if path.absolute() == other.absolute() or _same_file(path, other):
                raise OutputError(
                    f"{name} is also the --{other_kind} output. Give each output its own file."
                )
        seen.append((kind, path))
        folder = next((p for p in path.absolute().parents if p.exists()), None)
        if folder is not None and not folder.is_dir():
            raise OutputError(
                f"{name} cannot be written: {folder.name} is a file, not a folder. "
                "Choose another output path."
            )
        if path.is_dir():
            raise OutputError(f"{name} is a folder. Give a file name.")
        if path.exists():
            what, looks_right = WRITERS[kind].what, WRITERS[kind].looks_like
            if not path.is_file() or not looks_right(path):
                raise OutputError(
                    f"{name} already exists and is not {what}; refusing to overwrite it. "
                    "Remove it or choose another output path."
                )


def _temporary(path: Path) -> Path:
    """A hidden, unused name next to `path`, keeping its extension."""
    return path.with_name(f".{path.stem}.{secrets.token_hex(4)}.part{path.suffix}")


@contextmanager
def staged(outputs: dict[str, Path | None]) -> Iterator[dict[str, Path | None]]:
    """Temporary paths for the outputs; renamed into place when the block ends without error,
    removed when it raises."""
    temps = {kind: (_temporary(path) if path else None) for kind, path in outputs.items()}
    finals = {str(temp): outputs[kind] for kind, temp in temps.items() if temp is not None}
    try:
        try:
            yield temps
            for kind, temp in temps.items():
                final = outputs[kind]
                if temp is not None and final is not None:
                    os.replace(temp, final)
        except OSError as exc:
            final = finals.get(str(exc.filename))
            if final is None:
                raise
            raise OSError(exc.errno, exc.strerror, str(final)) from exc
    finally:
        for temp in temps.values():
            if temp is not None:
                temp.unlink(missing_ok=True)
