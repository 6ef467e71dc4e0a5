"""Files workers upload (FileUploadAnswer, or any file part posted to externalSubmit) and the
temporary URLs GetFileUploadURL hands the requester.

* A QuestionForm's FileUploadAnswer bounds the size (MinFileSizeInBytes..MaxFileSizeInBytes); a file
  posted for an ExternalQuestion or HTMLQuestion is bounded by ``OPENTURK_FILES_MAX_BYTES`` (100 MB).
* Files up to ``OPENTURK_FILES_INLINE_BYTES`` (64 KiB) are kept in the database; larger ones in a files
  folder outside it: ``OPENTURK_FILES_DIR``, or ``<database file>.files/`` next to an SQLite file, or
  ``./openturk-files`` otherwise.  A submission is checked first (its assignment can be submitted, its
  fields are questions) without reading a byte; then the files are copied in, outside any transaction;
  then their rows are written in the submission's transaction.  A submission that fails at any step
  removes the files it copied: no row without its file, and no file without its row.
* The answer carries MTurk's ``UploadedFileSizeInBytes`` and ``UploadedFileKey``.
* GetFileUploadURL: ``/mturk/files/<key>?requester=..&expires=..&signature=..``, an HMAC (keyed from the
  marketplace's secret) over the file, the owning requester and the expiry, 60 seconds ahead on the
  marketplace clock.  Only that requester's own assignments yield a URL; a changed URL fails its
  signature; after expiry (``openturk clock advance``) or once the HIT is deleted it answers 403/404.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Row

from openturk import ids
from openturk.errors import ParameterError
from openturk.service import transitions
from openturk.service.questions import Question, QuestionKind
from openturk.service.uow import MarketTransactions
from openturk.storage.db import Database
from openturk.storage.schema import hits, marketplace
from openturk.storage.schema_events import uploaded_files
from openturk.storage.types import to_micros

URL_LIFETIME = timedelta(seconds=60)
DOWNLOAD_PATH = "/mturk/files"
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file part of a worker's submission, not yet stored."""

    field: str
    filename: str | None
    content_type: str | None
    stream: IO[bytes]


@dataclass(frozen=True, slots=True)
class FileStore:
    folder: Path
    inline_bytes: int
    max_bytes: int

    @classmethod
    def for_database(cls, db_url: str, env: Mapping[str, str] | None = None) -> FileStore:
        env = os.environ if env is None else env
        configured = env.get("OPENTURK_FILES_DIR")
        if configured:
            folder = Path(configured)
        elif db_url.startswith("sqlite") and ":memory:" not in db_url and db_url.split(":///", 1)[-1]:
            database = Path(db_url.split(":///", 1)[1])
            folder = database.with_name(database.name + ".files")
        else:
            folder = Path("openturk-files")
        return cls(
            folder=folder,
            inline_bytes=int(env.get("OPENTURK_FILES_INLINE_BYTES", str(64 * 1024))),
            max_bytes=int(env.get("OPENTURK_FILES_MAX_BYTES", str(100 * 1024 * 1024))),
        )

    def read(self, row: Row[Any]) -> bytes:
        if row.content is not None:
            return bytes(row.content)
        return (self.folder / str(row.storage_path)).read_bytes()


class FileTooLargeError(ParameterError):
    pass


def _bounds(question: Question, field: str) -> tuple[int, int] | None:
    """(min, max) for a FileUploadAnswer field; None when the field is no file question of a form."""
    for fq in question.form_questions:
        if fq.identifier == field and fq.answer_kind == "FileUploadAnswer":
            return fq.file_size_range or (0, 2_000_000_000)
    return None


def check_text_answers(question: Question, answers: Sequence[tuple[str, str]]) -> None:
    """A QuestionForm's FileUploadAnswer question takes a file, never a text value."""
    if question.kind is not QuestionKind.FORM:
        return
    for field, value in answers:
        if value.strip() and _bounds(question, field) is not None:
            raise ParameterError(
                f"Question '{field}' asks for a file upload; send the file, not a text value.",
                data={"QuestionIdentifier": field},
            )


