"""pops-groups: compile POPS Group YAML into the static artifacts the portal reads."""

__version__ = "0.1.0"
