"""Qualification types from the requester's side: creating, reading, updating, deleting and listing
them, and listing the HITs that require one.  Who may do which is ``qualification_access``'s rule; the
Qualifications workers hold are ``qualification_grants``.

Deleting a type (as MTurk does): pending requests are rejected, workers keep their Qualifications (HITs
still using the type keep applying them), and no new HIT or HIT type may require it.  The owner still
reads it with GetQualificationType: ``Disposing`` while a HIT that is not deleted uses it, ``Disposed``
after.  The name is free again at once (MTurk may take up to 48 hours).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from openturk import ids
from openturk.errors import ParameterError, QualificationTypeAlreadyExistsError
from openturk.service.keyset_pages import Listing, keyset_page
from openturk.service.numbered_pages import numbered_page
from openturk.service.paging import NumberedPage, Page, PageTokens
from openturk.service.qualification_access import load_type, owned_type, visible_type
from openturk.service.qualification_records import QualificationType, TypeSpec
from openturk.service.qualification_tests import check_test, parse_answer_key
from openturk.service.questions import parse_question
from openturk.service.records import Hit
from openturk.service.uow import MarketTransactions
from openturk.storage.schema import hit_types, hits
from openturk.storage.schema_qualifications import (
    hit_type_qualifications,
    qualification_requests,
    qualification_types,
)

MAX_NAME = 255
MAX_RETRY_DELAY_S = 100 * 365 * 86_400


def _check_spec(spec: TypeSpec, *, has_test: bool) -> None:
    if spec.name is not None and not spec.name.strip():
        raise ParameterError("The Name of a QualificationType must not be empty.")
    if spec.name is not None and len(spec.name) > MAX_NAME:
        raise ParameterError(f"The Name of a QualificationType must be at most {MAX_NAME} characters.")
    if spec.test is None and (spec.answer_key is not None or spec.test_duration_s is not None):
        raise ParameterError("AnswerKey and TestDurationInSeconds can only be given together with a Test.")
    if spec.test is not None:
        if spec.test_duration_s is None:
            raise ParameterError("TestDurationInSeconds must be specified when a Test is given.")
        if spec.test_duration_s <= 0:
            raise ParameterError("TestDurationInSeconds must be a positive number of seconds.")
        test = parse_question(spec.test)
        check_test(test)
        if spec.answer_key is not None:
            parse_answer_key(spec.answer_key, test)
    if spec.auto_granted and (spec.test is not None or has_test):
        raise ParameterError("A QualificationType with a Test cannot be AutoGranted.")
    if spec.retry_delay_s is not None and not 0 <= spec.retry_delay_s <= MAX_RETRY_DELAY_S:
        # The model's Long has no bound; past a century no retry comes, and the date would not fit.
        raise ParameterError(f"RetryDelayInSeconds must be from 0 to {MAX_RETRY_DELAY_S} (100 years).")


class QualificationService:
    def __init__(self, tx: MarketTransactions, tokens: PageTokens) -> None:
        self._tx = tx
        self._tokens = tokens

    def create_type(self, requester_id: str, spec: TypeSpec) -> QualificationType:
        if spec.name is None or spec.description is None or spec.status is None:
            raise ParameterError("Name, Description and QualificationTypeStatus are required.")
        _check_spec(spec, has_test=False)
        type_id = ids.entity_id()
        with self._tx.write() as (conn, now):
            self._name_free(conn, requester_id, spec.name)
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(qualification_types).values(
                            id=type_id,
                            requester_id=requester_id,
                            name=spec.name,
                            description=spec.description,
                            keywords=spec.keywords,
                            status=spec.status,
                            is_requestable=True,
                            test=spec.test,
                            answer_key=spec.answer_key,
                            test_duration_s=spec.test_duration_s,
                            retry_delay_s=spec.retry_delay_s,
                            auto_granted=bool(spec.auto_granted),
                            auto_granted_value=(
                                (1 if spec.auto_granted_value is None else spec.auto_granted_value)
                                if spec.auto_granted
                                else None
                            ),
                            created_at=now,
                        )
                    )
            except IntegrityError:  # a concurrent create with the same name won
                raise self._name_taken(spec.name) from None
            return QualificationType.from_row(load_type(conn, type_id), requester_id)

    @staticmethod
    def _name_taken(name: str) -> QualificationTypeAlreadyExistsError:
        return QualificationTypeAlreadyExistsError(
            "You have already created a QualificationType with this name. A QualificationType's name must "
            "be unique among all of the QualificationTypes created by the same user.",
            data={"Name": name},
        )

    def _name_free(self, conn: Connection, requester_id: str, name: str) -> None:
        taken = conn.execute(
            select(qualification_types.c.id).where(
                qualification_types.c.requester_id == requester_id,
                qualification_types.c.name == name,
                qualification_types.c.status != "Disposed",
            )
        ).first()
        if taken is not None:
            raise self._name_taken(name)

    def get_type(self, requester_id: str, type_id: str) -> QualificationType:
        with self._tx.read() as (conn, _now):
            row = visible_type(conn, requester_id, type_id)
            status = self._disposal_status(conn, type_id) if row.status == "Disposed" else None
            return QualificationType.from_row(row, requester_id, status)

    @staticmethod
    def _disposal_status(conn: Connection, type_id: str) -> str:
        in_use = conn.execute(
            select(
                exists().where(
                    hit_type_qualifications.c.qualification_type_id == type_id,
                    hits.c.hit_type_id == hit_type_qualifications.c.hit_type_id,
                    hits.c.status != "Disposed",
                )
            )
        ).scalar()
        return "Disposing" if in_use else "Disposed"

    def update_type(self, requester_id: str, type_id: str, spec: TypeSpec) -> QualificationType:
        with self._tx.write() as (conn, _now):
            row = owned_type(conn, requester_id, type_id, "update it")
            has_test = row.test is not None
            _check_spec(spec, has_test=has_test and spec.test is None)
            if spec.auto_granted and has_test:
                raise ParameterError("A QualificationType with a Test cannot be made AutoGranted.")
            auto = row.auto_granted if spec.auto_granted is None else spec.auto_granted
            if spec.test is not None and auto:
                # "This parameter cannot be specified if AutoGranted is true" (Test), stored or asked.
                raise ParameterError("An AutoGranted QualificationType cannot be given a Test.")
            values: dict[str, Any] = {}
            if spec.description is not None:
                values["description"] = spec.description
            if spec.status is not None:
                values["status"] = spec.status
            if spec.test is not None:
                values.update(
                    test=spec.test, answer_key=spec.answer_key, test_duration_s=spec.test_duration_s
                )
            if spec.retry_delay_s is not None:
                values["retry_delay_s"] = spec.retry_delay_s
            if spec.auto_granted is not None or spec.auto_granted_value is not None:
                value = spec.auto_granted_value
                if value is None:  # unchanged when not given; 1, the default, for a newly auto-granted type
                    value = 1 if row.auto_granted_value is None else row.auto_granted_value
                values.update(auto_granted=auto, auto_granted_value=value if auto else None)
            if values:
                conn.execute(
                    update(qualification_types).where(qualification_types.c.id == type_id).values(values)
                )
            return QualificationType.from_row(load_type(conn, type_id), requester_id)

    def delete_type(self, requester_id: str, type_id: str) -> None:
        with self._tx.write() as (conn, now):
            owned_type(conn, requester_id, type_id, "delete it")
            conn.execute(
                update(qualification_types)
                .where(qualification_types.c.id == type_id)
                .values(status="Disposed", disposed_at=now)
            )
            conn.execute(
                update(qualification_requests)
                .where(
                    qualification_requests.c.qualification_type_id == type_id,
                    qualification_requests.c.status == "Pending",
                )
                .values(status="Rejected", resolved_at=now, reason="The QualificationType was deleted.")
            )

    def list_types(
        self,
        requester_id: str,
        query: str | None,
        must_be_requestable: bool,
        must_be_owned: bool,
        next_token: str | None,
        max_results: int | None,
    ) -> Page[QualificationType]:
        listing = self._types(requester_id, query, must_be_requestable, must_be_owned)
        return keyset_page(self._tx, self._tokens, listing, next_token, max_results)

    def search_types(
        self,
        requester_id: str,
        query: str | None,
        must_be_requestable: bool,
        must_be_owned: bool,
        page_size: int | None,
        page_number: int | None,
        *,
        descending: bool = False,
    ) -> NumberedPage[QualificationType]:
        """The legacy SearchQualificationTypes: ListQualificationTypes' rows, sorted by name."""
        listing = self._types(requester_id, query, must_be_requestable, must_be_owned)
        name = func.lower(qualification_types.c.name)
        order = [name.desc() if descending else name.asc()]
        return numbered_page(self._tx, listing, page_size, page_number, order)

    def _types(
        self, requester_id: str, query: str | None, must_be_requestable: bool, must_be_owned: bool
    ) -> Listing[QualificationType]:
        t = qualification_types.c
        q = select(qualification_types)
        if must_be_owned:
            q = q.where(t.requester_id == requester_id, t.status != "Disposed")
        else:
            mine = and_(t.requester_id == requester_id, t.status != "Disposed")
            q = q.where(or_(t.requester_id.is_(None), mine, t.status == "Active"))
        if must_be_requestable:
            q = q.where(t.is_requestable.is_(True), t.status == "Active")
        if query:
            needle = query.lower()
            q = q.where(
                or_(
                    func.lower(t.name).contains(needle, autoescape=True),
                    func.lower(t.description).contains(needle, autoescape=True),
                    func.lower(func.coalesce(t.keywords, "")).contains(needle, autoescape=True),
                )
            )
        return Listing(
            f"ListQualificationTypes:{requester_id}:{query}:{must_be_requestable}:{must_be_owned}",
            q,
            (t.created_at, t.id),
            lambda r, _now: QualificationType.from_row(r, requester_id),
        )

    def list_hits(
        self, requester_id: str, type_id: str, next_token: str | None, max_results: int | None
    ) -> Page[Hit]:
        return keyset_page(self._tx, self._tokens, self._hits(requester_id, type_id), next_token, max_results)

    def hits_page(
        self, requester_id: str, type_id: str, page_size: int | None, page_number: int | None
    ) -> NumberedPage[Hit]:
        """The legacy GetHITsForQualificationType."""
        return numbered_page(self._tx, self._hits(requester_id, type_id), page_size, page_number)

    def _hits(self, requester_id: str, type_id: str) -> Listing[Hit]:
        """The caller's HITs (not deleted) whose HIT type requires the type; never another's HITs."""
        linked = select(hit_type_qualifications.c.hit_type_id).where(
            hit_type_qualifications.c.qualification_type_id == type_id
        )
        query = (
            select(hits, hit_types)
            .join(hit_types, hit_types.c.id == hits.c.hit_type_id)
            .where(
                hits.c.requester_id == requester_id,
                hits.c.status != "Disposed",
                hits.c.hit_type_id.in_(linked),
            )
        )
        return Listing(
            f"ListHITsForQualificationType:{requester_id}:{type_id}",
            query,
            (hits.c.created_at, hits.c.id),
            lambda r, now: Hit.from_row(r, r, now),
            lambda conn: visible_type(conn, requester_id, type_id),
        )
