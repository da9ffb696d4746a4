"""Fitted parameters: the one place that reads them.

In:  the parameter file `formcheck/data/spine.json` (or another path), written by
     `benchmarks/fit_spine.py` (key "params") and `benchmarks/fit_verdict.py` (key "verdict").
Out: `SpineParams` (where the back outline is read, gains) and `RoundingRule` (with its
     `VerdictModel`); built-in defaults for anything the file lacks.
"""

from __future__ import annotations

import json
from pathlib import Path

from .assess import RoundingRule
from .spine import SpineParams
from .verdict import VerdictModel

PARAMS_PATH = Path(__file__).resolve().parent / "data" / "spine.json"


def read_params(path: Path | None = None) -> dict:
    """The parameter file as a dict; {} when it is missing."""
    path = path or PARAMS_PATH
    return json.loads(path.read_text()) if path.exists() else {}


def spine_params(path: Path | None = None) -> SpineParams:
    """The fitted outline parameters (a fresh object on every call)."""
    data = read_params(path).get("params", {})
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return SpineParams(**{k: v for k, v in fields.items() if k in SpineParams.__dataclass_fields__})


def rounding_rule(path: Path | None = None) -> RoundingRule:
    """The fitted rounding rule and verdict model (a fresh object on every call)."""
    doc = read_params(path)
    data = doc.get("rule", {})
    rule = RoundingRule(
        **{
            k: v
            for k, v in data.items()
            if k in RoundingRule.__dataclass_fields__ and k != "verdict"
        }
    )
    if "verdict" in doc:
        rule.verdict = VerdictModel.from_dict(doc["verdict"])
    return rule
