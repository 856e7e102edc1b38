"""Entrypoint of a multi-file seed agent."""
from helpers.prompting import build_prompt  # noqa: F401
