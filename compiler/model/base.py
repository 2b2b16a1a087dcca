"""The one model configuration every panel shares: strict types, unknown keys refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Panel(BaseModel):
    """Strict: `yes` is not a boolean, `2125550199` is not a phone, typos are not ignored."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
