"""A command imports what it needs and no more (cli/lazy.py): `heritage recognize` and `classify`
never load the chain client, the index, the API or scikit-learn, and the whole command line starts
without torch. Each check runs in a fresh interpreter and reads its sys.modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]

from core.paths import REPO_ROOT

HEAVY = ("web3", "eth_account", "sqlalchemy", "fastapi", "uvicorn", "torch", "sklearn", "pandas", "scipy.signal", "librosa")
CHAIN = ("web3", "eth_account", "sqlalchemy", "fastapi", "uvicorn")
"""What recognize and classify must not import even when they run: the chain, the index and the API."""
RUN = """
import json, sys
from cli.main import app
try:
    app(sys.argv[1:], prog_name="heritage")
except SystemExit as done:
    code = done.code
print("\\nLOADED " + json.dumps([m for m in {heavy} if m in sys.modules]) + " " + json.dumps(code))
"""


def loaded(*args: str) -> tuple[list[str], object]:
    """The HEAVY modules `heritage ARGS` imported, and its exit code."""
    done = subprocess.run([sys.executable, "-c", RUN.format(heavy=HEAVY), *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=False, timeout=120)
    line = next(x for x in done.stdout.splitlines()[::-1] if x.startswith("LOADED "))
    modules, code = line.removeprefix("LOADED ").rsplit(" ", 1)
    return json.loads(modules), json.loads(code)


def test_importing_the_command_line_imports_nothing_heavy() -> None:
    done = subprocess.run([sys.executable, "-c", f"import sys, cli.main; print([m for m in {HEAVY} if m in sys.modules])"],
                          cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["recognize", "classify", "recognition", "classification", "robustness"])
def test_an_ml_commands_help_imports_nothing_heavy(command: str) -> None:
    assert loaded(command, "--help") == ([], 0)


def test_the_check_sees_a_chain_command_load_the_chain_client() -> None:
    modules, code = loaded("pay", "--help")
    assert code == 0 and "web3" in modules and "torch" not in modules


def test_recognize_and_classify_answer_without_the_chain_or_scikit_learn(tmp_path: Path) -> None:
    t = np.arange(round(22_050 * 3.5)) / 22_050  # one 3-s segment and a bit
    sf.write(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * t), 22_050)
    for command in ("recognize", "classify"):
        modules, code = loaded(command, str(tmp_path / "tone.wav"), "--json")
        assert code in (0, None), command
        assert "torch" in modules, command  # it did answer with a model
        assert not set(modules) & {*CHAIN, "sklearn", "pandas", "scipy.signal"}, (command, modules)
