"""What an owner is: a GitHub user, a GitHub team or an email address.

The `owners` keys say who approves changes to a file (see compiler/authoring/owners.py);
the model checks each value with the same words wherever it is written.
"""

from __future__ import annotations

import re

# GitHub usernames: alphanumerics and single hyphens, no hyphen first or last, 1..39.
_LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_USER = re.compile(rf"@{_LOGIN}")
# `@org/team`: an organisation login and a team slug (letters, digits, `_`, `-`).
_TEAM = re.compile(rf"@{_LOGIN}/[A-Za-z0-9](?:[A-Za-z0-9_-]{{0,98}}[A-Za-z0-9])?")


def owner_problem(value: str) -> str | None:
    """Why `value` is not a CODEOWNERS owner, or None when it is one."""
    if _USER.fullmatch(value) or _TEAM.fullmatch(value):
        return None
    shown = value[:120]
    if not value.startswith("@") and "@" in value:
        import email_validator

        try:
            email_validator.validate_email(value, check_deliverability=False)
        except email_validator.EmailNotValidError as exc:
            return f"`{shown}` is not a valid email address: {exc}"
        return None
    if value.startswith("@") and value.count("/") == 1:
        return (
            f"`{shown}` is not a GitHub team: write `@org/team-slug` (letters, digits, "
            "single hyphens in the organisation; letters, digits, `-` or `_` in the team)"
        )
    if value.startswith("@"):
        return (
            f"`{shown}` is not a GitHub username: 1 to 39 letters, digits or single "
            "hyphens, not starting or ending with a hyphen"
        )
    return f"`{shown}` is not an owner: write `@user`, `@org/team` or an email address"


def empty_message(where: str) -> str:
    return f"`{where}` is empty; name at least one owner, or remove the key"
