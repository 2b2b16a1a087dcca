"""Notifications panel and Patient Permissions panel: small, so they share a module."""

from __future__ import annotations

from compiler.model.base import Panel
from compiler.model.meta import option
from compiler.model.types import Email


class Notifications(Panel):
    """Where portal emails come from."""

    email_from: Email | None = option(
        None,
        label="Email From",
        kind="text",
        panel="Notifications",
        help="Sender address of receipts and MFA emails.",
        example="no-reply@example.com",
    )


class PatientPermissions(Panel):
    """What fully authenticated patients may change themselves."""

    contact_info_editing: bool = option(
        False,
        label="Enable Contact Info Editing - Authorized Patients",
        kind="boolean",
        panel="Patient Permissions",
        help="Let authenticated patients edit their own contact details.",
    )
