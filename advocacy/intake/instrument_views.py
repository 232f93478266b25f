"""An agency's risk instruments: the shipped ones and those added from a file."""

from __future__ import annotations
