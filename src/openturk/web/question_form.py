"""A QuestionForm rendered as a server-side HTML form, as MTurk's worker site shows one: the Overview,
then each question with its text and its answer control (a text box with its DefaultText and the
browser checks its Constraints allow, radio buttons, check boxes or a drop-down, a file input).

The form posts to externalSubmit; the server checks every answer again there (``form_answers``).
"""

from __future__ import annotations

import html
from typing import Protocol

from openturk.service.free_text import FreeText
from openturk.service.questions import FormQuestion, Question


class FormTask(Protocol):
    """What the form needs: the assignment it answers (or a preview's) and the question."""

    @property
    def assignment_id(self) -> str: ...
    @property
    def question(self) -> Question: ...


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _selection_html(fq: FormQuestion, field_id: str) -> str:
    name, required = _e(fq.identifier), " required" if fq.required else ""
    choices = [(sid, text or sid) for sid, text in fq.selections]
    if fq.style in ("dropdown", "list", "combobox") and not fq.several:
        options = "".join(f'<option value="{_e(sid)}">{_e(text)}</option>' for sid, text in choices)
        control = (
            f'<select id="{field_id}" name="{name}"{required}>'
            f'<option value="">Choose...</option>{options}</select>'
        )
    else:
        # A required radio group would refuse an answer given in the "Other" box alone.
        required = "" if fq.several or fq.allows_other else required
        kind = "checkbox" if fq.several else "radio"
        control = "".join(
            f'<label><input type="{kind}" name="{name}" value="{_e(sid)}"{required}> {_e(text)}</label>'
            for sid, text in choices
        )
    if fq.allows_other:
        control += f'<label>Other: <input type="text" name="{name}"></label>'
    return control


def _free_text_html(fq: FormQuestion, field_id: str) -> str:
    """A text box with the FreeTextAnswer's suggestions (DefaultText, NumberOfLinesSuggestion) and its
    constraints as the browser's own checks (the server checks them again on submit)."""
    rules = fq.free_text or FreeText()
    attrs = f' id="{field_id}" name="{_e(fq.identifier)}"' + (" required" if fq.required else "")
    if rules.min_length is not None:
        attrs += f' minlength="{rules.min_length}"'
    if rules.max_length is not None:
        attrs += f' maxlength="{rules.max_length}"'
    default = rules.default_text or ""
    if rules.numeric:
        for name, value in (("min", rules.min_value), ("max", rules.max_value)):
            attrs += "" if value is None else f' {name}="{value}"'
        return f'<input type="number" step="1"{attrs} value="{_e(default)}">'
    return f'<textarea{attrs} rows="{rules.lines or 3}">{_e(default)}</textarea>'


def _form_question_html(fq: FormQuestion, index: int) -> str:
    field_id = f"q{index}"
    required = ' <span class="required">(required)</span>' if fq.required else ""
    text = "".join(f"<p>{_e(line)}</p>" for line in fq.text.split("\n") if line)
    if fq.answer_kind == "FreeTextAnswer":
        control = _free_text_html(fq, field_id)
    elif fq.answer_kind == "SelectionAnswer":
        control = _selection_html(fq, field_id)
    else:
        attrs = " required" if fq.required else ""
        control = f'<input type="file" id="{field_id}" name="{_e(fq.identifier)}"{attrs}>'
    legend = _e(fq.display_name or fq.identifier)
    return f"<fieldset><legend>{legend}{required}</legend>{text}{control}</fieldset>"


def question_form_html(task: FormTask, action: str) -> str:
    overview = "".join(f"<p>{_e(line)}</p>" for line in task.question.overview.split("\n") if line)
    questions = "".join(_form_question_html(fq, n) for n, fq in enumerate(task.question.form_questions))
    if overview:
        questions = f'<div class="overview">{overview}</div>' + questions
    uploads = any(fq.answer_kind == "FileUploadAnswer" for fq in task.question.form_questions)
    enctype = ' enctype="multipart/form-data"' if uploads else ""
    return (
        f'<form method="post" action="{_e(action)}" class="question-form"{enctype}>'
        f'<input type="hidden" name="assignmentId" value="{_e(task.assignment_id)}">'
        f'{questions}<p><button type="submit">Submit</button></p></form>'
    )
