"""The house rule: no function in verify/, sim/, commands/, headend/ or protocols/ is longer than
80 lines, counted from its ``def`` to its last line. Read from the source with ast, so a function
that grows past it fails here, named, with its length."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "meterseal"
PACKAGES = ("verify", "sim", "commands", "headend", "protocols")
LIMIT = 80


def long_functions(source: str, limit: int = LIMIT) -> list[tuple[str, int, int]]:
    """(qualified name, line of its def, length) of every function longer than ``limit`` lines,
    methods and nested functions included."""
    found: list[tuple[str, int, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                assert child.end_lineno is not None
                length = child.end_lineno - child.lineno + 1
                if length > limit:
                    found.append((name, child.lineno, length))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


FILES = sorted(p for pkg in PACKAGES for p in (SRC / pkg).rglob("*.py"))


def test_the_rule_reads_some_modules_of_each_package() -> None:
    for pkg in PACKAGES:
        assert any(p.is_relative_to(SRC / pkg) for p in FILES), pkg


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SRC)) for p in FILES])
def test_no_function_longer_than_the_limit(path: Path) -> None:
    long = long_functions(path.read_text(encoding="utf-8"))
    assert not long, "; ".join(
        f"{path.relative_to(SRC)}:{line} {name} is {n} lines (limit {LIMIT})"
        for name, line, n in long
    )


def _function(name: str, lines: int, indent: str = "") -> str:
    """Source of a function exactly ``lines`` lines long, def line included."""
    body = [f"{indent}    x{i} = {i}" for i in range(lines - 2)]
    return "\n".join([f"{indent}def {name}() -> int:", *body, f"{indent}    return 0"]) + "\n"


def test_the_checker_catches_a_long_function() -> None:
    source = "\n".join([
        '"""A generated module."""',
        _function("at_the_limit", LIMIT),
        "@staticmethod",  # a decorator does not count: the length runs from the def
        _function("decorated_at_the_limit", LIMIT),
        _function("one_too_long", LIMIT + 1),
        "class Holder:",
        _function("long_method", LIMIT + 20, indent="    "),
        "def outer() -> None:",
        _function("long_inner", LIMIT + 5, indent="    "),
    ])
    long = long_functions(source)
    assert [(name, n) for name, _line, n in long] == [
        ("one_too_long", LIMIT + 1),
        ("Holder.long_method", LIMIT + 20),
        ("outer", LIMIT + 6),  # its nested function counts in its own length too
        ("outer.long_inner", LIMIT + 5),
    ]
    lines = source.splitlines()
    for name, line, _n in long:
        assert lines[line - 1].lstrip().startswith(f"def {name.split('.')[-1]}(")
    assert long_functions(_function("short", LIMIT)) == []
