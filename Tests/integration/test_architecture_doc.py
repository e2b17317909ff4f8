"""docs/architecture.md's target table states each target's dependencies on the project's
own targets exactly as Package.swift declares them."""
import json
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def declared_dependencies():
    dump = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, capture_output=True, text=True,
                                     check=True, timeout=120).stdout)
    own = {target["name"] for target in dump["targets"]}
    declared = {}
    for target in dump["targets"]:
        if target["type"] == "test" or target["name"] == "TestSupport":
            continue
        names = set()
        for dependency in target["dependencies"]:
            kind = next(iter(dependency))
            name = dependency[kind][0]
            if name in own:
                names.add(name)
        declared[target["name"]] = names
    return declared


def documented_dependencies():
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Targets", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        targets = re.findall(r"`([^`]+)`", cells[0])
        imports = set(re.findall(r"`([^`]+)`", cells[2]))
        for target in targets:
            documented[target] = imports if "every target above" not in cells[2] else None
    return documented


def test_every_target_is_documented_with_its_dependencies():
    declared = declared_dependencies()
    documented = documented_dependencies()
    assert set(documented) == set(declared), (
        f"missing from the doc: {sorted(set(declared) - set(documented))}; "
        f"not in Package.swift: {sorted(set(documented) - set(declared))}")
    for target, dependencies in declared.items():
        if documented[target] is None:  # `cis`: documented as importing everything
            continue
        assert documented[target] == dependencies, f"{target}: doc says {sorted(documented[target])}, Package.swift {sorted(dependencies)}"
