"""The declared architecture, checked on the source: contracts are called only through chain/'s
gateway, and imports go one way (DESIGN.md): `cli, api → {chain, ml, economy, listening} → core`;
ml never imports chain, and inside ml the layers hold too: ml/data, ml/metrics and ml/tradition
import no capability package above them (generation, recognition, classification, recommendation,
omr), and no production module of ml imports an experiment module (experiments are leaves: they
run, they write reports, nothing builds on them); chain imports no ml, economy or listening; the dashboard never imports
web3 or chain; core imports none of the others; the API's route files never build, decode, dry-run
or relay a transaction themselves (api/relay.py does, over chain/); and no Python file is longer than
600 lines unless its opening docstring says why (a line starting `Longer than 600 lines because`).

A small AST walk over the packages (function-level imports included), no dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.paths import REPO_ROOT

PACKAGES = ("api", "cli", "benchmarks", "chain", "ml", "economy", "listening", "core", "dashboard")
WEB3 = ("web3", "eth_account", "eth_abi", "eth_utils", "hexbytes")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": tuple(p for p in PACKAGES if p != "core"),
    "chain": ("api", "cli", "benchmarks", "dashboard", "ml", "economy", "listening"),
    "ml": ("api", "cli", "benchmarks", "dashboard", "chain", "economy", "listening"),
    "economy": ("api", "cli", "benchmarks", "dashboard"),
    "listening": ("api", "cli", "benchmarks", "dashboard"),
    "api": ("cli", "benchmarks", "dashboard"),
    "cli": ("benchmarks", "dashboard"),
    "benchmarks": ("cli", "dashboard"),
    "dashboard": ("api", "cli", "benchmarks", "chain", "ml", "economy", "listening", *WEB3),
}
"""Package → the top-level modules it must never import."""
MAX_LINES = 600
LONG_REASON = "Longer than 600 lines because"
"""How a module over MAX_LINES states its reason: a line of its opening docstring starting with this."""
SOURCE_FOLDERS = (*PACKAGES, "tests", "scripts")
RAW_CONTRACT_ATTRIBUTES = ("functions", "caller")
"""web3 contract attributes that make a raw call; only chain/ may touch them."""


def imports(tree: ast.AST) -> list[tuple[str, int]]:
    """(top-level module, line) of every absolute import in `tree`, however deep."""
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name.split(".")[0], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module.split(".")[0], node.lineno))
    return out


def violations(package: str, source: str, where: str = "<source>") -> list[str]:
    """What in `source`, a module of `package`, breaks the declared architecture."""
    tree = ast.parse(source)
    found = [f"{where}:{line}: {package} imports {module}" for module, line in imports(tree)
             if module in FORBIDDEN[package]]
    if package != "chain":
        found.extend(f"{where}:{node.lineno}: .{node.attr} outside chain/ (use chain.gateway or chain.calls)"
                     for node in ast.walk(tree)
                     if isinstance(node, ast.Attribute) and node.attr in RAW_CONTRACT_ATTRIBUTES)
    return found

ROUTE_FORBIDDEN_IMPORTS = ("eth_account", "rlp")
"""What decodes or builds a transaction: api/relay.py's business, not a route file's."""
ROUTE_FORBIDDEN_CALLS = ("relay", "send_raw_transaction", "estimate_gas", "recover_transaction", "unsigned_transaction",
                         "build_transaction", "transact")
"""Calls that relay, send or build a transaction; `<…>.eth.call` (a dry run) is refused as well."""


def route_violations(source: str, where: str = "<source>") -> list[str]:
    """What in `source`, an api/routes/ module, builds, decodes, dry-runs or relays a transaction
    itself instead of through api/relay.py."""
    tree = ast.parse(source)
    found = [f"{where}:{line}: a route file imports {module} (decode or build transactions in api/relay.py)"
             for module, line in imports(tree) if module in ROUTE_FORBIDDEN_IMPORTS]
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        attr, owner = node.func.attr, node.func.value
        if attr in ROUTE_FORBIDDEN_CALLS or (attr == "call" and isinstance(owner, ast.Attribute) and owner.attr == "eth"):
            found.append(f"{where}:{node.lineno}: a route file calls .{attr}() (relay, dry-run or build through api/relay.py)")
    return found


ML_BASE = ("ml.data", "ml.metrics", "ml.tradition")
"""ml's lower layers: what the capability packages build on."""
ML_CAPABILITIES = ("ml.generation", "ml.recognition", "ml.classification", "ml.recommendation", "ml.omr")
"""ml's capability packages, which the lower layers must never import."""
ML_MOVED = ("ml.generation.tradition",)
"""Aliases kept for callers outside ml/ while they move; ml itself imports the new place."""


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


ML_EXPERIMENTS = ("ml.robustness", "ml.recognition.loso")
"""Experiment modules not named so: each runs an evaluation and writes a report (reports/*.md)."""


