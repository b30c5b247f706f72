"""Load every content file, validate it against the schema and cross-check references.

Errors carry the file and line so staff who edit YAML can find what to fix. The app refuses to
start on broken content; `ourvoice content check` prints the same errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import ValidationError

from content.schema import (
    QUESTION_TYPES,
    BranchNode,
    ChoiceNode,
    Council,
    EndNode,
    Flow,
    MenuNode,
    MultiNode,
    Strings,
    Text,
    YesNoNode,
    missing_bands,
)

CONTENT_DIR = Path(__file__).parent
FLOW_FOLDERS = ("flows", "topics", "surveys")
YESNO_IDS = ("yes", "no", "not_sure")


class LineDict(dict):
    """A mapping that remembers the line of each key (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    line: int = 0
    item_lines: list


# libyaml's parser (PyYAML's wheels include it) reads the content about six times faster than the pure-Python one,
# a third of a second of every start (issue 27); the data and line numbers are the same.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        mapping = LineDict(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {self.construct_object(k, deep=True): k.start_mark.line + 1 for k, _ in node.value}
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        seq = LineList(super().construct_sequence(node, deep=True))
        seq.line = node.start_mark.line + 1
        seq.item_lines = [child.start_mark.line + 1 for child in node.value]
        return seq


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_sequence)


