"""The package's folders show the pipeline, and imports only go downward: model, read, checks, build, CLI."""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "tools" / "eurasec"
# Each layer may import its own and the layers below it. The loaders stand apart: a Python user's
# `import eurasec` needs the model and nothing of the contributor tooling.
LAYERS = {
    "model": 0,
    "runtime": 0,
    "read": 1,
    "loaders": 1,
    "checks": 2,
    "validate": 3,
    "build": 4,
    "render": 4,
    "contribute": 5,
    "cli": 6,
    "_entry": 7,
    "__main__": 8,
    "__init__": 9,
}
APART = {"loaders": {"model", "loaders"}}  # what the loaders may import from eurasec
# The one import upward, and why: the generated docs/cli.md is the commands' own help.
UPWARD = {("contribute.docs", "cli")}


def _layer(module: str) -> str:
    return module.split(".")[0] if module else "__init__"


def _imports(path: Path) -> set[str]:
    """The eurasec modules a file imports, as dotted names relative to eurasec."""
    here = path.relative_to(PACKAGE).with_suffix("").parts
    package = list(here[:-1])  # a module's package; for __init__, the package itself
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = [*base, *(node.module.split(".") if node.module else [])]
                if not node.module:
                    # `from .. import __version__` reads the version, written once in eurasec/__init__.py
                    found.update(".".join([*target, a.name]) for a in node.names if not a.name.startswith("__"))
                    continue
                found.add(".".join(target))
            elif node.module and node.module.startswith("eurasec."):
                found.add(node.module.removeprefix("eurasec."))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("eurasec.") for a in node.names if a.name.startswith("eurasec."))
    return found


def test_every_folder_is_a_stage_of_the_pipeline():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    assert folders == {"model", "read", "checks", "build", "loaders", "contribute"}


def test_imports_only_go_downward():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        layer = _layer(module)
        for imported in _imports(path):
            target = _layer(imported)
            allowed = APART.get(layer)
            if allowed is not None and target not in allowed:
                wrong.append(f"{module} imports {imported}: the loaders import only the model")
            elif LAYERS[target] > LAYERS[layer] and (module, imported) not in UPWARD:
                wrong.append(f"{module} imports {imported}, a layer above it")
    assert wrong == []


def test_the_layout_check_would_see_an_upward_import():
    # The test above could pass by finding no imports at all: it must see the real ones.
    assert "model.descriptor" in _imports(PACKAGE / "checks" / "seeds.py")
    assert "checks.engine.tabular" in _imports(PACKAGE / "checks" / "engine" / "fast.py")
