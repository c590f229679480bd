"""semnet._frozen.frozen: the same object as the dataclass's own __init__ makes."""

import copy
import dataclasses
import pickle

import pytest

from semnet._frozen import frozen
from semnet.options import Options, resolve


@dataclasses.dataclass(frozen=True)
class Pair:
    a: int
    b: tuple[str, ...]


def test_equal_hash_and_immutable_as_the_init_made_one():
    made = frozen(Pair, {"a": 1, "b": ("x",)})
    assert made == Pair(1, ("x",))
    assert hash(made) == hash(Pair(1, ("x",)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.a = 2  # type: ignore[misc]
    assert dataclasses.replace(made, a=2) == Pair(2, ("x",))
    assert pickle.loads(pickle.dumps(made)) == made
    assert copy.copy(made) == made


def test_every_field_must_be_given():
    with pytest.raises(TypeError, match="has the fields a, b, given a"):
        frozen(Pair, {"a": 1})


def test_a_class_with_post_init_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    with pytest.raises(TypeError, match="__post_init__"):
        frozen(Checked, {"a": -1})


def test_resolved_options_equal_those_of_the_init():
    options = resolve(group="school", estimator="MLR", group_equal=("loadings",))
    fields = {f.name: getattr(options, f.name) for f in dataclasses.fields(Options)}
    assert options == Options(**fields)
    assert hash(options) == hash(Options(**fields))
