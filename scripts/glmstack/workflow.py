"""What the rules need beyond the study: which library code each entry script runs.

Snakemake reruns a `script:` job when the script changes, not when a module it imports
changes. `code_hash(script)` hashes the script and the glmstack modules it imports, directly
or through other modules (found by reading the import statements, not by importing), so an
edit to the plotting code reruns the plot jobs and leaves the fits alone.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

PACKAGE = "glmstack"


def _module_file(package_dir: Path, dotted: str) -> Path | None:
    """The file of module `glmstack.a.b` (a module or a package's __init__), if it exists."""
    parts = dotted.split(".")[1:]
    base = package_dir.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path, package_dir: Path) -> set[str]:
    """Dotted glmstack modules that `path` imports (absolute or relative, anywhere in it)."""
    here = path.parent if path.name == "__init__.py" else path.with_suffix("")
    own = [PACKAGE, *here.relative_to(package_dir).parts] if package_dir in path.parents else None
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if own is None:
                    continue
                base = (
                    own[: len(own) - node.level]
                    if path.name != "__init__.py"
                    else own[: len(own) - node.level + 1]
                )
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from glmstack.x import y` may name a module y or a symbol of x: keep both candidates
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                parts = name.split(".")
                # every enclosing package's __init__ runs too
                found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return found


def script_modules(script: Path, package_dir: Path) -> list[Path]:
    """The glmstack source files `script` runs: its imports, followed transitively."""
    seen: dict[str, Path] = {}
    todo = list(_imported_modules(script, package_dir))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(package_dir, name)
        if path is None:  # a symbol, not a module
            continue
        seen[name] = path
        todo.extend(_imported_modules(path, package_dir))
    return sorted(set(seen.values()))


def code_hash(script: Path, package_dir: Path) -> str:
    """Hash of the script and of the glmstack modules it runs."""
    digest = hashlib.sha256()
    for path in [script, *script_modules(script, package_dir)]:
        digest.update(str(path.relative_to(package_dir.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
