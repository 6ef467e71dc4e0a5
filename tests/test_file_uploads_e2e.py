"""File uploads end to end: a worker posts a multipart form to /mturk/externalSubmit, the requester gets
a 60-second URL with boto3's GetFileUploadURL and downloads the file through it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.hit_support import cli, hit_args, new_worker
from tests.support import HTTP, RunningServer, start_server

FORM_2005 = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionForm.xsd"
UPLOAD_FORM = (
    f'<QuestionForm xmlns="{FORM_2005}">'
    "<Question><QuestionIdentifier>photo</QuestionIdentifier><IsRequired>true</IsRequired>"
    "<QuestionContent><Text>Upload a photo of a cat</Text></QuestionContent>"
    "<AnswerSpecification><FileUploadAnswer><MaxFileSizeInBytes>200000</MaxFileSizeInBytes>"
    "<MinFileSizeInBytes>10</MinFileSizeInBytes></FileUploadAnswer></AnswerSpecification></Question>"
    "<Question><QuestionIdentifier>caption</QuestionIdentifier>"
    "<QuestionContent><Text>Caption</Text></QuestionContent>"
    "<AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question>"
    "</QuestionForm>"
)


@pytest.fixture
def turk(db_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(db_url, env={"OPENTURK_FILES_DIR": str(tmp_path / "files")})
    yield running
    running.stop()


def _accepted(turk: RunningServer, client: object, question: str = UPLOAD_FORM) -> tuple[str, str]:
    hit = client.create_hit(**hit_args(Question=question, MaxAssignments=1))["HIT"]  # type: ignore[attr-defined]
    worker = new_worker(turk)
    return hit["HITId"], str(cli(turk, "worker", "accept", hit["HITId"], "--worker", worker)["assignment_id"])


def _post(
    turk: RunningServer, assignment: str, files: dict[str, tuple[str, bytes, str]], **fields: str
) -> httpx.Response:
    return HTTP.post(
        f"{turk.url}/mturk/externalSubmit",
        data={"assignmentId": assignment, **fields},
        files=files,
        timeout=30,
    )


def test_an_uploaded_file_downloads_through_its_url_for_its_owner_only(
    turk: RunningServer, tmp_path: Path
) -> None:
    owner = turk.client(turk.requester())
    _, assignment = _accepted(turk, owner)
    picture = os.urandom(150_000)  # larger than what is kept in the database
    posted = _post(turk, assignment, {"photo": ("cat.png", picture, "image/png")}, caption="a cat")
    assert posted.status_code == 200, posted.text
    answer = owner.get_assignment(AssignmentId=assignment)["Assignment"]["Answer"]
    assert (
        "<QuestionIdentifier>photo</QuestionIdentifier><UploadedFileSizeInBytes>150000</UploadedFileSizeInBytes>"
        in answer
    )
    assert "<UploadedFileKey>" in answer
    assert "<QuestionIdentifier>caption</QuestionIdentifier><FreeText>a cat</FreeText>" in answer
    assert [p.stat().st_size for p in (tmp_path / "files").iterdir()] == [150_000]  # outside the database

    url = owner.get_file_upload_url(AssignmentId=assignment, QuestionIdentifier="photo")["FileUploadURL"]
    assert url.startswith(turk.url + "/mturk/files/")
    got = HTTP.get(url, timeout=30)
    assert got.status_code == 200
    assert got.content == picture
    assert got.headers["content-type"] == "application/octet-stream"
    assert 'filename="cat.png"' in got.headers["content-disposition"]

    # Another requester gets no URL for it, and cannot turn the owner's URL into its own.
    stranger = turk.requester("stranger")
    with pytest.raises(ClientError, match="does not exist"):
        turk.client(stranger).get_file_upload_url(AssignmentId=assignment, QuestionIdentifier="photo")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    forged = f"{turk.url}{parts.path}?{urlencode({**query, 'requester': stranger.requester.id})}"
    assert HTTP.get(forged, timeout=30).status_code == 403
    assert HTTP.get(url.replace("signature=", "signature=0"), timeout=30).status_code == 403

    # Valid 60 seconds on the marketplace clock.
    cli(turk, "clock", "advance", "61s")
    expired = HTTP.get(url, timeout=30)
    assert expired.status_code == 403
    assert "expired" in expired.text
    fresh = owner.get_file_upload_url(AssignmentId=assignment, QuestionIdentifier="photo")["FileUploadURL"]
    assert HTTP.get(fresh, timeout=30).content == picture
    with pytest.raises(ClientError, match="no uploaded file"):
        owner.get_file_upload_url(AssignmentId=assignment, QuestionIdentifier="caption")


def test_small_files_live_in_the_database(turk: RunningServer, tmp_path: Path) -> None:
    owner = turk.client(turk.requester())
    _, assignment = _accepted(turk, owner)
    assert (
        _post(turk, assignment, {"photo": ("note.txt", b"<script>hello</script>", "text/html")}).status_code
        == 200
    )
    assert not (tmp_path / "files").exists()
    url = owner.get_file_upload_url(AssignmentId=assignment, QuestionIdentifier="photo")["FileUploadURL"]
    got = HTTP.get(url, timeout=30)
    assert got.content == b"<script>hello</script>"
    assert got.headers["content-type"] == "application/octet-stream"  # never served as a page


@pytest.mark.parametrize(
    ("content", "why"), [(b"x" * 200_001, "larger than 200000"), (b"tiny", "smaller than 10")]
)
def test_size_limits_refuse_the_whole_submission(turk: RunningServer, content: bytes, why: str) -> None:
    owner = turk.client(turk.requester())
    hit_id, assignment = _accepted(turk, owner)
    posted = _post(turk, assignment, {"photo": ("f.bin", content, "application/octet-stream")})
    assert posted.status_code == 400
    assert why in posted.text
    assert owner.get_hit(HITId=hit_id)["HIT"]["NumberOfAssignmentsPending"] == 1  # still Accepted
    assert _post(turk, assignment, {"photo": ("f.bin", b"just right", "image/png")}).status_code == 200


def test_a_required_upload_and_a_wrong_field(turk: RunningServer) -> None:
    owner = turk.client(turk.requester())
    _, assignment = _accepted(turk, owner)
    missing = _post(turk, assignment, {}, caption="no photo")
    assert missing.status_code == 400
    assert "required" in missing.text
    text_for_file = _post(turk, assignment, {}, photo="not a file")
    assert text_for_file.status_code == 400
    wrong = _post(turk, assignment, {"caption": ("c.txt", b"0123456789abc", "text/plain")})
    assert wrong.status_code == 400
    assert "no file upload question" in wrong.text


def test_the_task_page_renders_a_file_input(turk: RunningServer) -> None:
    owner = turk.client(turk.requester())
    _, assignment = _accepted(turk, owner)
    page = HTTP.get(f"{turk.url}/mturk/task", params={"assignmentId": assignment}, timeout=30).text
    assert 'enctype="multipart/form-data"' in page
    assert '<input type="file" id="q0" name="photo" required>' in page


def test_external_question_files_are_kept_too(turk: RunningServer) -> None:
    owner = turk.client(turk.requester())
    _, assignment = _accepted(turk, owner, hit_args()["Question"])
    assert (
        _post(
            turk, assignment, {"scan": ("scan.pdf", b"%PDF-1.4 ...", "application/pdf")}, label="x"
        ).status_code
        == 200
    )
    url = owner.get_file_upload_url(AssignmentId=assignment, QuestionIdentifier="scan")["FileUploadURL"]
    assert HTTP.get(url, timeout=30).content == b"%PDF-1.4 ..."


def test_boto2_gets_the_upload_url_through_the_legacy_api(turk: RunningServer) -> None:
    from tests.boto2_support import Boto2Connections, MTurkRequestError, error_code

    who = turk.requester()
    _, assignment = _accepted(turk, turk.client(who))
    picture = os.urandom(1_000)
    assert _post(turk, assignment, {"photo": ("cat.png", picture, "image/png")}).status_code == 200
    connections = Boto2Connections(turk)
    try:
        conn = connections(who)
        [found] = conn.get_file_upload_url(assignment, "photo")
        with pytest.raises(MTurkRequestError) as unanswered:
            conn.get_file_upload_url(assignment, "caption")
    finally:
        connections.close()
    assert found.FileUploadURL.startswith(turk.url + "/mturk/files/")
    assert HTTP.get(found.FileUploadURL, timeout=30).content == picture
    assert error_code(unanswered.value) == "AWS.MechanicalTurk.InvalidParameterValue"  # no file there


def test_public_url_names_the_server_behind_a_proxy(db_url: str) -> None:
    with_proxy = start_server(db_url, env={"OPENTURK_PUBLIC_URL": "https://turk.lab.example.org/"})
    try:
        owner = with_proxy.client(with_proxy.requester())
        _, assignment = _accepted(with_proxy, owner)
        # The worker pages hand out the same address: the task form's action, turkSubmitTo, the
        # accept's redirect (the browser reached the server through the proxy).
        task = HTTP.get(f"{with_proxy.url}/mturk/task", params={"assignmentId": assignment})
        assert 'action="https://turk.lab.example.org/mturk/externalSubmit"' in task.text
        second = owner.create_hit(**hit_args(Question=UPLOAD_FORM))["HIT"]["HITId"]
        accepted = HTTP.post(
            f"{with_proxy.url}/mturk/accept", data={"hitId": second, "workerId": new_worker(with_proxy)}
        )
        location = accepted.headers["location"]
        assert location.startswith("https://turk.lab.example.org/mturk/task?")
        assert parse_qs(urlsplit(location).query)["turkSubmitTo"] == ["https://turk.lab.example.org"]
        posted = _post(with_proxy, assignment, {"photo": ("cat.png", os.urandom(100), "image/png")})
        assert posted.status_code == 200, posted.text
        url = owner.get_file_upload_url(AssignmentId=assignment, QuestionIdentifier="photo")["FileUploadURL"]
    finally:
        with_proxy.stop()
    assert url.startswith("https://turk.lab.example.org/mturk/files/")


def test_a_refused_submission_leaves_no_file_behind(turk: RunningServer, tmp_path: Path) -> None:
    """Files are copied only for a submission that can be taken, and removed again when it is refused
    later (a required answer missing): the files folder holds exactly the files of stored answers."""
    folder = tmp_path / "files"
    owner = turk.client(turk.requester())
    form = UPLOAD_FORM.replace(
        "<QuestionIdentifier>caption</QuestionIdentifier>",
        "<QuestionIdentifier>caption</QuestionIdentifier><IsRequired>true</IsRequired>",
    )
    _, assignment = _accepted(turk, owner, form)
    big = {"photo": ("cat.png", os.urandom(150_000), "image/png")}  # past the 64 KiB kept in the database

    no_caption = _post(turk, assignment, big)
    assert no_caption.status_code == 400
    assert "required" in no_caption.text
    assert list(folder.glob("*")) == []
    assert _post(turk, assignment, big, caption="a cat").status_code == 200
    assert len(list(folder.glob("*"))) == 1
    # Submitted now: twenty more large files for it are refused before a byte is written.
    again = _post(
        turk, assignment, {f"f{n}": (f"{n}.bin", os.urandom(100_000), "image/png") for n in range(20)}
    )
    assert again.status_code == 400
    assert "status of: Accepted" in again.text
    assert len(list(folder.glob("*"))) == 1
    returned_hit, returned = _accepted(turk, owner)
    cli(turk, "worker", "return", returned)
    assert _post(turk, returned, big).status_code == 400
    assert len(list(folder.glob("*"))) == 1
    assert owner.get_hit(HITId=returned_hit)["HIT"]["NumberOfAssignmentsPending"] == 0
