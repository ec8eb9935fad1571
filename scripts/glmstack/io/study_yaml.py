"""Reading a study file as data: no templating, no tags, no anchors, no duplicate keys.

Snakemake loads a config file as JSON if it parses as JSON, else as YAML through YTE, which
evaluates the file as a template (Python expressions in `?...` values and keys) when its top
level sets `__use_yte__: true`. A study is data, so `load_study` reads the same file the way
Snakemake would read it without templating, and refuses everything that could make the two
readings differ or that hides what the file says:

- YTE's keys (`__use_yte__`, `__definitions__`, `__variables__`) anywhere in the file;
- explicit YAML tags (`!!python/name:...`, `!!str`, `!custom`, ...);
- anchors and aliases (`&base`, `*base`) and merge keys (`<<:`);
- duplicate keys in one mapping (YAML and JSON readers silently keep the last one).

A file that passes reads to the same mapping under Snakemake's loader, so `glmstack run`
hands Snakemake the same path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import StudyError

TEMPLATING_KEYS = ("__use_yte__", "__definitions__", "__variables__")
MERGE_TAG = "tag:yaml.org,2002:merge"


class _DuplicateJsonKey(Exception):
    """Internal: a JSON object names a key twice (not a ValueError, which means 'not JSON')."""


def load_study(path: str | Path) -> dict[str, Any]:
    """The study file at `path` as a mapping, read as data.

    Parameters
    ----------
    path : a YAML (or JSON) study file.

    Returns
    -------
    The top-level mapping, as Snakemake's `--configfile` would load it.

    Raises
    ------
    StudyError naming the file, the line, the offending key or syntax, and the fix.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudyError(f"{path}: no such study file. Fix: give the path of the study YAML.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError(
            f"{path}: cannot be read as UTF-8 text ({exc}). Fix: save the study as UTF-8."
        ) from None
    try:
        config = json.loads(text, object_pairs_hook=_json_object)  # Snakemake tries JSON first
    except _DuplicateJsonKey as dup:
        raise StudyError(_duplicate_json_message(path, text, str(dup))) from None
    except ValueError:
        config = _load_yaml(path, text)
    else:
        _refuse_templating_keys(path, config)
    if not isinstance(config, dict):
        raise StudyError(
            f"{path}: the study must be a mapping of keys (counts:, samples:, analyses:, ...), "
            f"not {type(config).__name__}. Fix: see config/config.yaml."
        )
    return config


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise _DuplicateJsonKey(key)
    return dict(pairs)


def _duplicate_json_message(path: Path, text: str, key: str) -> str:
    found = re.finditer(re.escape(json.dumps(key)) + r"\s*:", text)
    lines = sorted({text.count("\n", 0, m.start()) + 1 for m in found})
    where = f" (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines[:2]))})" if lines else ""
    return (
        f"{path}: key {key!r} appears twice in one object{where}; a reader would silently keep "
        "the last one. Fix: keep one (rename one of two analyses)."
    )


def _refuse_templating_keys(path: Path, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in TEMPLATING_KEYS:
                raise StudyError(_templating_message(path, key, None))
            _refuse_templating_keys(path, item)
    elif isinstance(value, list):
        for item in value:
            _refuse_templating_keys(path, item)


def _templating_message(path: Path, key: str, line: int | None) -> str:
    at = f" (line {line})" if line else ""
    return (
        f"{path}: key {key!r}{at} is Snakemake's templating (YTE), which runs Python expressions "
        "written in the file; a glmstack study is data and is never templated. Fix: remove the "
        "key and write the values out."
    )


def _load_yaml(path: Path, text: str) -> Any:
    loader = _StudyLoader(text, path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise StudyError(
            f"{path}: line {line}: not valid YAML ({exc.problem}). Fix: correct the syntax "
            "(quote values holding ': ' or '#', indent with spaces, not tabs)."
        ) from None
    except yaml.YAMLError as exc:
        raise StudyError(f"{path}: not valid YAML ({exc}). Fix: correct the syntax.") from None
    finally:
        loader.dispose()


class _StudyLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses tags, anchors, aliases, merge keys, duplicate and YTE keys."""

    def __init__(self, stream: str, path: Path) -> None:
        super().__init__(stream)
        self.path = path

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise StudyError(
                f"{self.path}: line {line}: alias *{event.anchor} repeats an anchored value; a study "
                "is written out in full. Fix: copy the value in place of the alias."
            )
        if getattr(event, "anchor", None) is not None:
            raise StudyError(
                f"{self.path}: line {line}: anchor &{event.anchor}; anchors and aliases are not "
                "allowed in a study. Fix: remove the anchor and write each value out."
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise StudyError(
                f"{self.path}: line {line}: YAML tag {tag!r}; tags are not allowed in a study (some "
                "make readers build Python objects). Fix: remove the tag; write plain values."
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == MERGE_TAG:
                raise StudyError(
                    f"{self.path}: line {line}: merge key '<<'; merges are not allowed in a study. "
                    "Fix: write the keys out."
                )
            key = self.construct_object(key_node, deep=True)
            try:
                seen = key in first_line
            except TypeError:  # an unhashable key; SafeLoader names it below
                continue
            if seen:
                raise StudyError(
                    f"{self.path}: key {key!r} appears twice in one mapping (lines {first_line[key]} "
                    f"and {line}); YAML readers silently keep the last one. Fix: keep one (give two "
                    "analyses different names)."
                )
            if key in TEMPLATING_KEYS:
                raise StudyError(_templating_message(self.path, key, line))
            first_line[key] = line
        return super().construct_mapping(node, deep=deep)
