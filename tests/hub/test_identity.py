"""Who a hub request is, in both hub modes (no hub running: the models are the hub's)."""

from __future__ import annotations

from jupyter_server.auth import User as JupyterUser
from jupyterhub.singleuser.extension import JupyterHubUser

from zndraw_widget.caller import User
from zndraw_widget.server.extension import hub_identity
from zndraw_widget.server.hub_auth import hub_user

BOB = {"kind": "user", "name": "bob", "groups": ["lab", "md"], "admin": True, "scopes": []}


def test_a_hub_user_model_gives_name_groups_and_admin():
    assert hub_user(BOB) == User("bob", frozenset({"lab", "md"}), admin=True)
    assert hub_user({"name": "carol"}) == User("carol")  # a token that may read no more


def test_a_hub_service_never_passes_for_a_user_of_its_name():
    assert hub_user({"kind": "service", "name": "bob"}) == User("service:bob")


def test_the_extension_under_a_hub_calls_the_hub_user():
    assert hub_identity(JupyterHubUser(BOB)) == User("bob", frozenset({"lab", "md"}), True)
    assert hub_identity(JupyterUser("anonymous-123")) is None  # not under a hub