def is_experiment(module: str) -> bool:
    """An experiment module (`experiment`, `*_experiment`, or one of ML_EXPERIMENTS): it runs
    experiments and writes reports, and nothing in production builds on it."""
    last = module.rsplit(".", 1)[-1]
    return last == "experiment" or last.endswith("_experiment") or module in ML_EXPERIMENTS


def absolute_imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    """(dotted module, line) of every import in `tree` of `module`, relative ones resolved, however deep.
    `from a import b` yields both `a` and `a.b` (b may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            out.append((target, node.lineno))
            out.extend((f"{target}.{alias.name}", node.lineno) for alias in node.names)
    return out


def ml_violations(module: str, source: str, where: str = "<source>", *, is_package: bool = False) -> list[str]:
    """What in `source`, the ml module `module`, breaks ml's inner layering."""
    found: list[str] = []
    for target, line in absolute_imports(ast.parse(source), module, is_package):
        if _within(module, ML_BASE) and _within(target, ML_CAPABILITIES):
            found.append(f"{where}:{line}: {module} (a lower ml layer) imports {target} (a capability above it)")
        if not is_experiment(module) and _within(target, ("ml",)) and is_experiment(target):
            found.append(f"{where}:{line}: production module {module} imports experiment module {target}")
        if _within(target, ML_MOVED):
            found.append(f"{where}:{line}: {module} imports the moved alias {target} (import its new place)")
    return found


def module_name(path: Path) -> tuple[str, bool]:
    """(dotted module name, is it a package's __init__) of a source file under REPO_ROOT."""
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def modules() -> list[tuple[str, Path]]:
    return [(package, path) for package in PACKAGES for path in sorted((REPO_ROOT / package).rglob("*.py"))]


def test_every_package_keeps_the_declared_architecture() -> None:
    assert len(modules()) > 100, "the walk found too few modules: is REPO_ROOT right?"
    problems = [v for package, path in modules()
                for v in violations(package, path.read_text(encoding="utf-8"), str(path.relative_to(REPO_ROOT)))]
    assert not problems, "\n".join(problems)


def test_route_files_leave_transactions_to_the_relay() -> None:
    files = sorted((REPO_ROOT / "api" / "routes").glob("*.py"))
    assert len(files) > 5
    problems = [v for path in files for v in route_violations(path.read_text(encoding="utf-8"), str(path.relative_to(REPO_ROOT)))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("source", "expected"), [
    ("from eth_account import Account\n", "imports eth_account"),
    ("def f():\n    import rlp\n", "imports rlp"),
    ("def f(state, raw):\n    return state.chain.relay(raw)\n", ".relay()"),
    ("def f(state, tx):\n    state.chain.w3.eth.call(tx, 'pending')\n", ".call()"),
    ("def f(fn):\n    return fn.estimate_gas({})\n", ".estimate_gas()"),
    ("def f(chain, call, who):\n    return calls.unsigned_transaction(chain, call, who)\n", ".unsigned_transaction()"),
])
def test_the_route_checker_catches_each_kind_of_breach(source: str, expected: str) -> None:
    found = route_violations(source)
    assert any(expected in v for v in found), found


def test_the_route_checker_lets_the_relay_module_be_used() -> None:
    source = ("from api import relay\n\ndef f(state, call, who, raw):\n    relay.wallet_transaction(state, call, who)\n"
              "    return relay.relay_signed(state, raw)\n")
    assert route_violations(source) == []


def test_ml_keeps_its_inner_layers() -> None:
    found = [(path, *module_name(path)) for package, path in modules() if package == "ml"]
    assert len(found) > 50
    problems = [v for path, name, is_package in found if not _within(name, ML_MOVED)
                for v in ml_violations(name, path.read_text(encoding="utf-8"), str(path.relative_to(REPO_ROOT)),
                                       is_package=is_package)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("ml.metrics.fidelity", "from ml.generation.model import X\n", "lower ml layer"),
    ("ml.metrics.fidelity", "def f():\n    import ml.recognition.features\n", "lower ml layer"),
    ("ml.metrics.fidelity", "from ..omr import model\n", "imports ml.omr"),  # relative, escaping upwards
    ("ml.data.corpora", "from ml import classification\n", "imports ml.classification"),
    ("ml.tradition", "from ml.recommendation.metrics import ndcg\n", "lower ml layer"),
    ("ml.generation.piece", "from ml.generation.experiment import train\n", "imports experiment module"),
    ("ml.generation.piece", "from .experiment import train\n", "imports experiment module"),
    ("ml.generation.midigan.gan", "from ml.generation import multimodal_experiment\n", "imports experiment"),
    ("ml.generation.midigan.gan", "from .. import experiment\n", "imports experiment module"),
    ("ml.metrics.pitch", "from ml.generation.tradition import Tradition\n", "moved alias"),
    ("ml.recognition.model", "from ml.recognition.loso import run\n", "imports experiment module"),
    ("ml.data.preprocess", "import ml.robustness\n", "imports experiment module"),
])
def test_the_ml_checker_catches_each_kind_of_breach(module: str, source: str, expected: str) -> None:
    found = ml_violations(module, source)
    assert any(expected in v for v in found), found


