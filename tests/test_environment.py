"""environment.yml (conda-forge) stays in step with pyproject.toml: same packages, same version bounds."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(parse(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"])
    wanted["python"] = project["requires-python"].replace(" ", "")
    listed = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        item = re.match(r"^  - ([^:]+)$", line)  # top-level dependencies only (not the pip: block)
        if item and item.group(1).strip() != "pip":
            name, spec = parse(item.group(1))
            listed[name] = spec
    assert listed == wanted
