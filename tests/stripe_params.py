"""Every Stripe request the code makes, checked against the official SDK's own definition.

localstripe accepts parameters real Stripe refuses (and ignores some it does not know), so a
misspelled or invented parameter passes every localstripe test and fails in production with a
400. stripe-python ships a typed parameter class for each call (``stripe.params``, e.g.
``PaymentIntentCreateParams``, generated from Stripe's OpenAPI spec); this module checks a
request's parameters against it:

* every key, recursively through nested objects and lists, must be a parameter the class (or
  the nested class it names) declares; free-form maps (``metadata``) take any key;
* a value the class restricts to a set of strings (``capture_method``, ``usage``, ...) must be
  one of them;
* an object where a scalar is expected, or a scalar where an object is expected, is wrong;
* request options (``idempotency_key``, ``stripe_account``, ...) are not parameters: with a
  ``StripeClient`` they belong in ``options``, inside ``params`` they would be sent to Stripe;
* each ``expand`` path must walk expandable fields of the object the call returns (the SDK's
  resource classes, e.g. ``PaymentIntent.latest_charge: ExpandableField[Charge]``).

:class:`StripeRequestRecorder` wraps ``StripeService._request``, the one method every
``client.v1.<resource>.<method>(...)`` call goes through, and records (resource service, method,
params, problems) for each call made in this process. ``tests/conftest.py`` installs it for the
whole session and fails the test during which a call with problems was made (and, as a
backstop, the session for a call made outside any test).
"""

from __future__ import annotations

import copy
import functools
import sys
import threading
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ForwardRef

import stripe
import stripe.params
from stripe._request_options import RequestOptions
from stripe._stripe_object import StripeObject
from stripe._stripe_service import StripeService
from typing_extensions import is_typeddict

REQUEST_OPTION_KEYS = frozenset(RequestOptions.__annotations__)
_WRAPPERS = {"NotRequired", "Required", "Annotated", "ReadOnly"}


@dataclass(frozen=True)
class StripeCall:
    service: str  # e.g. "PaymentIntentService"
    method: str  # e.g. "create"
    params_class: str  # e.g. "PaymentIntentCreateParams"
    params: dict[str, Any]
    problems: tuple[str, ...]
    test: str  # the test running when the call was made ("" outside any test)

    def describe(self) -> str:
        return (
            f"{self.service}.{self.method}({self.params_class}) during {self.test or 'no test'}:\n"
            + "\n".join(f"    {p}" for p in self.problems)
        )


# --- resolving the SDK's annotations ----------------------------------------------------------


def _resolve(annotation: Any, module_name: str) -> Any:
    """An annotation with its forward references (strings) evaluated in ``module_name``; a name
    only imported there for type checking is looked up in ``stripe`` and ``stripe.params``."""
    if isinstance(annotation, ForwardRef):
        annotation = annotation.__forward_arg__
    if not isinstance(annotation, str):
        return annotation
    return _evaluate(annotation, module_name)


@functools.cache
def _evaluate(annotation: str, module_name: str) -> Any:
    namespace = dict(vars(sys.modules[module_name]))
    for _ in range(20):
        try:
            return eval(annotation, namespace)  # noqa: S307 (the SDK's own annotations)
        except NameError as exc:
            name = exc.name
            if name is None or name in namespace:
                raise
            for module in (stripe.params, stripe):
                try:
                    namespace[name] = getattr(module, name)
                    break
                except AttributeError:
                    continue
            else:
                namespace[name] = Any  # e.g. StripeContext: an option, never a parameter
    raise RuntimeError(f"cannot resolve {annotation!r} in {module_name}")


def _typeddict_fields(cls: type) -> dict[str, Any]:
    return cls.__annotations__


def _origin_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    return getattr(origin, "__name__", None) or getattr(origin, "_name", None) or str(origin)


# --- checking parameters ----------------------------------------------------------------------


