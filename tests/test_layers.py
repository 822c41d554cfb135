"""The package's layers import downwards only (docs/architecture.md, "What goes where"): a module
never imports one of a layer above its own, at the top or inside a function."""

import ast

from helpers.paths import ROOT

PACKAGE = ROOT / "src" / "lstm_mnist"
# Bottom first; a module belongs to the longest prefix that names it.
LAYERS = [
    *("errors", "moved_names", "adapters", "data.mnist_format", "nets", "data", "storage", "training", "apps"),
    *("read_command", "command"),  # `lstm-mnist read` (no Lightning), then the dispatcher over it and apps
]


def layer(module: str) -> int | None:
    name = module.removeprefix("lstm_mnist").removeprefix(".")
    found = [
        (len(prefix), index) for index, prefix in enumerate(LAYERS) if name == prefix or name.startswith(prefix + ".")
    ]
    return max(found)[1] if found else None


def test_no_module_imports_from_a_layer_above_its_own():
    upward = []
    for file in PACKAGE.rglob("*.py"):
        module = ".".join(("lstm_mnist", *file.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
        own = layer(module)
        if own is None:
            continue  # the package itself: its names load on first use
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported = [node.module]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            else:
                continue
            for name in imported:
                theirs = layer(name) if name.startswith("lstm_mnist") else None
                if theirs is not None and theirs > own:
                    upward.append(f"{module} ({LAYERS[own]}) imports {name} ({LAYERS[theirs]})")
    assert not upward, "\n".join(upward)
    assert layer("lstm_mnist.data.mnist_format") < layer("lstm_mnist.nets.recurrent") < layer("lstm_mnist.data.mnist")
