"""The app's modules import each other without a circle.

Every ``import`` and ``from … import`` counts, at the top of a module or inside a function: an
import moved into a function to dodge a circle still ties the two modules together.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("accounts", "config", "roadmap")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _app_modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def _imported(tree: ast.Module, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The app modules ``module`` imports: ``from a import b`` names the module ``a.b`` when
    there is one, else ``a``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                for alias in node.names
            ]
        else:
            continue
        found.update(name for name in names if name in known)
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _app_modules()
    known = set(modules)
    return {
        name: _imported(ast.parse(path.read_text()), name, path.name == "__init__.py", known)
        for name, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle from each group of modules that reach one another (Tarjan's components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_circle_within(graph, set(component)) for component in components]


def _circle_within(graph: dict[str, set[str]], members: set[str]) -> list[str]:
    """A shortest path from the component's first module back to itself."""
    start = min(members)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                return paths[node] + [start]
            if target not in paths:
                paths[target] = paths[node] + [target]
                queue.append(target)
    raise AssertionError(f"no circle through {start}")


def test_the_import_graph_sees_imports_inside_functions():
    graph = import_graph()

    assert "roadmap.planning.services.scoring" in graph["roadmap.tasks"]  # at the top
    assert "roadmap.sharing.services.digests" in graph["accounts.services"]  # inside a function
    assert "accounts.throttle" in graph["accounts.services"]  # relative: from . import throttle
    assert "roadmap.api.permissions" in graph["roadmap.api.scoping"]  # relative: from .x import


def test_the_cycle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert _cycles(graph) == [["a", "b", "c", "a"]]


def test_app_modules_import_each_other_without_a_circle():
    cycles = _cycles(import_graph())

    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


# --- Slices -------------------------------------------------------------------------------------

SLICES = ("planning", "evidence", "strategy", "sharing", "integrations", "portal")
# What a slice may use of another: its writes, its reads, its models (through the registry or
# directly), the formulas of the core and the outsiders' allow-list.
PUBLIC = ("services", "selectors", "models", "scoring", "external")
# Named exceptions, each with its reason.
ALLOWED = {
    # The strategy slice adds its operations (business case, checklist, readiness, ship) to the
    # core's product and release endpoints, so each resource keeps one URL.
    ("roadmap.strategy.api", "roadmap.planning.api.views"),
    ("roadmap.strategy.api", "roadmap.planning.api.serializers"),
    # The portal's outsider pages answer as the share link's page does: the same 404, headers,
    # password unlock and page context (one rule for every external answer, not a copy).
    ("roadmap.portal.views_external", "roadmap.sharing.views.external"),
}


def _slice(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "roadmap" and parts[1] in SLICES else None


def slice_crossings(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports from one slice into another that do not go through what the other publishes."""
    found = []
    for module, targets in graph.items():
        mine = _slice(module)
        if mine is None:
            continue
        for target in targets:
            theirs = _slice(target)
            if theirs is None or theirs == mine:
                continue
            layer = target.split(".")[2] if target.count(".") >= 2 else ""
            if layer not in PUBLIC and (module, target) not in ALLOWED:
                found.append((module, target))
    return sorted(found)


def test_the_slice_rule_sees_a_crossing():
    graph = {
        "roadmap.sharing.views.sharing": {"roadmap.planning.views.page_forms"},
        "roadmap.evidence.views": {"roadmap.planning.services.features", "roadmap.forms"},
    }

    assert slice_crossings(graph) == [
        ("roadmap.sharing.views.sharing", "roadmap.planning.views.page_forms")
    ]


def test_slices_use_each_other_only_through_services_and_selectors():
    crossings = slice_crossings(import_graph())

    assert not crossings, "imports across slices outside their services and selectors:\n" + (
        "\n".join(f"{a} -> {b}" for a, b in crossings)
    )


def test_every_slice_says_what_it_holds():
    for name in SLICES:
        doc = ast.get_docstring(ast.parse((ROOT / "roadmap" / name / "__init__.py").read_text()))
        assert doc and len(doc) > 80, f"roadmap/{name}/__init__.py needs a docstring"
