"""Reading an input file: bounded size, strict UTF-8, parsed without recursion errors.

Every file the harness reads (target, plan, experiment, check) comes through here, so the
same hostile inputs fail the same way: one ConfigError naming the file and the problem.
The parsers (tomllib, PyYAML, json) recurse once per nesting level, so a deeply nested
document is refused by a cheap bracket/indent scan *before* parsing, and the parsed value
is walked (iteratively) to check depth, sizes and encodable strings.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import yaml

from ..exceptions import ConfigError
from .limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, MAX_TEXT_CHARS
from .text import has_lone_surrogate, shown

__all__ = [
    "Format",
    "check_tree",
    "format_of",
    "key_path",
    "parse_document",
    "read_document",
    "read_text",
]

Format = Literal["toml", "yaml", "json"]


def format_of(path: Path, default: Format = "yaml") -> Format:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return "toml"
    if suffix == ".json":
        return "json"
    if suffix in (".yml", ".yaml"):
        return "yaml"
    return default


def read_text(path: str | Path, what: str) -> str:
    """The file's text: it exists, is a regular file of at most MAX_FILE_BYTES, and is UTF-8."""
    p = Path(path)
    try:
        if p.is_dir():
            raise ConfigError(f"{p}: is a directory, expected a {what}")
        with p.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{p}: {what} not found") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read {what} ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(
            f"{p}: {what} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; "
            "expected a small text file"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{p}: {what} is not valid UTF-8 (byte {data[exc.start]:#04x} at line {line})"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]  # a BOM some editors write
    if "\x00" in text:
        raise ConfigError(f"{p}: {what} contains a NUL byte; expected a text file")
    return text


def _bracket_depth(text: str) -> int:
    """The deepest nesting of [ { ( outside quoted strings: an upper bound good enough to
    refuse `[[[[...` before a recursive parser sees it."""
    depth = deepest = 0
    quote = ""
    escaped = False
    for ch in text:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote or ch == "\n":
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]})":
            depth = max(0, depth - 1)
        elif ch == "#":
            quote = "\n"  # a comment runs to the end of the line
    return deepest


def _indent_depth(text: str) -> int:
    """How many distinct indentation levels are open at once (YAML block nesting)."""
    stack: list[int] = []
    deepest = 0
    for line in text.splitlines():
        stripped = line.lstrip(" -")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        while stack and stack[-1] >= indent:
            stack.pop()
        stack.append(indent)
        deepest = max(deepest, len(stack))
    return deepest


Key = tuple[str | int, ...]


def _walk(value: object) -> Iterator[tuple[object, Key]]:
    """Every key and value with its path, iteratively (no recursion on deep documents)."""
    stack: list[tuple[object, Key]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        yield item, path
        if isinstance(item, dict):
            for k, v in item.items():
                stack.append((k, path))
                stack.append((v, (*path, str(k))))
        elif isinstance(item, list | tuple):
            stack.extend((v, (*path, i)) for i, v in enumerate(item))


def key_path(path: Key) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "top level"


def check_tree(value: object, source: str) -> None:
    """Depth, node count, string sizes and encodable strings of a parsed document. YAML
    aliases share nodes, so a small file can expand to billions ("billion laughs"): the
    walk counts every visit and stops at MAX_NODES."""
    for count, (item, path) in enumerate(_walk(value)):
        if count > MAX_NODES:
            raise ConfigError(f"{source}: more than {MAX_NODES:,} values (aliases expanded)")
        if len(path) >= MAX_DEPTH:
            raise ConfigError(f"{source}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            if len(item) > MAX_TEXT_CHARS:
                raise ConfigError(
                    f"{source}: {key_path(path)}: {shown(item)} is longer than"
                    f" {MAX_TEXT_CHARS} characters"
                )
            if has_lone_surrogate(item):
                raise ConfigError(
                    f"{source}: {key_path(path)}: {shown(item)} holds a lone surrogate"
                    " (not valid Unicode)"
                )


def parse_document(text: str, fmt: Format, source: str) -> object:
    """Parse `text` as `fmt`, refusing documents nested deeper than MAX_DEPTH."""
    scan = _bracket_depth(text) if fmt != "yaml" else max(_bracket_depth(text), _indent_depth(text))
    if scan > MAX_DEPTH:
        raise ConfigError(f"{source}: nested deeper than {MAX_DEPTH} levels")
    try:
        if fmt == "toml":
            data: object = tomllib.loads(text)
        elif fmt == "json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({' '.join(str(exc).split())})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(f"{source}: not valid YAML{where} ({problem})") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, OverflowError) as exc:  # e.g. json's huge-int guard
        raise ConfigError(f"{source}: cannot parse ({' '.join(str(exc).split())})") from None
    check_tree(data, source)
    return data


def read_document(path: str | Path, what: str, fmt: Format | None = None) -> object:
    """Read and parse one input file (format from the suffix unless given)."""
    p = Path(path)
    return parse_document(read_text(p, what), fmt or format_of(p), str(p))
