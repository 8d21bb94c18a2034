"""Count bayeskit's public definitions and those whose docstring has a numpydoc ``Parameters`` section.

Public: a module-level function or class whose name has no leading underscore, in a module whose path has no
part starting with an underscore (``__init__.py`` aside), plus the public methods (no leading underscore) defined
in those classes' bodies. Properties and other definitions that take no arguments (besides ``self``/``cls``)
need no Parameters section; they are counted apart. Read from the source (``ast``), nothing is imported.

    python scripts/docstring_coverage.py [--root bayeskit] [--list] [--exported]

``--list`` prints each definition that takes arguments but has no Parameters section; ``--exported`` counts only
the names in each module's ``__all__`` (no methods).
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

HEADER = "Parameters\n----------"


def _takes_arguments(node: ast.FunctionDef | ast.ClassDef) -> bool:
    if isinstance(node, ast.FunctionDef):
        a = node.args
        names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs if x.arg not in ("self", "cls")]
        return bool(names) or a.vararg is not None or a.kwarg is not None
    init = next((s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)
    fields = [s for s in node.body if isinstance(s, ast.AnnAssign)]  # dataclass / NamedTuple fields
    return bool(fields) or (init is not None and _takes_arguments(init))


def definitions(root: Path, exported: bool):
    """Yield ``(module path, line, qualified name, node)`` of every public definition under ``root``."""
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent)
        if any(part.startswith("_") and part != "__init__.py" for part in rel.parts) or "scripts" in rel.parts:
            continue
        tree = ast.parse(path.read_text())
        names = None
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
                names = set(ast.literal_eval(node.value))
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name.startswith("_"):
                continue
            if exported and (names is None or node.name not in names):
                continue
            yield rel, node.lineno, node.name, node
            if isinstance(node, ast.ClassDef) and not exported:
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef) and not sub.name.startswith("_"):
                        yield rel, sub.lineno, f"{node.name}.{sub.name}", sub


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1] / "bayeskit"))
    parser.add_argument("--list", action="store_true", help="list definitions lacking a Parameters section")
    parser.add_argument("--exported", action="store_true", help="only names in __all__, no methods")
    args = parser.parse_args()
    total = documented = no_arguments = 0
    missing = []
    for rel, line, name, node in definitions(Path(args.root), args.exported):
        total += 1
        has = HEADER in (ast.get_docstring(node) or "")
        documented += has
        if not _takes_arguments(node):
            no_arguments += 1
        elif not has:
            missing.append(f"{rel}:{line} {name}")
    print(f"public definitions: {total}; with a Parameters section: {documented}; "
          f"taking no arguments: {no_arguments}; taking arguments but without a Parameters section: {len(missing)}")
    if args.list:
        print("\n".join(missing))


if __name__ == "__main__":
    main()
