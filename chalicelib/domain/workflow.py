"""The one state-machine engine behind Deployment Workflow instances and Device Configuration tasks.

Pure: models are data (states, transitions with a trigger type, groups); the engine validates a
requested state change against the model and the caller, and returns the new current state and
history. Services load and store; nothing here knows DynamoDB or HTTP.

Rules (docs/architecture.md, "Workflow engine"; wfx as design analogue):
- A transition `from -> to` must exist in the model, else IllegalTransition (HTTP 409).
- Its trigger type decides who takes it: BACKEND_TRIGGER / BACKEND_TIME_TRIGGER the operator
  (Northbound), DEVICE_TRIGGER / DEVICE_TIME_TRIGGER the device (Southbound); INSTANTANEOUS the
  engine itself, as soon as `from` is entered. Transitions into a `cancel` state may also be taken by
  a caller whose trigger type is listed in the transition's `allowedTypes` (the reference's
  "device (timeout) or user (/cancel)").
- A PATCH naming the current state updates progress, message and details in place (`updated`
  moves, `entered` stays); it is open to the caller eligible for a regular transition out of that
  state, and closed in final states.
- `history` lists every state entered, oldest first, the current one last; a state left keeps its
  last `updated` time as its exit time.
- Sizes are UTF-8 bytes of compact JSON, the form the store writes, so that model, data, current state
  and history together stay well below DynamoDB's 400 KB item limit (which counts bytes, not characters).
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Mapping

INSTANTANEOUS = "INSTANTANEOUS"
BACKEND_TRIGGER = "BACKEND_TRIGGER"
DEVICE_TRIGGER = "DEVICE_TRIGGER"
BACKEND_TIME_TRIGGER = "BACKEND_TIME_TRIGGER"
DEVICE_TIME_TRIGGER = "DEVICE_TIME_TRIGGER"
TRANSITION_TYPES = (INSTANTANEOUS, BACKEND_TRIGGER, DEVICE_TRIGGER, BACKEND_TIME_TRIGGER, DEVICE_TIME_TRIGGER)

MAX_MESSAGE_CHARS = 200
MAX_DETAILS_CHARS = 20_000  # the reference's limit, in characters of the JSON string form (<= 80 KB as UTF-8)
MAX_KEY_CHARS = 200
MAX_NAME_CHARS = 200
MAX_STATES = 100
# Byte budgets of one instance item (DynamoDB: 409,600 bytes with attribute names). The model copy, the
# data, the current state (details <= 80 KB) and the history (which repeats the current state) add up
# to at most ~350 KB; old history entries lose their details first, then the oldest entries go.
MAX_MODEL_BYTES = 64_000
MAX_DATA_BYTES = 100_000
MAX_HISTORY_BYTES = 100_000
INSTANTANEOUS_MESSAGE = "State machine is triggered instantaneously."


class Actor(str, Enum):
    """Who asks for a state change: the operator side (Northbound) or the device (Southbound)."""

    BACKEND = "BACKEND"
    DEVICE = "DEVICE"


_TRIGGERS = {
    Actor.BACKEND: (BACKEND_TRIGGER, BACKEND_TIME_TRIGGER),
    Actor.DEVICE: (DEVICE_TRIGGER, DEVICE_TIME_TRIGGER),
}


class WorkflowError(ValueError):
    """Base of the engine's refusals; services map them to catalogue errors."""


class InvalidInput(WorkflowError):
    """A malformed request (HTTP 400)."""


class InvalidModel(InvalidInput):
    """A model or custom transition that does not hold together (HTTP 400)."""


class IllegalTransition(WorkflowError):
    """A transition the model lacks, or one the caller may not trigger (HTTP 409)."""


# --- models -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class State:
    name: str
    description: str = ""
    initial: bool = False
    final: bool = False
    cancel: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "initial": self.initial,
            "final": self.final,
            "cancel": self.cancel,
        }


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    type: str
    allowed_types: tuple[str, ...] = ()
    details: Any = None

    def taken_by(self, actor: Actor) -> bool:
        return self.type in _TRIGGERS[actor]

    def to_json(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "type": self.type, "allowedTypes": list(self.allowed_types)}

    def to_instance_json(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "type": self.type, "details": self.details}


@dataclass(frozen=True)
class Group:
    name: str
    states: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "states": list(self.states)}


