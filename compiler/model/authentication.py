"""Authentication panel: session length, quick-pay links and multi-factor sign-in."""

from __future__ import annotations

from pydantic import Field

from compiler.model.base import Panel, shared_default
from compiler.model.types import Host, Message, Role, SenderName, Subject

MFA_CODE = "${mfa.code}"


class Mfa(Panel):
    """Multi-factor authentication and the email and SMS that carry the code."""

    enabled: bool = Field(
        False, description="Let patients fully authenticate with a one-time code."
    )
    required: bool = Field(
        False,
        description="Make patients who arrive through a quick-pay link pass MFA straight "
        "away. Needs enabled.",
    )
    require_opposing_contact_methods: bool = Field(
        False,
        description="Send the code by email to patients who arrived by SMS, and by SMS to those "
        "who arrived by email. Needs both an email and an SMS channel.",
    )
    success_role: Role | None = Field(
        None,
        description="Role given to a patient who passes MFA. Required when MFA is enabled.",
        examples=["authorized_patient"],
    )
    email_subject: Subject | None = Field(
        None,
        description="Subject line of the MFA email: one line, up to 78 characters.",
        examples=["Your verification code"],
    )
    email_body: Message | None = Field(
        None,
        description="Plain-text body of the MFA email. Must contain ${mfa.code}, which the "
        "sender replaces with the code.",
        examples=["Your verification code is ${mfa.code}.\n"],
    )
    sms_message: Message | None = Field(
        None,
        description="Text message carrying the code. Must contain ${mfa.code}; keep it within "
        "one SMS segment.",
        examples=["Code: ${mfa.code}"],
    )
    sms_sender_name: SenderName | None = Field(
        None,
        description="Short name of the practice as the SMS writes it, when it is not the "
        "group's full name. Carriers expect every SMS to say who sent it.",
        examples=["Sunrise Peds"],
    )
    sms_origin: Host | None = Field(
        None,
        description="Host name of the portal. When set, the SMS ends with the line "
        "@host #${mfa.code}, so phones and browsers offer to fill in the code on that site "
        "only.",
        examples=["portal.example.com"],
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

    allow_session_extension: bool = Field(
        False,
        description="Warn patients when under 10 minutes of their session remain and let them "
        "extend it. Off: they are signed out when it runs out.",
    )
    quickpay_max_access_attempts: int = Field(
        3,
        ge=1,
        le=100,
        description="How many times a quick-pay link can be opened before it stops working "
        "(1 to 100).",
    )
    mfa: Mfa = Field(
        default_factory=shared_default(Mfa), description="Multi-factor authentication."
    )
