"""FEEL unary tests → the Python expressions SpiffWorkflow's DMN engine evaluates.

SpiffWorkflow 3.2 evaluates each DMN input entry as Python: ``[1..90]`` is a syntax
error there, and the tempting ``range(1, 91)``-style workarounds misgrade boundary
days. Decision tables are edited by risk officers in FEEL, so every input entry is
translated when the table is deployed (:func:`translate_dmn`, called from the deploy
path) into a Python test on ``?``, which SpiffWorkflow replaces by the input value.

The subset (DMN 1.3 "simple unary tests"), anything else refused with the element id:

=====================  ======================================
FEEL                   Python
=====================  ======================================
``-`` or empty         (no test: always matches)
``5``, ``"loan"``      ``? == 5``, ``? == "loan"``
``< 5``, ``>= 5``      ``? < 5``, ``? >= 5``
``[1..90]``            ``1 <= ? <= 90``
``(90..120]``          ``90 < ? <= 120`` (``]90..120]`` too)
``a, b``               ``(test a) or (test b)``
``not(a, b)``          ``not ((test a) or (test b))``
=====================  ======================================

Endpoints are numbers, strings, ``true``, ``false`` and ``null``. Names, paths,
functions, dates and arithmetic are refused rather than guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from .errors import DeploymentError

# The hit policies SpiffWorkflow evaluates correctly: UNIQUE and FIRST both as first
# match, COLLECT as a list of every match (without aggregation).
SUPPORTED_HIT_POLICIES = {"UNIQUE", "FIRST", "COLLECT"}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op><=|>=|<|>|\.\.|[\[\]\(\),])
      | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<other>\S+?)
    )""",
    re.VERBOSE,
)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}
# Kept literally in the Python output; everything else is escaped, so the output
# never holds a quote or "?" inside a string (SpiffWorkflow finds "?" by regex).
_PLAIN = re.compile(r"[\w .,:;/+\-@#%&*()=<>\[\]]")


