"""Tables of the qualification system, worker blocks and messages to workers (on the shared metadata)."""

from __future__ import annotations