@dataclass(frozen=True, slots=True)
class AcceptedFile:
    """A file part that may be kept, with the size bounds it must meet."""

    incoming: IncomingFile
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class StagedFile:
    """A file's bytes, checked and on disk (or in memory, to go into the database), with no row yet."""

    id: str
    field: str
    filename: str | None
    content_type: str | None
    size_bytes: int
    sha256: str
    content: bytes | None  # small files: kept in the database row
    path: Path | None  # larger ones: in the files folder


def check_files(store: FileStore, question: Question, files: Sequence[IncomingFile]) -> list[AcceptedFile]:
    """Which file parts a submission may keep and within which sizes: one per field, and in a
    QuestionForm only for its FileUploadAnswer questions.  Reads no bytes."""
    seen: set[str] = set()
    accepted = []
    for incoming in files:
        if incoming.field in seen:
            raise ParameterError(
                f"Question '{incoming.field}' has more than one file.",
                data={"QuestionIdentifier": incoming.field},
            )
        seen.add(incoming.field)
        low, high = 0, store.max_bytes
        if question.kind is QuestionKind.FORM:
            bounds = _bounds(question, incoming.field)
            if bounds is None:
                raise ParameterError(
                    f"There is no file upload question '{incoming.field}' in this HIT's QuestionForm.",
                    data={"QuestionIdentifier": incoming.field},
                )
            low, high = bounds
        accepted.append(AcceptedFile(incoming, low, high))
    return accepted


def stage_files(store: FileStore, accepted: Sequence[AcceptedFile]) -> list[StagedFile]:
    """Copy each file in (outside any transaction: a large copy must not hold the write lock); on
    any failure nothing of this submission is left on disk."""
    staged: list[StagedFile] = []
    try:
        for item in accepted:
            staged.append(_stage(store, item))
    except BaseException:
        discard(staged)
        raise
    return staged


def record_files(
    conn: Connection, assignment: Row[Any], staged: Sequence[StagedFile], now: datetime
) -> dict[str, tuple[int, str]]:
    """The staged files' rows, in the submission's transaction; returns ``{field: (size, key)}``."""
    for item in staged:
        conn.execute(
            insert(uploaded_files).values(
                id=item.id,
                assignment_id=assignment.id,
                hit_id=assignment.hit_id,
                requester_id=assignment.requester_id,
                question_identifier=item.field,
                filename=(item.filename or None) and item.filename[:255],
                content_type=(item.content_type or None) and item.content_type[:255],
                size_bytes=item.size_bytes,
                sha256=item.sha256,
                content=item.content,
                storage_path=item.id if item.path is not None else None,
                created_at=now,
            )
        )
    return {item.field: (item.size_bytes, item.id) for item in staged}


def discard(staged: Sequence[StagedFile]) -> None:
    """Remove staged files whose submission did not commit."""
    for item in staged:
        if item.path is not None:
            item.path.unlink(missing_ok=True)


def _stage(store: FileStore, item: AcceptedFile) -> StagedFile:
    incoming, low, high = item.incoming, item.low, item.high
    file_id = ids.entity_id()
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    target: IO[bytes] | None = None
    path = store.folder / file_id
    if incoming.stream.seekable():  # from the start, also when the service call is run again
        incoming.stream.seek(0)
    try:
        while chunk := incoming.stream.read(_CHUNK):
            size += len(chunk)
            if size > high:
                raise FileTooLargeError(
                    f"The file for question '{incoming.field}' is larger than {high} bytes "
                    "(MaxFileSizeInBytes).",
                    data={"QuestionIdentifier": incoming.field},
                )
            digest.update(chunk)
            if target is None and len(head) + len(chunk) <= store.inline_bytes:
                head += chunk
                continue
            if target is None:
                store.folder.mkdir(parents=True, exist_ok=True)
                target = path.open("xb")
                target.write(head)
                head = bytearray()
            target.write(chunk)
        if size < low:
            raise ParameterError(
                f"The file for question '{incoming.field}' is smaller than {low} bytes (MinFileSizeInBytes).",
                data={"QuestionIdentifier": incoming.field},
            )
        if target is not None:
            target.flush()
            os.fsync(target.fileno())
    except BaseException:
        if target is not None:
            target.close()
            path.unlink(missing_ok=True)
        raise
    if target is not None:
        target.close()
    return StagedFile(
        file_id,
        incoming.field,
        incoming.filename,
        incoming.content_type,
        size,
        digest.hexdigest(),
        bytes(head) if target is None else None,
        path if target is not None else None,
    )


