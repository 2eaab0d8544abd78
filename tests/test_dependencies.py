"""Dependencies are declared and locked: every package the tests import is named in a
requirements file, and the lock files pin each of those at the same version, with hashes."""

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = {"accounts", "config", "roadmap", "tests"}
# Run by `make loadtest` only, which installs requirements-load.txt (not locked).
LOAD_TEST = ROOT / "tests" / "load"


def _name(requirement: str) -> str:
    """A distribution name as the lock files write it (PEP 503 normalised)."""
    return re.sub(r"[-_.]+", "-", requirement).lower()


def _pins(path: Path) -> dict[str, str]:
    """name -> version of each ``name==version`` line (lock continuation lines skipped)."""
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            pins[_name(match.group(1))] = match.group(2)
    return pins


def _imported_top_level(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - OUR_PACKAGES - set(sys.stdlib_module_names) - {"__future__"}


def test_every_package_the_tests_import_is_declared():
    declared = {**_pins(ROOT / "requirements.txt"), **_pins(ROOT / "requirements-dev.txt")}
    distributions = importlib.metadata.packages_distributions()
    undeclared = set()
    for path in (ROOT / "tests").rglob("*.py"):
        if LOAD_TEST in path.parents or "node_modules" in path.parts:
            continue
        for module in _imported_top_level(path):
            names = {_name(d) for d in distributions.get(module, [module])}
            if not names & set(declared):
                undeclared.add(f"{module} ({path.relative_to(ROOT)})")

    assert sorted(undeclared) == []


def test_the_lock_files_pin_every_requirement_at_its_version_with_hashes():
    runtime, dev = _pins(ROOT / "requirements.txt"), _pins(ROOT / "requirements-dev.txt")
    runtime_lock = _pins(ROOT / "requirements.lock")
    dev_lock = _pins(ROOT / "requirements-dev.lock")

    assert {name: runtime_lock.get(name) for name in runtime} == runtime
    assert {name: dev_lock.get(name) for name in {**runtime, **dev}} == {**runtime, **dev}
    # The development install adds to the runtime one and changes none of its versions.
    assert {name: dev_lock.get(name) for name in runtime_lock} == runtime_lock
    for lock in ("requirements.lock", "requirements-dev.lock"):
        entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / lock).read_text())[1:]
        unhashed = [entry.split()[0] for entry in entries if "--hash=sha256:" not in entry]
        assert unhashed == [], lock


def test_pre_commit_runs_ruff_the_formatter_and_the_migration_check_offline():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook["entry"] for repo in config["repos"] for hook in repo["hooks"]}

    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    assert hooks["ruff-check"].startswith(".venv/bin/ruff check")
    assert hooks["ruff-format"].startswith(".venv/bin/ruff format")
    assert hooks["migrations"].endswith("manage.py makemigrations --check --dry-run")
