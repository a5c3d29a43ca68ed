"""The standalone server's users file: who may log in, with which token.

JSON, ``{"users": {"ann": {"groups": ["lab"], "admin": false, "token_sha256": "<hex>"}}}``:
only the hash of each token is kept, and the file is readable by its owner alone.
``zndraw-widget user add|remove|list`` edits it; ``serve --users FILE`` reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from .caller import User

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}\Z")
TOKEN_USER = "token"  # the admin user of ``serve --token``


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UsersFile:
    """The users in the file at ``path`` (none if it does not exist yet)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.entries: dict[str, dict] = {}
        if self.path.exists():
            try:
                self.entries = dict(json.loads(self.path.read_text())["users"])
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{self.path} is not a users file ({error!r}): make one with "
                                 "'zndraw-widget user add NAME --users FILE'") from None

    def add(self, name: str, groups: Iterable[str] = (), admin: bool = False,
            new_token: bool = False) -> str:
        """Add user ``name`` (or, with ``new_token``, give an existing one a new token) and
        save; return the user's new token."""
        if not NAME.match(name):
            raise ValueError(f"invalid user name {name!r}: 1-64 letters, digits or _.@-")
        if name in self.entries and not new_token:
            raise ValueError(f"user {name!r} exists; --new-token gives them a new token")
        if name not in self.entries and new_token:
            raise ValueError(f"no user {name!r} to give a new token")
        token = secrets.token_urlsafe(24)
        entry = self.entries.get(name) or {"groups": sorted(set(groups)), "admin": admin}
        self.entries[name] = {**entry, "token_sha256": token_hash(token)}
        self.save()
        return token

    def remove(self, name: str) -> None:
        if self.entries.pop(name, None) is None:
            raise ValueError(f"no user {name!r}")
        self.save()

    def save(self) -> None:
        """Write the file (mode 0600) in one step: readers see the old or the new one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"users": self.entries}, f, indent=2, sort_keys=True)
        os.replace(tmp, self.path)

    def users(self) -> list[User]:
        return [User(name, frozenset(e.get("groups", ())), bool(e.get("admin", False)))
                for name, e in sorted(self.entries.items())]


class Users:
    """Who each token stands for: the users of a users file and, for ``--token``, the
    admin user ``token``."""

    def __init__(self, users_file: str | Path | None = None, token: str | None = None) -> None:
        self.by_hash: dict[str, User] = {}
        if users_file is not None:
            file = UsersFile(users_file)
            for user in file.users():
                self.by_hash[file.entries[user.name]["token_sha256"]] = user
        if token:
            self.by_hash[token_hash(token)] = User(TOKEN_USER, admin=True)
        self.by_name = {user.name: user for user in self.by_hash.values()}

    def lookup(self, token: str) -> User | None:
        """The user ``token`` belongs to, if any."""
        return self.by_hash.get(token_hash(token))

    def secret(self) -> str:
        """A key derived from every token: servers with the same users share it."""
        return hashlib.sha256("".join(sorted(self.by_hash)).encode()).hexdigest()
