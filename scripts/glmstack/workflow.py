"""What the rules need beyond the study: which library code each entry script runs, and stamps.

Snakemake reruns a `script:` job when the script changes, not when a module it imports
changes. `code_hash(script)` hashes the script and the glmstack modules it imports, directly
or through other modules (found by reading the import statements, not by importing), so an
edit to the plotting code reruns the plot jobs and leaves the fits alone.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

PACKAGE = "glmstack"


@functools.cache
def _module_file(package_dir: Path, dotted: str) -> Path | None:
    """The file of module `glmstack.a.b` (a module or a package's __init__), if it exists
    (looked up once per process: every rule's `code` asks for the same modules)."""
    parts = dotted.split(".")[1:]
    base = package_dir.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path, package_dir: Path) -> frozenset[str]:
    """Dotted glmstack modules that `path` imports (absolute or relative, anywhere in it)."""
    stat = path.stat()
    return _parsed_imports(path, package_dir, (stat.st_mtime_ns, stat.st_size))


# an import statement at the start of a line: `from <module> import <names>` (names in
# parentheses may span lines) or `import <modules>`. Read as text, not parsed (ast.parse of
# the package costs ~0.2 s of every Snakemake start); text in a docstring that reads like an
# import only adds a module to the hash, so the scan errs towards rerunning.
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<module>\.*[\w.]*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n#;]*)"
    r"|import[ \t]+(?P<modules>[^\n#;]*))",
    re.MULTILINE,
)


def _names(text: str) -> list[str]:
    """`a.b as c, d` -> ["a.b", "d"] (parentheses, line breaks and comments dropped)."""
    text = re.sub(r"#[^\n]*", "", text).strip("() \t\n")
    return [part.split()[0] for part in text.split(",") if part.strip()]


@functools.cache
def _parsed_imports(path: Path, package_dir: Path, _version: tuple[int, int]) -> frozenset[str]:
    """`_imported_modules` for one version of the file (read once per process and version)."""
    here = path.parent if path.name == "__init__.py" else path.with_suffix("")
    own = [PACKAGE, *here.relative_to(package_dir).parts] if package_dir in path.parents else None
    found: set[str] = set()
    for match in _IMPORT.finditer(path.read_text().replace("\\\n", " ")):
        if match["modules"] is not None:
            names = _names(match["modules"])
        else:
            module = match["module"]
            level = len(module) - len(module.lstrip("."))
            if level:
                if own is None:
                    continue
                base = own[: len(own) - level] if path.name != "__init__.py" else own[: len(own) - level + 1]
                module = ".".join(base + ([module[level:]] if module[level:] else []))
            # `from glmstack.x import y` may name a module y or a symbol of x: keep both candidates
            names = [module] + [f"{module}.{name}" for name in _names(match["names"])]
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                parts = name.split(".")
                # every enclosing package's __init__ runs too
                found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(found)


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


DATA_SUFFIXES = (".npz",)  # tables shipped beside the modules that read them (by file name)


def code_hash(script: Path, package_dir: Path) -> str:
    """Hash of the script, the glmstack modules it runs and the data files beside them."""
    modules = script_modules(script, package_dir)
    data = sorted({table for module in modules for table in _file(module)[1]})
    digest = hashlib.sha256()
    for path in [script, *modules, *data]:
        digest.update(str(path.relative_to(package_dir.parent)).encode() + b"\0" + _file(path)[0])
    return digest.hexdigest()[:16]


def _file(path: Path) -> tuple[bytes, tuple[Path, ...]]:
    """A file's bytes and the data files beside it that it names (read once per version)."""
    stat = path.stat()
    return _read_file(path, (stat.st_mtime_ns, stat.st_size))


@functools.cache
def _read_file(path: Path, _version: tuple[int, int]) -> tuple[bytes, tuple[Path, ...]]:
    content = path.read_bytes()
    if path.suffix != ".py":
        return content, ()
    text = content.decode(errors="replace")
    return content, tuple(t for t in path.parent.iterdir() if t.suffix in DATA_SUFFIXES and t.name in text)


def file_digest(path: str | Path, previous: dict | None = None) -> dict:
    """sha256 of a file's bytes, with the stat fields that say whether it can have changed.

    `previous` (this function's earlier result for the same path) is reused when size, mtime,
    ctime and inode are unchanged; ctime cannot be set back, so a file restored with an old
    timestamp is hashed again.
    """
    stat = Path(path).stat()
    key = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
    if previous and previous.get("stat") == key and previous.get("path") == str(path):
        return previous
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "stat": key, "sha256": digest.hexdigest()}


def write_stamp(path: str | Path, content: dict) -> bool:
    """Write `content` as JSON to `path` only if it differs from what is there.

    A stamp is an input of the jobs it describes: its modification time moves only when the
    settings, code or input checksums it holds change, so those jobs rerun even when
    Snakemake's own records (.snakemake/) are lost or the study runs from another directory.
    Returns True when the stamp was (re)written.
    """
    path = Path(path)
    text = json.dumps(content, indent=1, sort_keys=True, default=str) + "\n"
    if path.is_file() and path.read_text() == text:
        return False
    from .io.files import atomic_write

    with atomic_write(path) as fh:
        fh.write(text.encode())
    return True


def read_stamp(path: str | Path) -> dict:
    """A stamp written by `write_stamp`, or {} when there is none (or it cannot be read)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def software_versions(packages: tuple[str, ...]) -> dict[str, str]:
    """glmstack's, Python's and the given packages' versions, for model.json (read from the
    installed metadata, so no package is imported for it)."""
    import platform
    from importlib.metadata import version

    from . import __version__

    return {"glmstack": __version__, "python": platform.python_version(), **{p: version(p) for p in packages}}


def exit_promptly() -> None:
    """Let a finished run's process exit as soon as its last job has ended.

    Called by the workflow's onsuccess/onerror. It cancels the scheduler's wake-ups
    (`release_idle_timers`). It also moves every object to the collector's permanent generation
    (`gc.freeze`), so the interpreter's last collections at exit skip them: with Snakemake, pandas
    and the formula library loaded (about 1,400 modules), those collections took 0.3 s, a twentieth
    of a small study's run. Snakemake's remaining steps (its log, the lock) are explicit calls
    and atexit handlers (logging's flush and close), which still run; only cycles of objects made
    before the call are no longer collected, and the process ends a moment later.
    """
    import gc

    release_idle_timers()
    gc.freeze()


def release_idle_timers() -> int:
    """Cancel the scheduler's pending wake-ups, so that a finished run exits at once.

    Snakemake (9.x) arms a one-second `threading.Timer` after each scheduling pass (the job
    rate limit, `--max-jobs-per-timespan`), and Python waits for the last one before it exits:
    up to a second after the last job, an eighth of a small study's run. Called by the
    workflow's onsuccess/onerror, when the scheduler has finished; the timers only wake it.
    Returns how many were cancelled.
    """
    import threading

    timers = [
        thread
        for thread in threading.enumerate()
        if isinstance(thread, threading.Timer)
        and "_schedule_reevalutation" in getattr(thread.function, "__qualname__", "")  # Snakemake's spelling
    ]
    for timer in timers:
        timer.cancel()
    return len(timers)