def check_params(params_class: type, params: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``params`` for a call whose parameters ``params_class`` describes:
    one line per problem, naming the parameter's path (empty when all is well)."""
    problems: list[str] = []
    for key, value in params.items():
        if key in REQUEST_OPTION_KEYS:
            # The SDK's parameter classes inherit RequestOptions (for the resource methods'
            # keyword arguments); given to a StripeClient in params, they go to Stripe.
            problems.append(f"{key}: a request option, not a parameter (pass it in options=)")
            continue
        _check_typeddict_key(params_class, key, value, key, problems)
    return problems


def _check_typeddict_key(cls: type, key: str, value: Any, path: str, problems: list[str]) -> None:
    fields = _typeddict_fields(cls)
    if key not in fields:
        problems.append(f"{path}: unknown parameter of {cls.__name__}")
        return
    _check_value(_resolve(fields[key], cls.__module__), value, path, cls.__module__, problems)


def _check_value(tp: Any, value: Any, path: str, module: str, problems: list[str]) -> None:
    tp = _resolve(tp, module)
    origin = typing.get_origin(tp)
    name = _origin_name(tp) if origin is not None else ""
    if name in _WRAPPERS:
        _check_value(typing.get_args(tp)[0], value, path, module, problems)
    elif origin is typing.Union or origin is types.UnionType:
        _check_union(typing.get_args(tp), value, path, module, problems)
    elif origin is typing.Literal or name == "Literal":
        if value not in typing.get_args(tp):
            allowed = ", ".join(repr(a) for a in typing.get_args(tp))
            problems.append(f"{path}: {value!r} is not one of {allowed}")
    elif origin in (list, typing.List):  # noqa: UP006 (the SDK spells it List)
        if not isinstance(value, list | tuple):
            problems.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        (item_type,) = typing.get_args(tp) or (Any,)
        for index, item in enumerate(value):
            _check_value(item_type, item, f"{path}[{index}]", module, problems)
    elif _is_map(tp):
        if not isinstance(value, Mapping):
            problems.append(f"{path}: expected an object, got {type(value).__name__}")
    elif isinstance(tp, type) and is_typeddict(tp):
        if not isinstance(value, Mapping):
            problems.append(f"{path}: expected an object ({tp.__name__}), got {value!r}")
            return
        for key, item in value.items():
            _check_typeddict_key(tp, key, item, f"{path}.{key}", problems)
    elif tp is Any:
        return
    elif isinstance(value, Mapping | list | tuple):
        problems.append(f"{path}: expected {getattr(tp, '__name__', tp)}, got {value!r}")


def _is_map(tp: Any) -> bool:
    """A free-form map: Dict[str, X] or the SDK's UntypedStripeObject[X] (metadata)."""
    origin = typing.get_origin(tp) or tp
    return origin in (dict, typing.Dict) or (  # noqa: UP006
        isinstance(origin, type) and issubclass(origin, StripeObject)
    )


def _check_union(members: tuple, value: Any, path: str, module: str, problems: list[str]) -> None:
    """Fine when the value fits any member; otherwise the problems of the closest member."""
    best: list[str] | None = None
    # Of equally close members, the one of the value's kind (object, list, scalar) explains best.
    for member in sorted(members, key=lambda m: not _same_kind(m, value, module)):
        attempt: list[str] = []
        _check_value(member, value, path, module, attempt)
        if not attempt:
            return
        if best is None or len(attempt) < len(best):
            best = attempt
    problems.extend(best or [f"{path}: {value!r} fits no allowed type"])


def _same_kind(tp: Any, value: Any, module: str) -> bool:
    tp = _resolve(tp, module)
    if isinstance(value, Mapping):
        return _is_map(tp) or (isinstance(tp, type) and is_typeddict(tp))
    if isinstance(value, list | tuple):
        return typing.get_origin(tp) in (list, typing.List)  # noqa: UP006
    return True


# --- checking expand paths --------------------------------------------------------------------


def check_expand(resource: type, paths: list[str]) -> list[str]:
    """Each ``expand`` path must name, field by field, objects reachable from ``resource``,
    ending on an expandable field (a ``ExpandableField[...]``, i.e. an id unless expanded)."""
    problems = []
    for path in paths:
        cls: Any = resource
        expandable = False
        for segment in path.split("."):
            if cls is None:
                break
            annotation = _annotations_of(cls).get(segment)
            if annotation is None:
                problems.append(f"expand {path!r}: {cls.__name__} has no field {segment!r}")
                break
            cls, expandable = _field_target(_resolve(annotation, cls.__module__), cls.__module__)
        else:
            if not expandable:
                problems.append(f"expand {path!r}: the last field is not expandable")
    return problems


def _annotations_of(cls: type) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        merged.update(getattr(klass, "__annotations__", {}))
    return merged


def _field_target(tp: Any, module: str) -> tuple[type | None, bool]:
    """(the object class a field holds, whether the field is expandable): a field typed
    ``Union[str, X]`` (ExpandableField) is expandable into X."""
    tp = _resolve(tp, module)
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        objects = [_resolve(a, module) for a in args if a is not str]
        target = objects[0] if len(objects) == 1 else None
        if typing.get_origin(target) in (typing.Union, types.UnionType):  # Optional[Expandable]
            return _field_target(target, module)
        return (target if isinstance(target, type) else None), str in args
    if typing.get_origin(tp) in (list, typing.List) and args:  # noqa: UP006
        return _field_target(args[0], module)
    return (tp if isinstance(tp, type) and issubclass(tp, StripeObject) else None), False


# --- finding the parameter class of a call ----------------------------------------------------


def params_class_of(service_class: type, method_name: str) -> type:
    method = getattr(service_class, method_name)
    return _unwrap_optional(_resolve(method.__annotations__["params"], method.__module__))


def returned_resource_of(service_class: type, method_name: str) -> type | None:
    method = getattr(service_class, method_name)
    annotation = method.__annotations__.get("return")
    if isinstance(annotation, str) and annotation.startswith("ListObject["):
        return None  # a list: expand paths start with "data." (not used by the gateway)
    resolved = _unwrap_optional(_resolve(annotation, method.__module__))
    return resolved if isinstance(resolved, type) else None


def _unwrap_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return _resolve(members[0], stripe.params.__name__)
    return tp


def check_call(
    service_class: type, method_name: str, params: Mapping[str, Any] | None
) -> list[str]:
    params_class = params_class_of(service_class, method_name)
    params = params or {}
    problems = check_params(params_class, params)
    expand = params.get("expand")
    resource = returned_resource_of(service_class, method_name)
    if isinstance(expand, list) and resource is not None:
        problems.extend(check_expand(resource, expand))
    return problems


# --- recording --------------------------------------------------------------------------------


@dataclass
class StripeRequestRecorder:
    """Records every ``client.v1.<resource>.<method>(params=...)`` call made in this process.

    It sits in ``StripeService._request``, which every service method calls with the
    parameters it was given; the calling frame names the service and the method, whose
    ``params`` annotation names the SDK's parameter class. The request still goes out: the
    recorder only records and judges it (raising inside the code under test could be swallowed
    by a retry loop; a recorded problem cannot)."""

    calls: list[StripeCall] = field(default_factory=list)
    current_test: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _judged: list[tuple[int, int]] = field(default_factory=list)
    _original: Any = None

    def install(self) -> None:
        if self._original is not None:
            return
        original = StripeService._request
        recorder = self

        def _request(service, method, url, params=None, options=None, **kwargs):
            caller = sys._getframe(1)
            recorder.record(type(service), caller.f_code.co_name, params)
            return original(service, method, url, params, options, **kwargs)

        self._original = original
        StripeService._request = _request  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            StripeService._request = self._original  # type: ignore[method-assign]
            self._original = None

    def record(self, service_class: type, method_name: str, params: Mapping | None) -> StripeCall:
        try:
            params_class = params_class_of(service_class, method_name).__name__
            problems = tuple(check_call(service_class, method_name, params))
        except (AttributeError, KeyError, NameError, RuntimeError) as exc:
            # The SDK changed how services call _request: say so rather than check nothing.
            params_class = "?"
            problems = (f"cannot find the parameter class of this call: {exc!r}",)
        call = StripeCall(
            service=service_class.__name__,
            method=method_name,
            params_class=params_class,
            params=copy.deepcopy(dict(params or {})),
            problems=problems,
            test=self.current_test,
        )
        with self._lock:
            self.calls.append(call)
        return call

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def since(self, mark: int) -> list[StripeCall]:
        with self._lock:
            return self.calls[mark:]

    def check_since(self, mark: int) -> list[StripeCall]:
        """The calls made since ``mark``, which the caller (one test) now judges."""
        with self._lock:
            self._judged.append((mark, len(self.calls)))
            return self.calls[mark:]

    def unjudged(self) -> list[StripeCall]:
        """Calls no test judged: made outside every test's window (a session fixture's setup,
        a thread still running after the last test)."""
        with self._lock:
            judged = set()
            for start, end in self._judged:
                judged.update(range(start, end))
            return [call for i, call in enumerate(self.calls) if i not in judged]

    @staticmethod
    def report(calls: list[StripeCall]) -> str:
        """The calls with problems, described; "" when there are none."""
        bad = [call for call in calls if call.problems]
        if not bad:
            return ""
        return "Stripe requests with parameters the stripe SDK does not define:\n" + "\n".join(
            call.describe() for call in bad
        )

    def __iter__(self) -> Iterator[StripeCall]:
        with self._lock:
            return iter(list(self.calls))


RECORDER = StripeRequestRecorder()
