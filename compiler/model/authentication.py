"""Authentication panel: session length, quick-pay links and multi-factor sign-in."""

from __future__ import annotations

from pydantic import Field

from compiler.model.base import Panel, shared_default
from compiler.model.meta import option
from compiler.model.types import Host, Message, Role, SenderName, Subject

MFA_CODE = "${mfa.code}"


class Mfa(Panel):
    """Multi-factor authentication and the email and SMS that carry the code."""

    enabled: bool = option(
        False,
        label="Enable MFA",
        kind="boolean",
        panel="Authentication",
        help="Let patients fully authenticate with a one-time code.",
    )
    required: bool = option(
        False,
        label="Require MFA",
        kind="boolean",
        panel="Authentication",
        help="Make patients who arrive through a quick-pay link pass MFA straight "
        "away. Needs enabled.",
    )
    require_opposing_contact_methods: bool = option(
        False,
        label="MFA Require Opposing Contact Methods",
        kind="boolean",
        panel="Authentication",
        help="Send the code by email to patients who arrived by SMS, and by SMS to those "
        "who arrived by email. Needs both an email and an SMS channel.",
    )
    success_role: Role | None = option(
        None,
        label="MFA Success Role",
        kind="text",
        panel="Authentication",
        help="Role given to a patient who passes MFA. Required when MFA is enabled.",
        example="authorized_patient",
    )
    email_subject: Subject | None = option(
        None,
        label="MFA Email Subject",
        kind="text",
        panel="Authentication",
        help="Subject line of the MFA email: one line, up to 78 characters.",
        example="Your verification code",
    )
    email_body: Message | None = option(
        None,
        label="MFA Email Body",
        kind="multiline",
        panel="Authentication",
        help="Plain-text body of the MFA email. Must contain ${mfa.code}, which the "
        "sender replaces with the code.",
        example="Your verification code is ${mfa.code}.\n",
    )
    sms_message: Message | None = option(
        None,
        label="MFA SMS Message",
        kind="multiline",
        panel="Authentication",
        help="Text message carrying the code. Must contain ${mfa.code}; keep it within "
        "one SMS segment.",
        example="Code: ${mfa.code}",
    )
    sms_sender_name: SenderName | None = option(
        None,
        label="MFA SMS Sender Name",
        kind="text",
        panel="Authentication",
        help="Short name of the practice as the SMS writes it, when it is not the "
        "group's full name. Carriers expect every SMS to say who sent it.",
        example="Sunrise Peds",
    )
    sms_origin: Host | None = option(
        None,
        label="MFA SMS Origin",
        kind="text",
        panel="Authentication",
        help="Host name of the portal. When set, the SMS ends with the line "
        "@host #${mfa.code}, so phones and browsers offer to fill in the code on that site "
        "only.",
        example="portal.example.com",
    )

    def email_channel(self) -> bool:
        """The email channel exists only with both a subject and a body."""
        return self.email_subject is not None and self.email_body is not None

    def sms_channel(self) -> bool:
        return self.sms_message is not None

    def sms_text(self) -> str | None:
        """The SMS as the sender gets it: the message, then the origin-bound line last.

        One place for what rules count and what the renderer writes, so a segment
        count never judges a text other than the one patients receive.
        """
        if self.sms_message is None:
            return None
        text = self.sms_message.replace("\r\n", "\n").strip("\n")
        if self.sms_origin is not None:
            text += f"\n\n@{self.sms_origin} #{MFA_CODE}"
        return text


class Authentication(Panel):
    """Sign-in behaviour."""

    allow_session_extension: bool = option(
        False,
        label="Allow Session Extension",
        kind="boolean",
        panel="Authentication",
        help="Warn patients when under 10 minutes of their session remain and let them "
        "extend it. Off: they are signed out when it runs out.",
    )
    quickpay_max_access_attempts: int = option(
        3,
        ge=1,
        le=100,
        label="QuickPay Max Access Attempts",
        kind="number",
        panel="Authentication",
        help="How many times a quick-pay link can be opened before it stops working (1 to 100).",
        example=5,
    )
    mfa: Mfa = Field(
        default_factory=shared_default(Mfa), description="Multi-factor authentication."
    )
