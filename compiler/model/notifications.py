"""Notifications panel and Patient Permissions panel: small, so they share a module."""

from __future__ import annotations

from pydantic import Field

from compiler.model.base import Panel
from compiler.model.types import Email


class Notifications(Panel):
    """Where portal emails come from."""

    email_from: Email | None = Field(
        None,
        description="Sender address of receipts and MFA emails.",
        examples=["no-reply@example.com"],
    )


class PatientPermissions(Panel):
    """What fully authenticated patients may change themselves."""

    contact_info_editing: bool = Field(
        False, description="Let authenticated patients edit their own contact details."
    )
