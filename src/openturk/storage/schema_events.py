"""Tables of notifications (settings and the durable outbox), review policy results and uploaded files."""

from __future__ import annotations
