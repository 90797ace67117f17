"""Parameter text shared by several docstrings (seaborn's ``DocstringComponents`` habit).

A docstring line that is only ``%(name)s`` is replaced by the entry ``name``, indented as
that line, so that a parameter described for several functions is written once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

__all__ = ["shared_doc"]

_F = TypeVar("_F", bound=Callable[..., object])
_PLACEHOLDER = re.compile(r"(?m)^( *)%\((\w+)\)s$")


def shared_doc(entries: Mapping[str, str]) -> Callable[[_F], _F]:
    """A decorator that fills the ``%(name)s`` lines of a docstring from ``entries``.

    Examples
    --------
    >>> @shared_doc({"x": "x : float\\n    A number."})
    ... def f(x):
    ...     '''Double.
    ...
    ...     %(x)s
    ...     '''
    >>> print(f.__doc__.strip())
    Double.
    <BLANKLINE>
        x : float
            A number.
    """

    def fill(match: re.Match[str]) -> str:
        indent = match.group(1)
        lines = entries[match.group(2)].split("\n")
        return "\n".join(indent + line if line else "" for line in lines)

    def decorate(func: _F) -> _F:
        func.__doc__ = _PLACEHOLDER.sub(fill, func.__doc__ or "")
        return func

    return decorate