@dataclass(frozen=True)
class ContentError:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class ContentInvalid(Exception):
    """Raised when content cannot be loaded; carries every error found."""

    def __init__(self, errors: list[ContentError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def _line_for(raw: Any, loc: tuple) -> int:
    """Walk a pydantic error location through the raw YAML to the nearest known line."""
    line = getattr(raw, "line", 1)
    node = raw
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.line_of(part)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
            node = node[part]
        elif isinstance(node, LineDict):
            continue  # discriminated-union tags (e.g. 'say') are not keys in the data
        else:
            break
    return line


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_LineLoader)


@dataclass
class Library:
    """Everything the engine reads, loaded once at start and never mutated."""

    flows: dict[str, Flow]
    strings: Strings
    root: Path
    flow_tokens: dict[str, int] = field(default_factory=dict)
    flow_by_token: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, fid in enumerate(sorted(self.flows)):
            self.flow_tokens[fid] = i
            self.flow_by_token[i] = fid

    def string(self, key: str) -> Text:
        return self.strings.messages[key]

    def topics(self) -> list[Flow]:
        return [f for f in self.flows.values() if f.kind == "topic"]

    def menu_for(self, audience: str) -> Flow:
        return self.flows["menu_carer" if audience == "carer" else "menu_young_person"]


def _check_flow(flow: Flow, raw: LineDict, rel: str) -> list[ContentError]:
    errors: list[ContentError] = []
    raw_nodes = raw.get("nodes", LineList())
    node_lines = {n.get("id"): raw_nodes.item_lines[i] for i, n in enumerate(raw_nodes) if isinstance(n, dict)}
    seen: dict[str, int] = {}
    for i, n in enumerate(raw_nodes):
        nid = n.get("id") if isinstance(n, dict) else None
        if nid in seen:
            errors.append(ContentError(rel, raw_nodes.item_lines[i], f"duplicate question id '{nid}'"))
        seen[nid] = i
    ids = {n.id for n in flow.nodes}

    def target(node_id: str, tgt: str | None, what: str) -> None:
        if tgt is not None and tgt not in ids:
            errors.append(ContentError(rel, node_lines.get(node_id, 1), f"{what} '{tgt}' does not exist"))

    if flow.start not in ids:
        errors.append(ContentError(rel, raw.line_of("start"), f"start '{flow.start}' does not exist"))
    bands = tuple(flow.bands)
    questions = {n.id: n for n in flow.nodes if isinstance(n, QUESTION_TYPES)}
    for n in flow.nodes:
        line = node_lines.get(n.id, 1)
        if isinstance(n, BranchNode):
            for rule in n.rules:
                target(n.id, rule.goto, "branch target")
                for qid, values in rule.when.items():
                    q = questions.get(qid)
                    if q is None:
                        errors.append(ContentError(rel, line, f"branch on unknown question '{qid}'"))
                        continue
                    allowed = _answer_ids(q)
                    bad = [v for v in values if allowed is not None and v not in allowed]
                    if bad:
                        errors.append(ContentError(rel, line, f"branch on '{qid}' uses unknown answers {bad}"))
            target(n.id, n.otherwise, "branch target")
            continue
        if not isinstance(n, EndNode | MenuNode):
            target(n.id, n.next, "next")
            if n.next is None:
                errors.append(ContentError(rel, line, f"node '{n.id}' needs `next` (only `end` nodes stop)"))
        texts: list[tuple[str, Text]] = [("text", n.text)]
        for opt in getattr(n, "choices", None) or getattr(n, "options", None) or []:
            texts.append((f"label of '{opt.id}'", opt.label))
        for what, text in texts:
            if text == "" and what == "text" and isinstance(n, EndNode):
                continue
            for band in missing_bands(text, bands):
                errors.append(ContentError(rel, line, f"node '{n.id}' {what} has no text for age band '{band}'"))
        private = getattr(n, "private_choice", None)
        allowed_ids = _answer_ids(n)
        if private is not None and (allowed_ids is None or private not in allowed_ids):
            reason = f"node '{n.id}' private_choice '{private}' is not one of its answers"
            errors.append(ContentError(rel, line, reason))
        if isinstance(n, ChoiceNode | MultiNode):
            cids = [c.id for c in n.choices]
            if len(set(cids)) != len(cids):
                errors.append(ContentError(rel, line, f"node '{n.id}' has duplicate choice ids"))
    return errors


def _answer_ids(node: object) -> set[str] | None:
    skip = {"skip"} if getattr(node, "skip", True) else set()
    if isinstance(node, ChoiceNode | MultiNode):
        return {c.id for c in node.choices} | skip
    if isinstance(node, YesNoNode):
        return set(YESNO_IDS) | skip
    return None


def load_library(root: Path | None = None) -> Library:
    """Load and check all content under `root`; raise ContentInvalid listing every problem."""
    root = root or CONTENT_DIR
    errors: list[ContentError] = []
    flows: dict[str, Flow] = {}
    flow_files: dict[str, str] = {}
    for folder in FLOW_FOLDERS:
        for path in sorted((root / folder).glob("*.yaml")):
            rel = str(path.relative_to(root.parent) if root.parent in path.parents else path)
            try:
                raw = read_yaml(path)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                errors.append(ContentError(rel, (mark.line + 1) if mark else 1, f"not valid YAML: {exc}"))
                continue
            if not isinstance(raw, LineDict):
                errors.append(ContentError(rel, 1, "expected a mapping at the top of the file"))
                continue
            try:
                flow = Flow.model_validate(raw)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"])
                    errors.append(ContentError(rel, _line_for(raw, err["loc"]), f"{loc}: {err['msg']}"))
                continue
            if flow.id in flows:
                errors.append(
                    ContentError(rel, raw.line_of("id"), f"flow id '{flow.id}' also in {flow_files[flow.id]}")
                )
                continue
            errors.extend(_check_flow(flow, raw, rel))
            flows[flow.id] = flow
            flow_files[flow.id] = rel
    for fid, flow in flows.items():
        for n in flow.nodes:
            if isinstance(n, MenuNode):
                for opt in n.options:
                    if opt.flow and opt.flow not in flows:
                        errors.append(
                            ContentError(flow_files[fid], 1, f"menu option '{opt.id}' names unknown flow '{opt.flow}'")
                        )
    for needed in ("menu_young_person", "menu_carer", "welcome"):
        if needed not in flows:
            errors.append(ContentError(str(root), 1, f"required flow '{needed}' is missing"))
    strings_path = root / "strings" / "en.yaml"
    strings = None
    try:
        strings = Strings.model_validate(read_yaml(strings_path))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        errors.append(ContentError(str(strings_path), 1, f"strings file invalid: {exc}"))
    if errors:
        raise ContentInvalid(errors)
    assert strings is not None
    return Library(flows=flows, strings=strings, root=root)


COUNCIL_FILE = "council.yaml"
# A deployment for another council points this at its own file; the code stays the same.
COUNCIL_FILE_ENV = "OURVOICE_COUNCIL_FILE"


def council_path() -> Path:
    """The council file this process serves: $OURVOICE_COUNCIL_FILE, else content/council.yaml."""
    import os

    configured = os.environ.get(COUNCIL_FILE_ENV, "").strip()
    return Path(configured) if configured else CONTENT_DIR / COUNCIL_FILE


@lru_cache(maxsize=1)
def own_council() -> Council:
    """The deployment's own council, loaded once per process (districts, councils, roles, help numbers)."""
    return load_council(council_path())


# Issue 26: one service can run for several councils. An entry point that serves another council's request
# (its staff's page, its bot) puts that council's file here (bot/tenant.py does it with the database's
# council); everything that reads current_council() then reads that council's districts, numbers and labels.
_SERVING: ContextVar[Council | None] = ContextVar("ourvoice_serving_council", default=None)


def current_council() -> Council:
    """The council this request is for: the one an entry point is serving, else the deployment's own."""
    return _SERVING.get() or own_council()


@contextmanager
def serving(council: Council) -> Iterator[Council]:
    """Read `council`'s content inside the block."""
    token = _SERVING.set(council)
    try:
        yield council
    finally:
        _SERVING.reset(token)


def serve(council: Council) -> None:
    """Read `council`'s content for the rest of this context (a CLI process)."""
    _SERVING.set(council)


def parse_council(text: str, name: str = "council file") -> Council:
    """A council file's text (as `ourvoice council add` stores it), validated like load_council."""
    raw = yaml.load(text, Loader=_LineLoader)
    try:
        return Council.model_validate(raw)
    except ValidationError as exc:
        raise ContentInvalid(
            [ContentError(name, _line_for(raw, tuple(e["loc"])), e["msg"]) for e in exc.errors()]
        ) from None


_T = TypeVar("_T")


class Following(Generic[_T]):
    """A value worked out from the current council each time it is read. Module constants such as DISTRICTS
    were read once at import; as Following views they answer for whichever council is being served."""

    def __init__(self, make: Callable[[Council], _T]) -> None:
        self._make = make
        self._cache: dict[int, _T] = {}

    def get(self) -> _T:
        council = current_council()
        key = id(council)
        value = self._cache.get(key)
        if value is None:
            if len(self._cache) > 32:
                self._cache = {}
            value = self._cache[key] = self._make(council)
        return value


class CouncilMapping(Mapping[Any, Any]):
    """A dict from the current council's file (its districts, roles, labels), read per request."""

    def __init__(self, make: Callable[[Council], Mapping[Any, Any]]) -> None:
        self._value = Following(make)

    def __getitem__(self, key: Any) -> Any:
        return self._value.get()[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._value.get())

    def __len__(self) -> int:
        return len(self._value.get())

    def __or__(self, other: Mapping[Any, Any]) -> dict[Any, Any]:
        return {**self._value.get(), **other}

    def __repr__(self) -> str:
        return repr(dict(self._value.get()))


class CouncilTuple(Sequence[Any]):
    """A tuple from the current council's file (its district ids, council ids), read per request."""

    def __init__(self, make: Callable[[Council], tuple[Any, ...]]) -> None:
        self._value = Following(make)

    def __getitem__(self, index: Any) -> Any:
        return self._value.get()[index]

    def __len__(self) -> int:
        return len(self._value.get())

    def __contains__(self, item: object) -> bool:
        return item in self._value.get()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._value.get())

    def __add__(self, other: tuple[Any, ...]) -> tuple[Any, ...]:
        return self._value.get() + tuple(other)

    def __repr__(self) -> str:
        return repr(self._value.get())


class CouncilSet(AbstractSet[Any]):
    """A frozenset from the current council's file (its district-scoped roles), read per request."""

    def __init__(self, make: Callable[[Council], frozenset[Any]]) -> None:
        self._value = Following(make)

    def __contains__(self, item: object) -> bool:
        return item in self._value.get()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._value.get())

    def __len__(self) -> int:
        return len(self._value.get())


def load_council(path: Path | None = None) -> Council:
    """The council file (default: content/council.yaml), validated; ContentInvalid lists every problem."""
    path = path or CONTENT_DIR / COUNCIL_FILE
    raw = read_yaml(path)
    try:
        return Council.model_validate(raw)
    except ValidationError as exc:
        raise ContentInvalid(
            [ContentError(path.name, _line_for(raw, tuple(e["loc"])), e["msg"]) for e in exc.errors()]
        ) from None
