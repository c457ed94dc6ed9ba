"""Reading YAML configuration files and describing validation errors, for scenarios and experiments,
and the pieces of schema the experiment files share (``Bounds``).

Both kinds of file report a problem as one line: the file, the field path (``levers[0].budget``),
what was expected and what was found, and for an unknown key the closest valid one.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import RegsimError

_TAG = re.compile(r"(int|float|str|bool|none|(list|dict|literal|function-\w+|union|tagged-union)\[.*\])|\[key\]")
"""Pydantic location parts that are union branches or mapping keys, not fields."""


def read_mapping(path: Path, kind: str, error: type[RegsimError]) -> dict[str, Any]:
    """The YAML mapping in ``path``; ``error`` (naming the file, and line and column of a syntax
    error) if the file is missing, unreadable or not a mapping. ``kind`` names the file in messages."""
    if not path.is_file():
        raise error(f"{path}: {kind} file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise error(f"{path}: YAML syntax error at {where}: {exc.problem}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise error(f"{path}: unreadable YAML: {exc}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping of {kind} fields, found {type(data).__name__}")
    return data


def validated_file[Schema: BaseModel](path: Path, schema: type[Schema], kind: str, error: type[RegsimError]) -> tuple[Schema, str]:
    """Read ``path`` and validate it against ``schema``: the model and the file's SHA-256, or
    ``error`` naming the file and the field path."""
    raw = read_mapping(path, kind, error)
    try:
        spec = schema.model_validate(raw)
    except ValidationError as exc:
        raise error(f"{path}: {describe(exc.errors(), schema)}") from None
    return spec, hashlib.sha256(path.read_bytes()).hexdigest()


def named_scenario(path: Path, relative: str, error: type[RegsimError]) -> Path:
    """The scenario file an experiment file names (``scenario:``, relative to the experiment file)."""
    scenario = path.parent / relative
    if not scenario.is_file():
        raise error(f"{path}: scenario: scenario file not found: {scenario}")
    return scenario


class Bounds(BaseModel):
    """A range [low, high] of one varied quantity, in the quantity's own unit (low below high)."""

    model_config = ConfigDict(extra="forbid")
    low: float = Field(allow_inf_nan=False)
    high: float = Field(allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self


def describe(errors: list[dict[str, Any]], root: type[BaseModel]) -> str:
    """One line for the most specific of pydantic's ``errors`` of a ``root`` model."""
    error = max(errors, key=lambda e: (len([p for p in e["loc"] if not _is_tag(p)]), e["type"] == "extra_forbidden"))
    location = tuple(part for part in error["loc"] if not _is_tag(part))
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).lstrip(".") or "(top level)"
    if error["type"] == "extra_forbidden":
        valid = fields_at(root, location[:-1])
        close = difflib.get_close_matches(str(location[-1]), valid, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(valid)}"
        return f"{path}: unknown key{hint}"
    if error["type"] == "missing":
        return f"{path}: required field is missing"
    message = error["msg"].removeprefix("Value error, ")
    found = error.get("input")
    if not location:
        return message
    if error["type"] == "value_error" and isinstance(found, dict | list):  # a whole-object check: the message says it
        return f"{path}: {message}"
    return f"{path}: {message} (found {found!r})"


def fields_at(root: type[BaseModel], location: tuple[Any, ...]) -> list[str]:
    """Field names of the model reached by walking ``location`` from ``root``; list indices and
    mapping keys step into the container's element type."""
    annotation: Any = root
    for part in location:
        if typing.get_origin(annotation) in (list, dict):
            annotation = typing.get_args(annotation)[-1]
            continue
        model = _model_in((annotation,))
        if model is None or part not in model.model_fields:
            return []
        annotation = model.model_fields[part].annotation
    model = _model_in((annotation,))
    return list(model.model_fields) if model is not None else []


def _model_in(annotations: tuple[Any, ...]) -> Any:
    """The first pydantic model in the annotations (or inside their unions); else the annotation."""
    for annotation in annotations:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        for inner in typing.get_args(annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and _TAG.fullmatch(part) is not None
