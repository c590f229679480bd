"""semnet.syntax.roles: lavaan's variable roles (lav_partable_vnames)."""

from semnet.syntax import parse_model
from semnet.syntax.roles import variable_roles


def roles(text):
    return variable_roles(parse_model(text).relations)


def test_mediation_model_with_a_covariate():
    names, dropped = roles("f =~ x1 + x2 + x3\ng =~ y1 + y2 + y3\ng ~ f + z\ny ~ g")
    assert names.ov == ("x1", "x2", "x3", "y1", "y2", "y3", "y", "z")
    assert names.lv == ("f", "g")
    assert names.ov_x == ("z",)
    assert names.lv_x == ("f",)
    assert names.ov_y == ("y",)
    assert names.lv_y == ()
    assert names.ov_nox == ("x1", "x2", "x3", "y1", "y2", "y3", "y")
    assert dropped == ()


def test_a_covariate_given_moments_is_random_and_reported():
    names, dropped = roles("y ~ a + b\na ~~ b\nb ~ 1")
    assert names.ov_x == ()
    assert dropped == ("a", "b")
    assert names.ov == ("y", "a", "b")


def test_observed_variables_named_only_in_covariances_follow_in_their_order():
    names, _ = roles("f =~ x1 + x2 + x3\nw ~~ v\nu ~ 1")
    # the covariances' left-hand sides, then their right-hand sides, then intercepts
    assert names.ov == ("x1", "x2", "x3", "w", "v", "u")


def test_a_parsed_model_finds_its_roles_once():
    parsed = parse_model("f =~ x1 + x2 + x3")
    assert parsed.roles is parsed.roles
    assert parsed.roles == variable_roles(parsed.relations)
