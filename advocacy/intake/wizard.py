"""The guided intake: steps, drafts, autosave and the bed at the end."""

from __future__ import annotations
