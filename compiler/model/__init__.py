"""Pydantic models of a group, one module per admin panel. No I/O here."""

from compiler.model.authentication import MFA_CODE, Authentication, Mfa
from compiler.model.branding import Branding
from compiler.model.group import Group
from compiler.model.look_and_feel import Footer, LookAndFeel, phone_formats
from compiler.model.notifications import Notifications, PatientPermissions
from compiler.model.payments import Payments
from compiler.model.theme import COLOR_NAMES, DARK_PALETTE, LIGHT_PALETTE, Colors, Theme

__all__ = [
    "COLOR_NAMES",
    "DARK_PALETTE",
    "LIGHT_PALETTE",
    "MFA_CODE",
    "Authentication",
    "Branding",
    "Colors",
    "Footer",
    "Group",
    "LookAndFeel",
    "Mfa",
    "Notifications",
    "PatientPermissions",
    "Payments",
    "Theme",
    "phone_formats",
]
