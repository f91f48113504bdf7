"""Reading a file a person sent, as hostile input: size-capped, UTF-8 only, YAML without
aliases or duplicate keys, checked by a strict pydantic schema, and every problem told with
its field path (``members[2].leader: ...``) and a short, safe view of the offending value.

``services.intake`` builds the contest's file formats on these; anything else that reads a
person's file (a web form's upload, say) can too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from domain.names import shown, visible
from services.uploads import read_at_most

YAML_LIMIT = 1024 * 1024
MAX_LISTED = 50


class FileInvalid(ValueError):
    """A file cannot be read as the format it claims. The message names the file and, for
    each problem, the field path (list positions count from 1) and what is wrong, on one
    line."""

    def __init__(
        self,
        path: Path | str,
        field: str,
        problem: str,
        *more: tuple[str, str],
        total: int | None = None,
    ) -> None:
        self.path = str(path)
        self.problems = [(field, problem), *more]
        listed = "; ".join(f"{where}: {what}" for where, what in self.problems)
        total = total or len(self.problems)
        count = f"{total} problems: " if total > 1 else ""
        super().__init__(f"{path}: {count}{listed}")

    @classmethod
    def listing(cls, path: Path | str, problems: list[tuple[str, str]]) -> FileInvalid:
        """All the problems, or the first ``MAX_LISTED`` and a count of the rest."""
        listed = problems[:MAX_LISTED]
        if len(problems) > MAX_LISTED:
            listed.append(("…", f"and {len(problems) - MAX_LISTED} more"))
        return cls(path, *listed[0], *listed[1:], total=len(problems))


# --- reading ---------------------------------------------------------------------------------


def read_capped(path: Path, limit: int) -> bytes:
    try:
        data = read_at_most(path, limit)
    except OSError as error:
        raise FileInvalid(path, "(file)", error.strerror or str(error)) from None
    if len(data) > limit:
        raise FileInvalid(path, "(file)", f"larger than the limit of {limit} bytes")
    return data


def utf8(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileInvalid(
            path, "(file)", f"not UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML less the two features a hostile file abuses: aliases (a few lines that
    expand into billions of nodes) and duplicate keys (the second ``leader:`` silently
    winning over the first)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are refused", mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            keys: list[Any] = []
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if key in keys:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                keys.append(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> Any:
    text = utf8(path, read_capped(path, YAML_LIMIT))
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader, less aliases
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise FileInvalid(path, where, f"not YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise FileInvalid(path, "(file)", f"not YAML: {error}") from None
    except RecursionError:
        raise FileInvalid(path, "(file)", "nested too deeply") from None


# --- the schema's types ----------------------------------------------------------------------


class Strict(BaseModel):
    """Exact types, no coercion, no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --- problems, as people read them -----------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def validated(
    path: Path, schema: type[M], document: Any, *, context: dict[str, Any] | None = None
) -> M:
    """The document as ``schema``, or every problem with its field path."""
    if not isinstance(document, dict):
        raise FileInvalid(
            path, "(file)", f"expected a mapping at the top, got {described(document)}"
        )
    try:
        return schema.model_validate(document, context=context)
    except ValidationError as error:
        problems = [(field_path(loc), problem) for loc, problem in problems_of(error)]
        raise FileInvalid.listing(path, problems) from None


def field_path(loc: tuple[Any, ...]) -> str:
    """``('members', 0, 'leader')`` as ``members[1].leader``: positions count from 1, as the
    domain's messages count members."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += f".{visible(str(part))}" if text else visible(str(part))
    return text or "(file)"


def problems_of(error: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        if item["type"] == "invalid_key":
            # The last part of the path is the offending key itself, not a list position.
            problems.append((loc[:-1], f"a key must be text, not {described(loc[-1])}"))
        else:
            problems.append((loc, _problem(item)))
    return problems


_PROBLEMS: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda item: "missing",
    "extra_forbidden": lambda item: "not a key of this file format",
    "value_error": lambda item: str(item["ctx"]["error"]),
}


def _problem(item: dict[str, Any]) -> str:
    explain = _PROBLEMS.get(item["type"])
    if explain is not None:
        return explain(item)
    message = str(item["msg"])
    if item["type"].endswith("_type") or item["type"] in (
        "literal_error",
        "string_pattern_mismatch",
    ):
        message += f", got {described(item['input'])}"
    return message


def described(value: Any) -> str:
    """What a value is, for a message: its YAML kind, and a short, safe view of it."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {shown(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, datetime):
        return "a time"
    if isinstance(value, date):
        return "a date"
    return f"a {type(value).__name__}"
