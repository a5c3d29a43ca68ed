"""``zndraw-widget user add|remove|list`` and ``serve --users``: the users file, its bad inputs."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

from zndraw_widget.users import Users, token_hash


def zndraw(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zndraw_widget", *args],
                          capture_output=True, text=True, timeout=60)


def test_users_are_added_listed_and_removed_and_only_token_hashes_are_kept(tmp_path):
    users = tmp_path / "users.json"
    added = zndraw("user", "add", "ann", "--group", "lab", "--users", str(users))
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    assert token not in users.read_text()  # only its hash
    assert json.loads(users.read_text())["users"]["ann"]["token_sha256"] == token_hash(token)
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    assert zndraw("user", "add", "root", "--admin", "--users", str(users)).returncode == 0
    listed = zndraw("user", "list", "--users", str(users)).stdout
    assert "ann  groups: lab" in listed and "root  groups: -  admin" in listed
    ann = Users(users).lookup(token)
    assert (ann.name, ann.groups, ann.admin) == ("ann", frozenset({"lab"}), False)
    renewed = zndraw("user", "add", "ann", "--new-token", "--users", str(users))
    assert renewed.returncode == 0 and Users(users).lookup(token) is None  # the old one is gone
    assert zndraw("user", "remove", "ann", "--users", str(users)).returncode == 0
    assert "ann" not in zndraw("user", "list", "--users", str(users)).stdout


def test_bad_user_commands_say_what_to_do_and_change_nothing(tmp_path):
    users = tmp_path / "users.json"
    zndraw("user", "add", "ann", "--users", str(users))
    before = users.read_text()
    for args, says in [
        (("add", "ann"), "exists; --new-token"),
        (("add", "bad name!"), "invalid user name"),
        (("add", "ben", "--new-token"), "no user 'ben'"),
        (("remove", "ben"), "no user 'ben'"),
    ]:
        done = zndraw("user", *args, "--users", str(users))
        assert done.returncode == 1 and says in done.stderr, (args, done.stderr)
        assert users.read_text() == before


def test_serve_refuses_a_broken_users_file_with_a_clear_error(tmp_path):
    users = tmp_path / "users.json"
    users.write_text("{not json")
    done = zndraw("serve", "--port", "0", "--storage", str(tmp_path / "data"),
                  "--users", str(users))
    assert done.returncode == 1
    assert "is not a users file" in done.stderr and "user add" in done.stderr
    assert "Traceback" not in done.stderr
