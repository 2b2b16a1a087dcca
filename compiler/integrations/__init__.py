"""Glue for CI systems that run pops on a groups repository (the GitHub Action's script)."""
