"""The admin CLI as a user runs it: a real process on a real SQLite file."""

from __future__ import annotations

import json

from tests.support import run_cli


def cli_json(*args: str) -> dict[str, object]:
    result = run_cli(*args)
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, dict)
    return parsed


def test_requester_create_fund_list(db_url: str) -> None:
    created = cli_json("requester", "create", "lab", "--balance", "25.50", "--json", "--db", db_url)
    assert created["name"] == "lab"
    assert created["balance"] == "25.50"
    assert str(created["access_key_id"]).startswith("AKIA")
    assert len(str(created["secret_access_key"])) == 40

    # --db and --json before the subcommand work too.
    funded = cli_json("--db", db_url, "--json", "requester", "fund", str(created["access_key_id"]), "10")
    assert funded == {"access_key_id": created["access_key_id"], "balance": "35.50"}

    listed = cli_json("requester", "list", "--db", db_url, "--json")
    rows = listed["requesters"]
    assert isinstance(rows, list)
    assert len(rows) == 1
    assert rows[0]["balance"] == "35.50"
    # The secret is shown at creation only.
    assert str(created["secret_access_key"]) not in json.dumps(listed)
    assert str(created["secret_access_key"]) not in run_cli("requester", "list", "--db", db_url).stdout


def test_bad_amounts_are_refused_without_a_traceback(db_url: str) -> None:
    created = cli_json("requester", "create", "lab", "--json", "--db", db_url)
    for amount in ("-5", "1.234", "abc", "0"):
        result = run_cli(
            "requester", "fund", str(created["access_key_id"]), amount, "--db", db_url, check=False
        )
        assert result.returncode == 1, amount
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("openturk: ")
    unknown = run_cli("requester", "fund", "AKIANOPE", "5", "--json", "--db", db_url, check=False)
    assert unknown.returncode == 1
    assert "does not exist" in json.loads(unknown.stdout)["error"]
    assert cli_json("requester", "list", "--json", "--db", db_url)["requesters"][0]["balance"] == "0.00"  # type: ignore[index]


def test_clock_advance_and_show(db_url: str) -> None:
    before = cli_json("clock", "show", "--json", "--db", db_url)
    assert before["offset_seconds"] == 0
    advanced = cli_json("clock", "advance", "1d12h", "--json", "--db", db_url)
    assert advanced["offset_seconds"] == 36 * 3600
    assert cli_json("clock", "advance", "90s", "--json", "--db", db_url)["offset_seconds"] == 36 * 3600 + 90
    bad = run_cli("clock", "advance", "soon", "--db", db_url, check=False)
    assert bad.returncode == 1
    assert "not a duration" in bad.stderr
    # Past what a date can hold, or a century ahead: refused, and the clock stays usable.
    for too_far in ("99999999999d", "36600d", "5219w"):
        refused = run_cli("clock", "advance", too_far, "--json", "--db", db_url, check=False)
        assert refused.returncode == 1, too_far
        assert "Traceback" not in refused.stderr
        assert json.loads(refused.stdout)["error"]
    assert cli_json("clock", "show", "--json", "--db", db_url)["offset_seconds"] == 36 * 3600 + 90
    assert float(str(cli_json("clock", "advance", "3650d", "--json", "--db", db_url)["offset_seconds"])) > 0


def test_ledger_audit_is_clean_after_deposits(db_url: str) -> None:
    first = cli_json("requester", "create", "a", "--balance", "100", "--json", "--db", db_url)
    cli_json("requester", "create", "b", "--balance", "0.01", "--json", "--db", db_url)
    cli_json("requester", "fund", str(first["access_key_id"]), "0.99", "--json", "--db", db_url)
    report = cli_json("ledger", "audit", "--json", "--db", db_url)
    assert report["ok"] is True
    assert report["deposited"] == report["held"] == "101.00"
    assert report["entries"] == 3
    # Commands that cannot do what was asked say so in their one JSON object, never with a traceback.
    for argv in (
        ("ledger", "export", "--csv", "/nonexistent/dir/x.csv"),
        ("ledger", "export", "--csv", "/tmp"),
    ):
        failed = run_cli(*argv, "--json", "--db", db_url, check=False)
        assert failed.returncode == 1
        assert "cannot write" in json.loads(failed.stdout)["error"]
        assert "Traceback" not in failed.stderr
    for limit in ("-1", "0", "99999999999999999999"):
        refused = run_cli("notifications", "list", "--limit", limit, "--db", db_url, check=False)
        assert refused.returncode == 2
        assert "not a number of messages" in refused.stderr


def test_a_worker_locale_is_an_iso_3166_code(db_url: str) -> None:
    made = cli_json(
        "worker", "create", "ana", "--country", "de", "--subdivision", "by", "--json", "--db", db_url
    )
    assert str(made["worker_id"]).startswith("A")
    for bad in (("--country", "usa"), ("--country", "X1"), ("--country", "US", "--subdivision", "WASH")):
        refused = run_cli("worker", "create", "bo", *bad, "--json", "--db", db_url, check=False)
        assert refused.returncode == 1, bad
        assert "ISO 3166" in json.loads(refused.stdout)["error"]


def test_with_json_even_a_mistyped_command_answers_one_json_object(db_url: str) -> None:
    for argv, status in (
        (("requester", "fund", "--json"), 2),  # arguments missing: argparse's complaint, as JSON
        (("--json", "clock"), 2),  # a group without its action
        (("requester", "create", "", "--json"), 1),  # a requester needs a name
    ):
        result = run_cli(*argv, "--db", db_url, check=False)
        assert result.returncode == status, argv
        assert json.loads(result.stdout)["error"], argv
        assert "Traceback" not in result.stderr
    # --json and --db between a group and its action work too.
    made = cli_json("worker", "--json", "--db", db_url, "create", "zed")
    assert str(made["worker_id"]).startswith("A")
