"""Signing workers in to the worker pages.

The worker pages act as a worker: they list the HITs the worker may take, preview them with the
worker's Qualifications, accept them.  A workerId in the address is no proof of who is asking (every
requester sees the ids of the workers who did their HITs), so where others can reach the server the
pages require a sign-in (``Settings.worker_sign_in``).  Each worker has a sign-in key, derived from the
marketplace's secret (nothing stored, the same for every server process on the database), handed out
by ``openturk worker sign-in-link``; signing in with it gives a session naming the worker, signed with
the same secret, valid for 30 days.

The task page and externalSubmit act on one assignment and are reached by its id alone, as MTurk's
ExternalQuestion pages post with nothing but the assignmentId: they need no sign-in.
"""

from __future__ import annotations

import hashlib
import hmac

from openturk.errors import PermissionDeniedError
from openturk.service import slots
from openturk.service.uow import MarketTransactions

SESSION_LIFETIME_S = 30 * 86_400


class WorkerSignIn:
    def __init__(self, tx: MarketTransactions, secret: str) -> None:
        self._tx = tx
        self._secret = secret.encode()

    def key(self, worker_id: str) -> str:
        """The worker's sign-in key (WorkerDoesNotExist for an unknown worker)."""
        with self._tx.read() as (conn, _now):
            slots.load_worker(conn, worker_id)
        return self._mac("sign-in", worker_id)

    def sign_in(self, worker_id: str, key: str, now_s: int) -> str:
        """A session for the worker this key belongs to; a wrong key is refused."""
        if not hmac.compare_digest(key.encode(), self._mac("sign-in", worker_id).encode()):
            raise PermissionDeniedError("The worker id and sign-in key do not match.")
        with self._tx.read() as (conn, _now):
            slots.load_worker(conn, worker_id)
        expires = now_s + SESSION_LIFETIME_S
        return f"{worker_id}.{expires}.{self._mac('session', f'{worker_id}.{expires}')}"

    def worker_of(self, session: str | None, now_s: int) -> str | None:
        """The worker a live, untampered session names, else None."""
        worker_id, _, rest = (session or "").partition(".")
        expires, _, signature = rest.partition(".")
        if not (worker_id and expires.isdigit() and signature):
            return None
        expected = self._mac("session", f"{worker_id}.{expires}")
        if not hmac.compare_digest(signature.encode(), expected.encode()) or int(expires) <= now_s:
            return None
        return worker_id

    def _mac(self, purpose: str, value: str) -> str:
        message = f"openturk worker {purpose}\x00{value}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:40]