class FeelError(ValueError):
    """A unary test outside the supported subset; the message says what and why."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def translate(text: str | None) -> str | None:
    """One FEEL unary test → a Python expression on ``?``; None for ``-`` or empty."""
    source = (text or "").strip()
    if source in ("", "-"):
        return None
    tokens = _tokenize(source)
    negated = False
    if tokens[0] == _Token("name", "not"):
        if len(tokens) < 3 or tokens[1].text != "(" or tokens[-1].text != ")":
            raise FeelError("not must be written not(test, ...)")
        tokens, negated = tokens[2:-1], True
        if not tokens:
            raise FeelError("not() needs at least one test")
    tests = [_positive_test(part) for part in _split(tokens)]
    python = tests[0] if len(tests) == 1 else " or ".join(f"({t})" for t in tests)
    return f"not ({python})" if negated else python


def _tokenize(source: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            break
        kind = match.lastgroup or "other"
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    for token in tokens:
        if token.kind == "other":
            raise FeelError(_unsupported(token.text, source))
    return tokens


def _unsupported(text: str, source: str) -> str:
    if text.startswith("!") or text.startswith("="):
        return f"{source!r}: '{text}' is not FEEL in a unary test; write the value, or not(value)"
    if text == "?":
        return f"{source!r}: '?' is not supported; write the test without it (e.g. > 5)"
    return f"{source!r}: unexpected {text!r}"


def _split(tokens: list[_Token]) -> list[list[_Token]]:
    """Top-level commas separate tests (commas inside brackets belong to nothing here)."""
    parts: list[list[_Token]] = [[]]
    for token in tokens:
        if token == _Token("op", ","):
            parts.append([])
        else:
            parts[-1].append(token)
    if any(not part for part in parts):
        raise FeelError("empty test in a list: check the commas")
    return parts


def _positive_test(tokens: list[_Token]) -> str:
    first = tokens[0]
    if first.kind == "op" and first.text in ("[", "(", "]"):
        return _range(tokens)
    if first.kind == "op" and first.text in ("<", "<=", ">", ">="):
        if len(tokens) != 2:
            raise FeelError(f"{_show(tokens)}: a comparison takes one value, e.g. > 90")
        return f"? {first.text} {_endpoint(tokens[1])}"
    if len(tokens) != 1:
        for here, after in zip(tokens, [*tokens[1:], None], strict=True):
            if here.kind == "name" and after is not None and after.text == "(":
                raise FeelError(f"{_show(tokens)}: function {here.text}() is not supported")
            if here.kind == "name" and here.text not in ("true", "false", "null"):
                _endpoint(here)  # raises: names are refused with the reason
        raise FeelError(f"{_show(tokens)}: expressions are not supported in a unary test")
    return f"? == {_endpoint(first)}"


def _range(tokens: list[_Token]) -> str:
    shape = [t.text if t.kind == "op" else "v" for t in tokens]
    if len(tokens) != 5 or shape[2] != ".." or shape[4] not in ("]", ")", "["):
        raise FeelError(f"{_show(tokens)}: a range is written [low..high], (low..high] etc.")
    low, high = _endpoint(tokens[1]), _endpoint(tokens[3])
    lower = "<=" if tokens[0].text == "[" else "<"
    upper = "<=" if tokens[4].text == "]" else "<"
    return f"{low} {lower} ? {upper} {high}"


def _endpoint(token: _Token) -> str:
    if token.kind == "number":
        value = Decimal(token.text)
        return str(int(value)) if "." not in token.text else str(value)
    if token.kind == "string":
        return _python_string(token.text[1:-1])
    if token.kind == "name" and token.text in ("true", "false", "null"):
        return {"true": "True", "false": "False", "null": "None"}[token.text]
    if token.kind == "name":
        raise FeelError(
            f"name {token.text!r} is not supported: compare the input with a literal "
            '(number, "string", true, false, null)'
        )
    raise FeelError(f"{token.text!r} is not a value")


def _python_string(body: str) -> str:
    chars = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            nxt = body[index + 1 : index + 2]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[index + 2 : index + 6]):
                chars.append(chr(int(body[index + 2 : index + 6], 16)))
                index += 6
                continue
            if nxt not in _ESCAPES:
                raise FeelError(f"unknown escape \\{nxt} in string")
            chars.append(_ESCAPES[nxt])
            index += 2
            continue
        chars.append(char)
        index += 1
    out = "".join(c if _PLAIN.fullmatch(c) else _escape(c) for c in chars)
    return f'"{out}"'


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _show(tokens: list[_Token]) -> str:
    return repr(" ".join(t.text for t in tokens))


# --- whole decision tables ---------------------------------------------------------------


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def translate_dmn(tree: etree._ElementTree, file_name: str) -> etree._ElementTree:
    """Translate every input entry of a DMN document in place; refuse what cannot run.

    Raises :class:`DeploymentError` naming the file and each offending element.
    """
    problems: list[dict[str, str | None]] = []
    for table in tree.getroot().iter():
        if _local(table.tag) != "decisionTable":
            continue
        policy = (table.get("hitPolicy") or "UNIQUE").upper()
        if policy not in SUPPORTED_HIT_POLICIES or table.get("aggregation"):
            what = f"{policy} with aggregation" if table.get("aggregation") else policy
            problems.append(
                {
                    "file": file_name,
                    "element_id": table.get("id"),
                    "message": f"hit policy {what} is not supported; use UNIQUE, "
                    "FIRST or COLLECT (without aggregation)",
                }
            )
    for entry in tree.getroot().iter():
        if _local(entry.tag) != "inputEntry":
            continue
        text_node = next((c for c in entry if _local(c.tag) == "text"), None)
        if text_node is None:
            continue
        try:
            python = translate(text_node.text)
        except FeelError as exc:
            problems.append(
                {"file": file_name, "element_id": entry.get("id"), "message": f"FEEL {exc}"}
            )
            continue
        text_node.text = "-" if python is None else python
    if problems:
        shown = "; ".join(f"{p['file']}: {p['element_id']}: {p['message']}" for p in problems[:5])
        raise DeploymentError(f"cannot deploy: {shown}", details={"problems": problems})
    return tree