@dataclass(frozen=True, slots=True)
class Download:
    filename: str | None
    content: bytes


class FileDownloadError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FileService:
    def __init__(self, tx: MarketTransactions, store: FileStore) -> None:
        self._tx = tx
        self._store = store
        self._key: bytes | None = None

    @classmethod
    def for_database(cls, tx: MarketTransactions) -> FileService:
        return cls(tx, FileStore.for_database(tx.db.url))

    def _signing_key(self, db: Database) -> bytes:
        if self._key is None:
            with db.read() as conn:
                secret = str(conn.execute(select(marketplace.c.token_key)).scalar_one())
            self._key = hmac.new(secret.encode(), b"openturk file upload urls", hashlib.sha256).digest()
        return self._key

    def _sign(self, file_id: str, requester_id: str, expires_ms: int) -> str:
        message = f"{file_id}\n{requester_id}\n{expires_ms}".encode()
        return hmac.new(self._signing_key(self._tx.db), message, hashlib.sha256).hexdigest()

    def upload_url(
        self, requester_id: str, assignment_id: str, question_identifier: str, base_url: str
    ) -> str:
        with self._tx.read() as (conn, now):
            assignment = transitions.load_assignment(conn, assignment_id, requester_id)
            file_id = conn.execute(
                select(uploaded_files.c.id).where(
                    uploaded_files.c.assignment_id == assignment.id,
                    uploaded_files.c.question_identifier == question_identifier,
                )
            ).scalar_one_or_none()
            disposed = conn.execute(select(hits.c.status).where(hits.c.id == assignment.hit_id)).scalar_one()
        if file_id is None or disposed == "Disposed":
            raise ParameterError(
                f"Assignment {assignment_id} has no uploaded file for the question '{question_identifier}'.",
                data={"AssignmentId": assignment_id, "QuestionIdentifier": question_identifier},
            )
        expires_ms = to_micros(now + URL_LIFETIME) // 1000
        query = urlencode(
            {
                "requester": requester_id,
                "expires": expires_ms,
                "signature": self._sign(file_id, requester_id, expires_ms),
            }
        )
        return f"{base_url.rstrip('/')}{DOWNLOAD_PATH}/{file_id}?{query}"

    def download(self, file_id: str, requester_id: str, expires: str, signature: str) -> Download:
        try:
            expires_ms = int(expires)
        except ValueError:
            raise FileDownloadError(403, "This file URL is not valid.") from None
        expected = self._sign(file_id, requester_id, expires_ms)
        if not hmac.compare_digest(expected, signature):
            raise FileDownloadError(403, "This file URL is not valid.")
        with self._tx.read() as (conn, now):
            if to_micros(now) // 1000 > expires_ms:
                raise FileDownloadError(403, "This file URL has expired; call GetFileUploadURL again.")
            row = conn.execute(
                select(uploaded_files, hits.c.status.label("hit_status"))
                .join(hits, hits.c.id == uploaded_files.c.hit_id)
                .where(uploaded_files.c.id == file_id, uploaded_files.c.requester_id == requester_id)
            ).first()
        if row is None or row.hit_status == "Disposed":
            raise FileDownloadError(404, "There is no such file.")
        return Download(row.filename, self._store.read(row))
