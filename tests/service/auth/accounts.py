"""Accounts for tests that call the service: a user of a role, its password, its API token."""

from __future__ import annotations

from dataclasses import dataclass

from vesalius.store import Store
from vesalius.store.roles import Role
from vesalius.store.users import add_user, create_token

PASSWORD = "a long test password"


@dataclass(frozen=True)
class Account:
    """A user made for a test: Basic credentials and Bearer headers."""

    username: str
    role: Role
    password: str
    token: str

    @property
    def basic(self) -> tuple[str, str]:
        """``auth=`` for httpx and requests."""
        return self.username, self.password

    @property
    def bearer(self) -> dict[str, str]:
        """The ``Authorization`` header of the account's API token."""
        return {"Authorization": f"Bearer {self.token}"}


def make_account(store: Store, role: Role, username: str | None = None) -> Account:
    """Create an active user of ``role`` (named after it unless told) with an API token."""
    name = username or f"test-{role.value}"
    with store.session() as session:
        add_user(session, name, role, PASSWORD, full_name=f"Test {role.value}")
        token = create_token(session, name, name="tests")
    return Account(name, role, PASSWORD, token)
