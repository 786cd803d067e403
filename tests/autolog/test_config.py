"""Autolog options: defaults, checks, clear errors."""

from __future__ import annotations

import pytest

import flightlog
from flightlog.autolog import config
from flightlog.exceptions import AutologConfigError


def test_defaults_follow_mlflow():
    resolved = config.resolve({}, where="test")
    assert resolved.log_models is True
    assert resolved.log_input_examples is False
    assert resolved.log_model_signatures is True
    assert resolved.log_datasets is True
    assert resolved.exclusive is False
    assert resolved.max_tuning_runs == 5
    assert resolved.extra_tags == {}


def test_unknown_option_names_the_closest_one():
    with pytest.raises(AutologConfigError, match=r"'log_modles' \(did you mean 'log_models'\?\)"):
        config.resolve({"log_modles": False}, where="test")


def test_flightlog_autolog_refuses_unknown_options_before_enabling_anything():
    from flightlog_sklearn import integration

    with pytest.raises(AutologConfigError, match="no_such_option"):
        flightlog.autolog(no_such_option=1)
    assert not integration.enabled


def test_integration_specific_option_is_accepted_by_its_integration_only():
    from flightlog_sklearn import integration

    try:
        flightlog.sklearn.autolog(serialization_format="pickle")
        assert integration.config.serialization_format == "pickle"
        with pytest.raises(AutologConfigError, match="serialization_format"):
            flightlog.sklearn.autolog(serialization_format="json")
    finally:
        integration.revert()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"log_models": "yes"}, "'log_models' must be True or False"),
        ({"max_tuning_runs": -1}, "'max_tuning_runs' must be a non-negative integer"),
        ({"max_tuning_runs": 2.5}, "'max_tuning_runs' must be a non-negative integer"),
        ({"extra_tags": ["a"]}, "'extra_tags' must be a dict"),
        ({"extra_tags": {"bad key!": "x"}}, "Invalid Tag key"),
        ({"registered_model_name": ""}, "'registered_model_name' must be a non-empty string"),
    ],
)
def test_bad_values_are_refused(options, message):
    with pytest.raises(AutologConfigError, match=message):
        config.resolve(options, where="test")
