"""Reversible patches and post-import hooks."""

from __future__ import annotations

import pickle
import sys

import cloudpickle

from flightlog.autolog.patching import Patcher, PatchWrapper


def test_revert_restores_the_very_same_objects():
    class Model:
        def fit(self, x):
            return x + 1

        @staticmethod
        def helper(x):
            return x * 2

        @classmethod
        def build(cls):
            return cls()

    originals = {name: vars(Model)[name] for name in ("fit", "helper", "build")}
    seen = []

    def spy(wrapped, instance, args, kwargs):
        seen.append(wrapped.__name__)
        return wrapped(*args, **kwargs)

    patcher = Patcher("test")
    for name in originals:
        assert patcher.wrap(Model, name, spy)
        assert not patcher.wrap(Model, name, spy)  # patching twice patches once
    assert len(patcher) == 3
    assert Model().fit(1) == 2 and Model.helper(3) == 6 and isinstance(Model.build(), Model)
    assert seen == ["fit", "helper", "build"]
    assert isinstance(vars(Model)["fit"], PatchWrapper)

    assert patcher.revert() == 3
    for name, original in originals.items():
        assert vars(Model)[name] is original
    assert Model().fit(1) == 2
    assert seen == ["fit", "helper", "build"]


def test_added_attribute_is_removed_on_revert():
    class Base:
        pass

    patcher = Patcher("test")
    assert patcher.add(Base, "marker", 1)
    assert not patcher.add(Base, "marker", 2)
    assert Base.marker == 1
    patcher.revert()
    assert "marker" not in vars(Base)


def test_wrapper_wrapped_by_someone_else_is_retired_not_removed():
    class Model:
        def fit(self):
            return "fitted"

    calls = []

    def ours(wrapped, instance, args, kwargs):
        calls.append("ours")
        return wrapped(*args, **kwargs)

    patcher = Patcher("test")
    patcher.wrap(Model, "fit", ours)
    inner = vars(Model)["fit"]

    def theirs(self):
        calls.append("theirs")
        return inner(self)

    Model.fit = theirs
    patcher.revert()
    assert vars(Model)["fit"] is theirs  # their change survives
    assert Model().fit() == "fitted"
    assert calls == ["theirs"]  # ours passes straight through now


def test_pickling_a_patched_class_by_value_pickles_the_original():
    namespace = {}
    exec(
        "class ByValue:\n    def fit(self):\n        return 'fit'\n",
        namespace,
    )
    cls = namespace["ByValue"]
    cls.__module__ = "__main__"  # cloudpickle pickles __main__ classes by value
    original = vars(cls)["fit"]
    patcher = Patcher("test")
    patcher.wrap(cls, "fit", lambda wrapped, instance, args, kwargs: wrapped(*args, **kwargs))
    try:
        restored = pickle.loads(cloudpickle.dumps(cls()))
        assert restored.fit() == "fit"
        assert not isinstance(vars(type(restored))["fit"], PatchWrapper)
        assert vars(type(restored))["fit"].__code__.co_code == original.__code__.co_code
    finally:
        patcher.revert()


def test_framework_imported_after_enabling_is_patched_on_import(toy, all_runs):
    integration, import_module = toy
    assert integration.module not in sys.modules
    integration.autolog()
    fw = import_module()
    assert isinstance(vars(fw.Trainer)["fit"], PatchWrapper)
    fw.Trainer().fit([1])
    assert len(all_runs()) == 1


def test_disable_reverts_and_enable_again_repatches(toy, all_runs):
    integration, import_module = toy
    fw = import_module()
    original = vars(fw.Trainer)["fit"]
    integration.autolog()
    integration.autolog(log_models=False)  # enabling twice patches once
    assert isinstance(vars(fw.Trainer)["fit"], PatchWrapper)
    assert len(integration.patcher) == 3
    assert integration.config.log_models is False

    integration.autolog(disable=True)
    assert vars(fw.Trainer)["fit"] is original
    assert not integration.enabled
    fw.Trainer().fit([1])
    assert all_runs() == []

    integration.autolog()
    fw.Trainer().fit([1])
    assert len(all_runs()) == 1
