"""Name → plug-in tables: estimators, discrepancies, vcov estimators, test statistics.

Every choice a user makes by name (``estimator="MLR"``, ``se="robust.sem"``,
``test="scaled.shifted"``) is looked up in a :class:`Registry`.  The registries hold
lavaan's names with dots turned into underscores; lavaan's dotted spelling and the
case of the letters do not matter.  Adding a plug-in is one ``register`` call in the
module that defines it: no code outside the registries branches on these names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from semnet.errors import OptionError, check_choice

T = TypeVar("T")


def normalize(name: object) -> object:
    """lavaan's dotted names with underscores (``"robust.sem"`` → ``"robust_sem"``)."""
    return name.replace(".", "_").lower() if isinstance(name, str) else name


class Registry(Generic[T]):
    """Plug-ins of one kind, by name.

    Parameters
    ----------
    option : str
        The option the names are given in (``"se"``), for error messages.
    upper : bool
        Names are upper case (estimators: ``"MLR"``), else lower case.

    Examples
    --------
    >>> from semnet.registry import Registry
    >>> colours = Registry("colour")
    >>> colours.register("dark_red", (139, 0, 0), aliases=("maroon",))
    (139, 0, 0)
    >>> colours.get("dark.red")
    (139, 0, 0)
    >>> colours.name("maroon")
    'dark_red'
    """

    def __init__(self, option: str, upper: bool = False) -> None:
        self.option = option
        self.upper = upper
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}
        self._planned: dict[str, str] = {}

    def _key(self, name: object) -> object:
        key = normalize(name)
        return key.upper() if self.upper and isinstance(key, str) else key

    def register(self, name: str, item: T, aliases: tuple[str, ...] = ()) -> T:
        """Add ``item`` under ``name`` (and ``aliases``); returns ``item``."""
        self._items[name] = item
        for alias in aliases:
            self._aliases[str(self._key(alias))] = name
        return item

    def plugin(self, name: str, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
        """Decorator form of :meth:`register`."""
        return lambda item: self.register(name, item, aliases)

    def plan(self, name: str, reason: str) -> None:
        """A name users may know (lavaan has it) that semnet does not provide yet."""
        self._planned[name] = reason

    def name(self, name: object) -> str:
        """The registered name that ``name`` stands for; :class:`OptionError` (with the
        valid names and the nearest one) when there is none."""
        key = self._key(name)
        if key in self._items:
            return key  # type: ignore[return-value]
        if key in self._aliases:
            return self._aliases[key]  # type: ignore[index]
        if key in self._planned:
            raise OptionError(
                f"{self.option}={name!r} is not available in this version of semnet "
                f"({self._planned[key]}); use one of {', '.join(self._items)}."  # type: ignore[index]
            )
        return check_choice(self.option, key, [*self._items, *self._aliases])

    def get(self, name: object) -> T:
        """The plug-in registered under ``name`` (or an alias of it)."""
        return self._items[self.name(name)]

    def __contains__(self, name: object) -> bool:
        key = self._key(name)
        return key in self._items or key in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