@dataclass(frozen=True)
class WorkflowModel:
    key: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    groups: tuple[Group, ...] = ()

    # -- parsing and validation --------------------------------------------------------------------
    @classmethod
    def parse(cls, body: Any) -> "WorkflowModel":
        """A model from its wire form (POST /models); InvalidModel says what is wrong."""
        if not isinstance(body, Mapping):
            raise InvalidModel("The model must be a JSON object.")
        key = body.get("key")
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_CHARS:
            raise InvalidModel(f"'key' must be a non-empty string of at most {MAX_KEY_CHARS} characters.")
        if not is_addressable_key(key):
            raise InvalidModel(
                "'key' must not be '.' or '..' nor contain '/', '#', '%' or control characters: "
                "it names the model in URLs (/models/{key}, ?modelKey=)."
            )
        states = tuple(_parse_state(s) for s in _list(body, "states", required=True))
        transitions = tuple(_parse_transition(t) for t in _list(body, "transitions"))
        groups = tuple(_parse_group(g) for g in _list(body, "groups"))
        model = cls(key, states, transitions, groups)
        model.validate()
        return model

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> "WorkflowModel":
        """A model from its stored form (already validated when it was written)."""
        return cls(
            stored["key"],
            tuple(
                State(
                    s["name"],
                    s.get("description") or "",
                    bool(s.get("initial")),
                    bool(s.get("final")),
                    bool(s.get("cancel")),
                )
                for s in stored["states"]
            ),
            tuple(
                Transition(
                    t["from"], t["to"], t["type"], tuple(t.get("allowedTypes") or (t["type"],)), t.get("details")
                )
                for t in stored["transitions"]
            ),
            tuple(Group(g["name"], tuple(g["states"])) for g in stored.get("groups") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        """The model as POST/GET /models show it (and as it is stored)."""
        body: dict[str, Any] = {
            "key": self.key,
            "states": [s.to_json() for s in self.states],
            "transitions": [t.to_json() for t in self.transitions],
            "groups": [g.to_json() for g in self.groups],
        }
        for stored, transition in zip(body["transitions"], self.transitions):
            if transition.details is not None:
                stored["details"] = transition.details
        return body

    def to_instance_json(self) -> dict[str, Any]:
        """The model as an instance shows it with `?model=true` (note `stateGroups`)."""
        return {
            "key": self.key,
            "states": [s.to_json() for s in self.states],
            "transitions": [t.to_instance_json() for t in self.transitions],
            "stateGroups": [g.to_json() for g in self.groups],
        }

    def validate(self) -> None:
        if not self.states:
            raise InvalidModel("A model needs at least one state.")
        if len(self.states) > MAX_STATES:
            raise InvalidModel(f"A model has at most {MAX_STATES} states.")
        size = json_bytes(self.to_json(), "The model")
        if size > MAX_MODEL_BYTES:
            raise InvalidModel(f"The model has {size} bytes as JSON; at most {MAX_MODEL_BYTES} are allowed.")
        names = [s.name for s in self.states]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidModel(f"State names must be unique: {', '.join(duplicates)}.")
        initial = [s.name for s in self.states if s.initial]
        if len(initial) != 1:
            raise InvalidModel(f"A model needs exactly one initial state, found {len(initial)}.")
        known = set(names)
        seen: set[tuple[str, str]] = set()
        for t in self.transitions:
            for end in (t.source, t.target):
                if end not in known:
                    raise InvalidModel(f"Transition {t.source} -> {t.target} names the unknown state '{end}'.")
            if t.source == t.target:
                raise InvalidModel(
                    f"Transition {t.source} -> {t.target}: progress updates within a state are "
                    "implicit and need no transition."
                )
            if (t.source, t.target) in seen:
                raise InvalidModel(f"Transition {t.source} -> {t.target} is defined twice.")
            seen.add((t.source, t.target))
            if self.state(t.source).final:
                raise InvalidModel(f"Transition {t.source} -> {t.target} leaves the final state {t.source}.")
        for name in names:
            if len([t for t in self.transitions if t.source == name and t.type == INSTANTANEOUS]) > 1:
                raise InvalidModel(f"State {name} has more than one INSTANTANEOUS transition.")
        self._check_instantaneous_cycles()
        group_names = [g.name for g in self.groups]
        if len(set(group_names)) != len(group_names):
            raise InvalidModel("Group names must be unique.")
        grouped: dict[str, str] = {}
        for g in self.groups:
            for name in g.states:
                if name not in known:
                    raise InvalidModel(f"Group {g.name} names the unknown state '{name}'.")
                if name in grouped and grouped[name] != g.name:
                    # One group per state keeps "instances in group X" a single index range (as in wfx).
                    raise InvalidModel(f"State {name} belongs to both groups {grouped[name]} and {g.name}.")
                grouped[name] = g.name

    def _check_instantaneous_cycles(self) -> None:
        for start in self.states:
            seen, name = {start.name}, start.name
            while (nxt := self.instantaneous_from(name)) is not None:
                if nxt.target in seen:
                    raise InvalidModel(f"INSTANTANEOUS transitions loop through state {nxt.target}.")
                seen.add(nxt.target)
                name = nxt.target

    def with_custom_transitions(self, custom: Any) -> "WorkflowModel":
        """The instance's own model: each custom transition switches an existing one to one of its allowedTypes."""
        if custom is None:
            return self
        if not isinstance(custom, list):
            raise InvalidModel("'model.customTransitions' must be an array.")
        transitions = list(self.transitions)
        for entry in custom:
            if not isinstance(entry, Mapping):
                raise InvalidModel("Each custom transition must be a JSON object.")
            source, target, kind = entry.get("from"), entry.get("to"), entry.get("type")
            index = next((i for i, t in enumerate(transitions) if t.source == source and t.target == target), None)
            if index is None:
                raise InvalidModel(f"Custom transition {source} -> {target} is not a transition of model {self.key}.")
            current = transitions[index]
            if kind not in current.allowed_types:
                raise InvalidModel(
                    f"Transition {source} -> {target} may not become '{kind}'; allowed: "
                    f"{', '.join(current.allowed_types)}."
                )
            details = entry.get("details")
            _check_details(details)
            transitions[index] = replace(current, type=kind, details=details)
        model = replace(self, transitions=tuple(transitions))
        model.validate()
        return model

    # -- queries -----------------------------------------------------------------------------------
    def state(self, name: str) -> State:
        for s in self.states:
            if s.name == name:
                return s
        raise InvalidInput(f"'{name}' is not a state of model {self.key}.")

    def has_state(self, name: str) -> bool:
        return any(s.name == name for s in self.states)

    @property
    def initial(self) -> State:
        return next(s for s in self.states if s.initial)

    def is_final(self, name: str) -> bool:
        return self.state(name).final

    def group_of(self, name: str) -> str | None:
        return next((g.name for g in self.groups if name in g.states), None)

    def transition(self, source: str, target: str) -> Transition | None:
        return next((t for t in self.transitions if t.source == source and t.target == target), None)

    def instantaneous_from(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.source == name and t.type == INSTANTANEOUS), None)

    def may_take(self, transition: Transition, actor: Actor) -> bool:
        if transition.taken_by(actor):
            return True
        return self.state(transition.target).cancel and any(
            kind in transition.allowed_types for kind in _TRIGGERS[actor]
        )

    def may_update_in_place(self, name: str, actor: Actor) -> bool:
        if self.is_final(name):
            return False
        return any(t.source == name and t.taken_by(actor) for t in self.transitions)

    def device_visible(self, name: str) -> bool:
        """A device sees an instance unless it waits in the initial state for the backend to release it."""
        if not self.state(name).initial:
            return True
        return any(t.source == name and t.taken_by(Actor.DEVICE) for t in self.transitions)

    def cancel_target(self, name: str, actor: Actor) -> str:
        """The cancel state reachable from `name` by `actor` (POST .../cancel), else IllegalTransition."""
        candidates = [t for t in self.transitions if t.source == name and self.state(t.target).cancel]
        if not candidates:
            raise IllegalTransition(f"Model {self.key} defines no cancel transition from state {name}.")
        allowed = [t for t in candidates if self.may_take(t, actor)]
        if not allowed:
            raise IllegalTransition(
                f"Canceling from state {name} is not triggered by the {_who(actor)} in model {self.key}."
            )
        return allowed[0].target


def is_addressable_key(key: str) -> bool:
    """Whether a URL path segment can carry `key` to us unchanged.

    A model is read and deleted at /models/{key}: '/' would split the segment, '#' end the path, '%' be
    decoded a second time on the way through API Gateway, and clients resolve '.' and '..' as dot segments;
    control characters are not allowed in URLs at all. A model with such a key could be created but never
    read or deleted again, so it is refused at creation.
    """
    if key in (".", ".."):
        return False
    return not any(ch in "/#%" or unicodedata.category(ch) == "Cc" for ch in key)


# --- state information ------------------------------------------------------------------------------
@dataclass(frozen=True)
class StateInfo:
    state: str
    entered: int
    updated: int
    progress: float = 0.0
    message: str = ""
    details: Any = field(default_factory=dict)

    def to_store(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "entered": self.entered,
            "updated": self.updated,
            "progress": self.progress,
            "message": self.message,
            "details": self.details,
        }

    @classmethod
    def from_store(cls, stored: Mapping[str, Any]) -> "StateInfo":
        return cls(
            stored["state"],
            int(stored["entered"]),
            int(stored["updated"]),
            float(stored["progress"]),
            stored.get("message") or "",
            stored.get("details"),
        )


@dataclass(frozen=True)
class StatusUpdate:
    """A validated PATCH body: {state, progress?, message?, details?}."""

    state: str
    progress: float | None = None
    message: str | None = None
    details: Any = None
    has_details: bool = False

    @classmethod
    def parse(cls, body: Any) -> "StatusUpdate":
        if not isinstance(body, Mapping):
            raise InvalidInput("The state update must be a JSON object.")
        state = body.get("state")
        if not isinstance(state, str) or not state:
            raise InvalidInput("'state' is required and must be a string.")
        progress = body.get("progress")
        if progress is not None:
            if isinstance(progress, bool) or not isinstance(progress, (int, float)):
                raise InvalidInput("'progress' must be a number between 0 and 1.")
            if not 0 <= progress <= 1:
                raise InvalidInput(f"'progress' must lie between 0 and 1, got {progress}.")
            progress = float(progress)
        message = body.get("message")
        if message is not None:
            if not isinstance(message, str):
                raise InvalidInput("'message' must be a string.")
            if len(message) > MAX_MESSAGE_CHARS:
                raise InvalidInput(f"'message' has {len(message)} characters; at most {MAX_MESSAGE_CHARS} are allowed.")
        has_details = "details" in body
        details = body.get("details")
        _check_details(details)
        return cls(state, progress, message, details, has_details)


@dataclass(frozen=True)
class Progress:
    """An instance's state after the engine ran: current state, full history, and whether it changed state."""

    current: StateInfo
    history: tuple[StateInfo, ...]
    entered: tuple[str, ...] = ()

    @property
    def state(self) -> str:
        return self.current.state


def start(model: WorkflowModel, now: int) -> Progress:
    """A new instance: enter the initial state, then follow INSTANTANEOUS transitions."""
    first = StateInfo(model.initial.name, now, now)
    return _follow_instantaneous(model, Progress(first, (first,), (first.state,)), now)


def apply(model: WorkflowModel, progress: Progress, update: StatusUpdate, actor: Actor, now: int) -> Progress:
    """Apply a PATCH by `actor`; IllegalTransition (409) or InvalidInput (400) when it may not happen."""
    current = progress.current
    if not model.has_state(update.state):
        raise InvalidInput(f"'{update.state}' is not a state of model {model.key}.")
    if update.state == current.state:
        if not model.may_update_in_place(current.state, actor):
            why = "is final" if model.is_final(current.state) else f"is not the {_who(actor)}'s to update"
            raise IllegalTransition(f"State {current.state} {why}; it cannot be updated.")
        changed = replace(
            current,
            updated=now,
            progress=current.progress if update.progress is None else update.progress,
            message=current.message if update.message is None else update.message,
            details=update.details if update.has_details else current.details,
        )
        return Progress(changed, _bounded(progress.history[:-1] + (changed,)), ())
    transition = model.transition(current.state, update.state)
    if transition is None:
        raise IllegalTransition(f"Model {model.key} has no transition {current.state} -> {update.state}.")
    if not model.may_take(transition, actor):
        raise IllegalTransition(
            f"Transition {current.state} -> {update.state} is a {transition.type} and cannot "
            f"be triggered by the {_who(actor)}."
        )
    entered = StateInfo(
        update.state,
        now,
        now,
        update.progress or 0.0,
        update.message or "",
        update.details if update.has_details else {},
    )
    moved = _enter(progress, entered, now)
    return _follow_instantaneous(model, moved, now)


def cancel(model: WorkflowModel, progress: Progress, actor: Actor, now: int) -> Progress:
    target = model.cancel_target(progress.current.state, actor)
    return apply(model, progress, StatusUpdate(target), actor, now)


def _enter(progress: Progress, entered: StateInfo, now: int) -> Progress:
    left = replace(progress.current, updated=now)
    history = _bounded(progress.history[:-1] + (left, entered))
    return Progress(entered, history, progress.entered + (entered.state,))


def _follow_instantaneous(model: WorkflowModel, progress: Progress, now: int) -> Progress:
    while (nxt := model.instantaneous_from(progress.current.state)) is not None:
        progress = _enter(progress, StateInfo(nxt.target, now, now, 0.0, INSTANTANEOUS_MESSAGE, {}), now)
    return progress


def _bounded(history: tuple[StateInfo, ...]) -> tuple[StateInfo, ...]:
    """Keep the stored history within MAX_HISTORY_BYTES: the oldest entries lose their details, then
    (a long-running cyclic model) the oldest entries themselves go. The current entry always stays."""
    sizes = [json_bytes(h.to_store()) for h in history]
    total = sum(sizes) + len(sizes) + 1  # brackets and commas
    if total <= MAX_HISTORY_BYTES:
        return history
    entries = list(history)
    for i in range(len(entries) - 1):
        if total <= MAX_HISTORY_BYTES:
            break
        if entries[i].details is not None:
            entries[i] = replace(entries[i], details=None)
            smaller = json_bytes(entries[i].to_store())
            total -= sizes[i] - smaller
            sizes[i] = smaller
    first = 0
    while total > MAX_HISTORY_BYTES and first < len(entries) - 1:
        total -= sizes[first] + 1
        first += 1
    return tuple(entries[first:])


# --- helpers -----------------------------------------------------------------------------------------
def compact_json(value: Any) -> str:
    """The stored form of a JSON value: compact, UTF-8 (not \\u-escaped), strict (no NaN or Infinity)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_bytes(value: Any, what: str = "The value") -> int:
    """UTF-8 bytes of `value` as stored; InvalidInput when it is not JSON (NaN and Infinity are not)."""
    try:
        return len(compact_json(value).encode("utf-8"))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} must be JSON, with finite numbers only.") from exc


def check_bytes(value: Any, what: str, limit: int) -> None:
    size = json_bytes(value, what)
    if size > limit:
        raise InvalidInput(f"{what} has {size} bytes as JSON (UTF-8); at most {limit} are allowed.")


def details_size(details: Any) -> int:
    """Characters of the JSON string form (the reference's measure for `details`)."""
    return len(compact_json(details))


def _check_details(details: Any) -> None:
    if details is None:
        return
    try:
        size = details_size(details)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("'details' must be JSON, with finite numbers only.") from exc
    if size > MAX_DETAILS_CHARS:
        raise InvalidInput(f"'details' has {size} characters as JSON; at most {MAX_DETAILS_CHARS} are allowed.")


def _who(actor: Actor) -> str:
    return "device" if actor is Actor.DEVICE else "operator"


def _list(body: Mapping[str, Any], name: str, required: bool = False) -> list:
    value = body.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise InvalidModel(f"'{name}' must be a{' non-empty' if required else 'n'} array.")
    return value


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_CHARS:
        raise InvalidModel(f"{what} must be a non-empty string of at most {MAX_NAME_CHARS} characters.")
    return value


def _flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidModel(f"State flag '{name}' must be a boolean.")
    return value


def _parse_state(body: Any) -> State:
    if not isinstance(body, Mapping):
        raise InvalidModel("Each state must be a JSON object.")
    description = body.get("description") or ""
    if not isinstance(description, str):
        raise InvalidModel("A state's 'description' must be a string.")
    return State(
        _name(body.get("name"), "A state's 'name'"),
        description,
        _flag(body, "initial"),
        _flag(body, "final"),
        _flag(body, "cancel"),
    )


def _parse_types(value: Any, default: str) -> tuple[str, ...]:
    if value is None:
        return (default,)
    if not isinstance(value, list) or any(v not in TRANSITION_TYPES for v in value):
        raise InvalidModel(f"'allowedTypes' must be an array of {', '.join(TRANSITION_TYPES)}.")
    return tuple(dict.fromkeys([default, *value]))


def _parse_transition(body: Any) -> Transition:
    if not isinstance(body, Mapping):
        raise InvalidModel("Each transition must be a JSON object.")
    kind = body.get("type")
    if kind not in TRANSITION_TYPES:
        raise InvalidModel(f"A transition's 'type' must be one of {', '.join(TRANSITION_TYPES)}, got {kind!r}.")
    details = body.get("details")
    _check_details(details)
    return Transition(
        _name(body.get("from"), "A transition's 'from'"),
        _name(body.get("to"), "A transition's 'to'"),
        kind,
        _parse_types(body.get("allowedTypes"), kind),
        details,
    )


def _parse_group(body: Any) -> Group:
    if not isinstance(body, Mapping):
        raise InvalidModel("Each group must be a JSON object.")
    name = _name(body.get("name"), "A group's 'name'")
    if "#" in name:
        raise InvalidModel("A group's 'name' must not contain '#'.")
    states = body.get("states") or []
    if not isinstance(states, list) or not all(isinstance(s, str) for s in states):
        raise InvalidModel(f"Group {name}: 'states' must be an array of state names.")
    return Group(name, tuple(dict.fromkeys(states)))
