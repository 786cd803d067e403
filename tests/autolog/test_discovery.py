"""Integrations are plugins: a third-party distribution registers one through the entry-point
group `flightlog.integrations`, and `flightlog.autolog()` finds and enables it."""

from __future__ import annotations

import sys
import textwrap
import uuid
import warnings

import pytest

import flightlog
from flightlog.autolog import discovery
from flightlog.autolog.reporting import FlightlogAutologWarning

PLUGIN_SOURCE = textwrap.dedent(
    """
    from flightlog.autolog.calls import TrainingHandler, training_wrapper
    from flightlog.autolog.integration import AutologIntegration


    class Handler(TrainingHandler):
        def after(self, call, result):
            call.log(metrics={{"plugin_result": result}})


    class PluginIntegration(AutologIntegration):
        name = "{name}"
        module = "{framework}"

        def patch_targets(self):
            def apply(module, patcher):
                patcher.wrap(module.Booster, "train", training_wrapper(self, Handler()))

            return {{self.module: apply}}


    integration = PluginIntegration()
    """
)

FRAMEWORK_SOURCE = textwrap.dedent(
    """
    class Booster:
        def train(self, rounds):
            return rounds * 10
    """
)


@pytest.fixture
def plugin_distribution(tmp_path, monkeypatch):
    """A tiny installed distribution: a plugin module, a framework module, and a dist-info
    folder whose entry_points.txt registers the plugin."""
    suffix = uuid.uuid4().hex[:8]
    name, plugin, framework = f"toyboost{suffix}", f"toyplugin_{suffix}", f"toyboost_{suffix}"
    (tmp_path / f"{plugin}.py").write_text(PLUGIN_SOURCE.format(name=name, framework=framework))
    (tmp_path / f"{framework}.py").write_text(FRAMEWORK_SOURCE)
    dist_info = tmp_path / f"{plugin}-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {plugin}\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        f"[flightlog.integrations]\n{name} = {plugin}:integration\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, plugin, framework
    if plugin in sys.modules:
        sys.modules[plugin].integration.revert()
    for module in (plugin, framework):
        sys.modules.pop(module, None)


def test_third_party_integration_is_discovered_and_enabled(plugin_distribution, tmp_path):
    name, plugin, framework = plugin_distribution
    found = discovery.discover()
    assert "sklearn" in found  # flightlog's own, registered the same way
    assert name in found

    try:
        flightlog.autolog()
        assert sys.modules[plugin].integration.enabled
        booster = __import__(framework).Booster()  # imported after enabling
        assert booster.train(3) == 30
        flightlog.flush()
        (run,) = flightlog.search_runs(experiment_ids=["0"], output_format="list")
        assert run.data.metrics == {"plugin_result": 30.0}
        assert run.data.tags["mlflow.autologging"] == name
    finally:
        flightlog.autolog(disable=True)
    assert not sys.modules[plugin].integration.enabled
    assert not found["sklearn"].enabled


def test_broken_plugin_is_one_warning_and_the_others_still_load(tmp_path, monkeypatch):
    monkeypatch.setenv("FLIGHTLOG_AUTOLOG_TESTING", "0")
    dist_info = tmp_path / "brokenplugin-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplugin\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        "[flightlog.integrations]\nbroken = no_such_module_anywhere:integration\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = discovery.discover()
    assert "sklearn" in found and "broken" not in found
    ours = [w for w in caught if issubclass(w.category, FlightlogAutologWarning)]
    assert len(ours) == 1
    assert "no_such_module_anywhere" in str(ours[0].message)


def test_get_integration_names_what_is_installed():
    from flightlog.autolog import get_integration
    from flightlog.exceptions import AutologConfigError

    assert get_integration("sklearn").module == "sklearn"
    with pytest.raises(AutologConfigError, match="installed: .*sklearn"):
        get_integration("nope")
