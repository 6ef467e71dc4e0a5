"""A newcomer's first `make run`: the printed snippet and the README's example work as pasted."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support import start_server

README = Path(__file__).resolve().parent.parent / "README.md"


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_first_start_creates_a_funded_requester_and_prints_a_working_snippet(db_url: str) -> None:
    server = start_server(db_url)
    try:
        banner = server.text()
        snippet = banner[banner.index("import boto3") :].split("\n\n")[0] + "\n"
        snippet = snippet[: snippet.index("print(mturk.get_account_balance())") + 34]
        balance = ast.literal_eval(run_python(snippet).strip())
        assert balance["AvailableBalance"] == "10000.00"
        assert balance["OnHoldBalance"] == "0.00"
        key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", banner)
        assert key is not None
        assert [r.access_key_ids for r in server.services.accounts.list_requesters()] == [(key.group(1),)]
    finally:
        server.stop()
    # A second start on the same database creates nobody and prints no secret.
    again = start_server(db_url)
    try:
        assert "AWS_SECRET_ACCESS_KEY" not in again.text()
        assert len(again.services.accounts.list_requesters()) == 1
    finally:
        again.stop()


def test_the_readme_example_runs_against_a_real_server(db_url: str) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has a boto3 example"
    server = start_server(db_url)
    try:
        lab = server.requester("readme", 1_000_000)
        code = (
            blocks[0]
            .replace("http://127.0.0.1:8000", server.url)
            .replace('"AKIA..."', repr(lab.access_key_id))
            .replace('aws_secret_access_key="..."', f"aws_secret_access_key={lab.secret_access_key!r}")
        )
        output = run_python(code)
        assert "'AvailableBalance': '10000.00'" in output
        assert "'OnHoldBalance': '0.00'" in output
    finally:
        server.stop()


def test_the_readme_boto2_example_runs_against_a_real_server(db_url: str) -> None:
    pytest.importorskip("boto.mturk.connection", reason="boto 2 needs Python < 3.12")
    [block] = [
        b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S) if "boto.mturk" in b
    ]
    server = start_server(db_url)
    try:
        lab = server.requester("readme", 1_000_000)
        code = (
            block.replace("port=8000", f"port={urlsplit(server.url).port}")
            .replace('"AKIA..."', repr(lab.access_key_id))
            .replace('aws_secret_access_key="..."', f"aws_secret_access_key={lab.secret_access_key!r}")
        )
        output = run_python(code)
        assert "[$10,000.00]" in output
    finally:
        server.stop()


@pytest.mark.parametrize("commands", [["make", "-n", "run"], ["make", "-n", "test"]])
def test_the_readme_commands_exist(commands: list[str]) -> None:
    result = subprocess.run(commands, cwd=README.parent, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
