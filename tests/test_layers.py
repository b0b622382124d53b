"""The kit's structure: imports run one way, from a higher layer to a lower one, in the order the README
states; no cycles; imports at module top (inside a function only for an optional dependency, with a comment
saying so); no module over 400 lines; each topic in one subpackage; notebooks use public names only."""

import ast
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KIT = ROOT / "kit"
README = (ROOT / "README.md").read_text()
MAX_LINES = 400
# Optional dependencies: present only on some machines (Colab, Unix) or only with an extra installed.
OPTIONAL = {"google.colab", "resource", "gradio", "ipywidgets", "IPython", "tensorflow_datasets", "tensorboard"}


def readme_layers() -> list[list[str]]:
    """The layer list between ``<!-- BEGIN layers -->`` and ``<!-- END layers -->`` in the README: one numbered
    line per layer, lowest first, naming its modules in backticks."""
    block = re.search(r"<!-- BEGIN layers -->(.*?)<!-- END layers -->", README, re.S)
    assert block, "the README's layout section must state the layer order between <!-- BEGIN layers --> markers"
    layers = [re.findall(r"`([a-z][a-z0-9_]*)`", line) for line in block.group(1).splitlines() if re.match(r"\s*\d+\.", line)]
    assert layers and all(layers)
    return layers


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(KIT.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        out[name] = path
    return out


def top_part(module: str) -> str:
    """``kit.gans.models`` -> ``gans``; ``kit`` -> ``kit``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "kit"


def kit_imports(path: Path, module: str):
    """(line, imported kit module, inside a function?) for every import of a kit module in ``path``."""
    tree = ast.parse(path.read_text())
    out = []
    functions = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(f)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(module.split(".")[: -node.level] + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names] if base in ("kit",) else [base]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            out.append((node.lineno, name, id(node) in functions))
    return out


def resolve(name: str, known: set[str]) -> str | None:
    """The kit module an import refers to (``kit.gans.GAN`` -> ``kit.gans``), or None for other packages."""
    if not (name == "kit" or name.startswith("kit.")):
        return None
    while name not in known and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def test_every_kit_package_is_in_a_layer():
    named = {m for layer in readme_layers() for m in layer}
    parts = {top_part(m) for m in modules()}
    assert parts <= named, f"modules missing from the README's layer list: {sorted(parts - named)}"


def test_imports_run_from_higher_layers_to_lower_ones_without_cycles():
    layer_of = {m: i for i, layer in enumerate(readme_layers()) for m in layer}
    mods = modules()
    graph = defaultdict(set)
    wrong = []
    for module, path in mods.items():
        for line, name, _ in kit_imports(path, module):
            target = resolve(name, set(mods))
            if target is None or target == module:
                continue
            src, dst = top_part(module), top_part(target)
            graph[module].add(target)
            if src != dst and layer_of[dst] > layer_of[src] and module != "kit":
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target} (layer {layer_of[dst]}) from layer {layer_of[src]}")
    assert not wrong, "imports from a lower layer to a higher one:\n" + "\n".join(wrong)
    # No cycles between modules (a package's __init__ importing its own modules is not a cycle of theirs).
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in graph[node]:
            if nxt.startswith(node + ".") or node == "kit":
                continue
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                if not all(c.startswith(cycle[0] + ".") or cycle[0].startswith(c + ".") for c in cycle[1:-1]):
                    pytest.fail("import cycle: " + " -> ".join(cycle))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for m in list(graph):
        if m not in state:
            visit(m)


def test_imports_are_at_module_top_unless_optional_and_explained():
    bad = []
    for module, path in modules().items():
        lines = path.read_text().splitlines()
        tree = ast.parse(path.read_text())
        for func in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(func):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                optional = all(any(n == o or n.startswith(o + ".") for o in OPTIONAL) for n in names)
                comment = "#" in lines[node.lineno - 1] or lines[node.lineno - 2].strip().startswith("#")
                if not (optional and comment):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not bad, "imports inside functions (only optional dependencies, with a comment):\n" + "\n".join(bad)


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in KIT.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_each_topic_lives_in_one_subpackage():
    files = {str(p.relative_to(KIT)) for p in KIT.rglob("*.py")}
    assert not [f for f in files if ("coco" in f or "esrgan" in f or "rrdb" in f or "degrade" in f) and not f.startswith(("cocogan/", "sr/"))]


def test_no_private_names_are_imported_across_modules():
    bad = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kit"):
                bad += [f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert not bad, "private helpers imported across modules:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.name)
def test_notebooks_use_public_names_only(path):
    import kit

    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        text = "".join(cell["source"])
        # A hidden test (the instructor's, never shown to students) names the kit's private helpers to make them refuse to run.
        hidden_test = text.lstrip().startswith('""" # BEGIN TEST CONFIG') and "hidden: true" in text.split("# END TEST CONFIG")[0]
        src = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(src)):
            if hidden_test and isinstance(node, ast.Attribute):
                continue
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "kit":
                obj = kit
                for part in node.module.split(".")[1:]:
                    assert not part.startswith("_"), f"{path.name}: private module {node.module}"
                    obj = getattr(obj, part)
                for alias in node.names:
                    assert not alias.name.startswith("_") and hasattr(obj, alias.name), f"{path.name}: {node.module}.{alias.name} does not exist"
                    public = getattr(obj, "__all__", None)
                    assert public is None or alias.name in public, f"{path.name}: {node.module}.{alias.name} is not in its __all__"
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                base = node.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                assert not (isinstance(base, ast.Name) and base.id in ("kit", "gans", "metrics", "models", "viz", "data", "cocogan", "sr")), \
                    f"{path.name}: private name .{node.attr}"