@pytest.mark.parametrize(("module", "source"), [
    ("ml.metrics.fidelity", "from ml.tradition import Tradition\nfrom ml.data.abc import Tune\nfrom . import pitch\n"),
    ("ml.generation.experiment", "from ml.generation.train import fit\nfrom ml.classification.experiment import x\n"),
    ("ml.generation.midigan.experiment", "from ..experiment import y\n"),  # experiments may build on experiments
    ("ml.robustness", "from ml.recognition.experiment import z\n"),
    ("ml.generation.piece", "from ml.generation.decode import d\nfrom ml.recognition.model import m\n"),
])
def test_the_ml_checker_lets_the_allowed_through(module: str, source: str) -> None:
    assert ml_violations(module, source) == []


@pytest.mark.parametrize(("package", "source", "expected"), [
    ("cli", "def f(c):\n    return c.registry.functions.workCount().call()\n", ".functions outside chain/"),
    ("api", "def f(c):\n    return c.router.caller.balanceOf(1, 2)\n", ".caller outside chain/"),
    ("economy", "x = lambda c: c.registry.functions\n", ".functions outside chain/"),
    ("ml", "def f():\n    from chain.derive import protocol_sources\n", "ml imports chain"),
    ("core", "import ml.data\n", "core imports ml"),
    ("dashboard", "from web3 import Web3\n", "dashboard imports web3"),
    ("dashboard", "import chain.catalogue\n", "dashboard imports chain"),
    ("chain", "from listening.analysis import summary_for_attestation\n", "chain imports listening"),
    ("economy", "from cli.main import app\n", "economy imports cli"),
])
def test_the_checker_catches_each_kind_of_breach(package: str, source: str, expected: str) -> None:
    found = violations(package, source)
    assert any(expected in v for v in found), found


@pytest.mark.parametrize(("package", "source"), [
    ("chain", "def f(c):\n    return c.registry.functions.workCount().call()\n"),  # chain/ is the gateway
    ("cli", "from chain import gateway as gw\nfrom ml.data import corpora\nimport api.app\n"),
    ("economy", "from chain.client import Chain\nfrom ml.data.abc import Tune\n"),
    ("ml", "from . import model\nfrom .model import X\n"),  # relative imports stay inside the package
    ("api", "def f(c):\n    return c.registry.events\n"),
])
def test_the_checker_lets_the_allowed_through(package: str, source: str) -> None:
    assert violations(package, source) == []


def too_long(source: str, where: str = "<source>") -> list[str]:
    """`source` as a breach of the size rule: over MAX_LINES lines without LONG_REASON in its docstring."""
    count = len(source.splitlines())
    if count <= MAX_LINES:
        return []
    doc = ast.get_docstring(ast.parse(source)) or ""
    if any(line.strip().startswith(LONG_REASON) for line in doc.splitlines()):
        return []
    return [f"{where}: {count} lines, over {MAX_LINES}: split it by responsibility, or say at its top why not "
            f"(a docstring line starting '{LONG_REASON}')"]


def test_no_python_file_is_longer_than_600_lines_without_a_reason() -> None:
    files = [path for folder in SOURCE_FOLDERS for path in sorted((REPO_ROOT / folder).rglob("*.py"))]
    assert len(files) > 300
    problems = [v for path in files for v in too_long(path.read_text(encoding="utf-8"), str(path.relative_to(REPO_ROOT)))]
    assert not problems, "\n".join(problems)


def test_the_size_rule_catches_a_long_file_and_lets_a_reasoned_one_through() -> None:
    body = "x = 1\n" * MAX_LINES
    assert too_long('"""A module."""\n' + body)
    assert too_long('"""A module that says it is long for no stated reason."""\n' + body)
    assert too_long("x = 0\n" + body + f"# {LONG_REASON} nothing: a comment is not the docstring\n")
    assert too_long('"""A module."""\n' + body[: -len("x = 1\n")]) == []  # exactly 600 lines
    assert too_long(f'"""A module.\n\n{LONG_REASON} one table must stay whole."""\n' + body) == []


def test_every_package_says_what_is_in_it() -> None:
    inits = [path for package in PACKAGES for path in sorted((REPO_ROOT / package).rglob("__init__.py"))]
    assert len(inits) > 15
    silent = [str(p.relative_to(REPO_ROOT)) for p in inits if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not silent, f"packages without an opening docstring (say what each module is for): {silent}"
