"""A whole group file: one practice's portal setup."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from compiler.model.authentication import Authentication
from compiler.model.base import Panel, shared_default
from compiler.model.branding import Branding
from compiler.model.look_and_feel import LookAndFeel
from compiler.model.meta import option
from compiler.model.notifications import Notifications, PatientPermissions
from compiler.model.payments import Payments
from compiler.model.theme import Theme
from compiler.model.types import Name, Owners


class Group(Panel):
    """The top level of `groups/<slug>.yaml`; sections mirror the admin panels."""

    schema_: Literal[1] = option(
        1,
        alias="schema",
        label="Format Version",
        kind="choice",
        panel="File",
        help="Format version of this file. Only 1 exists.",
        example=1,
    )
    extends: str | None = option(
        None,
        label="Shared Base",
        kind="text",
        panel="File",
        help="Name of a shared base this group builds on: `extends: chain` reads "
        "groups/_chain.yaml, then applies this file on top.",
        example="riverside-chain",
    )
    owners: Owners | None = option(
        None,
        label="Owners",
        kind="list",
        panel="File",
        help="Who approves changes to this file: GitHub `@user`, `@org/team` or email "
        "addresses, written to .github/CODEOWNERS by `pops owners`. Not a portal setting. "
        "Without it, the owners of groups/_defaults.yaml (the platform team) approve.",
        example=["@example-org/sunrise-admins"],
    )
    name: Name = option(
        label="Name",
        kind="text",
        panel="Branding",
        help="Name patients see, usually the practice name (1 to 100 characters).",
        example="Sunrise Pediatrics",
    )
    branding: Branding = Field(default_factory=shared_default(Branding), description="Images.")
    theme: Theme = Field(default_factory=shared_default(Theme), description="Colours.")
    payments: Payments = Field(
        default_factory=shared_default(Payments), description="Payment options."
    )
    look_and_feel: LookAndFeel = Field(
        default_factory=shared_default(LookAndFeel), description="Footer and account-page options."
    )
    authentication: Authentication = Field(
        default_factory=shared_default(Authentication), description="Sessions, quick pay and MFA."
    )
    notifications: Notifications = Field(
        default_factory=shared_default(Notifications), description="Email sender."
    )
    patient_permissions: PatientPermissions = Field(
        default_factory=shared_default(PatientPermissions), description="What patients may change."
    )
