"""One declaration per plug-in (issue 17.1): the declarations, the schema generated from them,
the checks `astroanom check` makes with them (issue 18.26), the shared settings a strategy
receives (issue 18.1) and the schema shipped with the package."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from astroanom import cli, plugins, schema
from astroanom import config as acfg
from astroanom.active.strategies import ACTIVE_LEARNING, make_strategy, takes_shared
from astroanom.errors import ConfigError
from astroanom.params import REQUIRED, UNSET, Param, Params, declaration

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # toy_detector: the third-party plug-ins
SHARED = {"alpha": 1.0, "n_estimators": 10}


def _cfg(**dataset) -> dict:
    entry = {"source": {"kind": "images", "path": "x"}, **dataset}
    return {"seeds": [1], "datasets": {"d": entry}}


def _error(cfg: dict) -> str:
    with pytest.raises(ConfigError) as err:
        acfg.validate(cfg)
    return str(err.value)


# -- the declaration module ------------------------------------------------------------------


def test_param_renders_json_schema_by_hand():
    p = Param(int, None, "subsample size", minimum=1, nullable=True)
    assert p.schema() == {
        "type": ["integer", "null"],
        "minimum": 1,
        "default": None,
        "description": "subsample size",
    }
    assert p.schema(with_default=False)["description"] == "subsample size (default: None)"
    e = Param(str, "a", enum=("a", "b"))
    assert e.schema() == {"type": "string", "enum": ["a", "b"], "default": "a"}
    assert e.allowed() == "one of 'a', 'b'"
    assert Param(float, 1.0, exclusive_minimum=0, maximum=5).allowed() == "a number > 0 and <= 5"
    assert Param(str).required and not Param(str).has_default
    assert not Param(int, UNSET).required and not Param(int, UNSET).has_default


def test_params_fill_and_check_name_the_key_and_what_is_allowed():
    decl = Params(k=Param(int, 3, minimum=1), mode=Param(str, "a", enum=("a", "b")))
    assert decl.fill({"mode": "b"}) == {"mode": "b", "k": 3}
    assert decl.check({"k": 2}, "x", fill=True) == {"k": 2, "mode": "a"}
    with pytest.raises(ConfigError, match=r"^x: unknown key\(s\): 'kk'; allowed: name, k, mode"):
        decl.check({"name": "t", "kk": 1}, "x", reserved=["name"])
    with pytest.raises(ConfigError, match=r"^x\.k: 0 is not allowed; allowed: an integer >= 1$"):
        decl.check({"k": 0}, "x")
    with pytest.raises(ConfigError, match=r"^x\.mode: 'c' is not allowed; allowed: one of 'a'"):
        decl.check({"mode": "c"}, "x")


def test_declared_constructor_takes_its_defaults_from_the_declaration():
    from astroanom.detect.detectors import IsolationForestDetector, LocalOutlierFactor

    lof = LocalOutlierFactor()
    assert lof.n_neighbors == LocalOutlierFactor.PARAMS.default("n_neighbors") == 100
    assert LocalOutlierFactor(n_neighbors=7).n_neighbors == 7
    sig = inspect.signature(IsolationForestDetector)
    assert sig.parameters["n_estimators"].default == 100
    assert IsolationForestDetector(5, seed=2).model.n_estimators == 5  # positional still works


# -- every built-in declares, once -------------------------------------------------------------

#: Constructor arguments the workflow resolves (not keys of the plug-in's config entry).
RESOLVED = {"classes", "images", "mapping", "labels", "solutions"}


@pytest.mark.parametrize(
    ("kind", "name"), [(k, n) for k in plugins.KINDS for n in plugins.BUILTIN[k]]
)
def test_every_builtin_declares_each_constructor_parameter(kind, name):
    cls = plugins.import_object(plugins.BUILTIN[kind][name])
    decl = declaration(cls)
    assert decl is not None, f"{kind} {name} declares no PARAMS"
    init = getattr(cls.__init__, "__wrapped__", cls.__init__)
    params = [p for p in inspect.signature(init).parameters.values() if p.name != "self"]
    for p in params:
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        if p.name in schema.INJECTED or (p.name in RESOLVED and p.name not in decl):
            continue
        assert p.name in decl, f"{kind} {name}: {p.name} is not declared"
        assert p.default is inspect.Parameter.empty, f"{kind} {name}: {p.name} has a default"
        if decl[p.name].has_default:  # the class's effective default is the declared one
            assert inspect.signature(cls).parameters[p.name].default == decl[p.name].default


def test_no_plugin_default_is_written_outside_its_declaration():
    """`python -m astroanom.schema --count-defaults`: 0 in the plug-ins, and the shared alpha /
    n_estimators only where the loop and labeller helpers remove them (loop.py, ranking.py)."""
    dups = schema.duplicated_defaults()
    assert [d for d in dups if "__init__" in d and "ranking.py" not in d] == []
    assert {d.split(":")[0] for d in dups} <= {
        "astroanom/active/loop.py",
        "astroanom/active/ranking.py",
    }


def test_written_defaults_are_found():
    import ast

    fn = ast.parse("def f(a, b=1, *, c, d=2, seed=0): pass").body[0]
    assert [n for n, _ in schema._written_defaults(fn)] == ["b", "d", "seed"]


# -- the schema file: generated, one copy, shipped ----------------------------------------------


def test_schema_file_is_generated_from_the_declarations():
    """Fails when a PARAMS and the schema drift: run `python -m astroanom.schema --write`."""
    text = acfg.schema_path().read_text(encoding="utf-8")
    assert schema.render(text) == text
    assert schema.main(["--check"]) == 0


def test_generated_defaults_are_the_declared_ones():
    s = yaml.safe_load(acfg.schema_path().read_text(encoding="utf-8"))
    assert s["$defs"]["active_learning"]["properties"]["alpha"]["default"] == 1.0
    assert ACTIVE_LEARNING.defaults() == {"alpha": 1.0, "n_estimators": 100}
    cases = {
        c["if"]["properties"]["kind"]["const"]: c["then"]
        for c in s["$defs"]["features"]["allOf"][1:]
    }
    assert cases["ellipse"]["properties"]["shard_size"] == {"default": 2000}
    assert cases["values"]["properties"]["shard_size"] == {"default": 1000000}
    assert "required" not in cases["spectrum"]  # the grid comes from the data when not given
    assert cases["spectrum"]["properties"]["grid_min"]["default"] is None


def test_one_schema_file_the_package_ships():
    path = acfg.schema_path()
    assert path.parent == Path(acfg.__file__).parent  # package data, not the checkout's config/
    assert (REPO / "config" / "schema.yaml").resolve() == path.resolve()  # a link, not a copy
    text = (REPO / "pyproject.toml").read_text()
    assert '"schema.yaml"' in text.split("[tool.setuptools.package-data]")[1].split("\n[")[0]


def test_validation_works_from_a_built_package_outside_the_checkout(tmp_path):
    """The package as setuptools builds it (build_py: modules + package data), imported from
    a directory that is not a checkout, validates a config with the schema it ships."""
    code = (
        "import os; from setuptools.dist import Distribution\n"
        f"os.chdir({str(REPO)!r})\n"
        "d = Distribution({'script_name': 'setup.py'}); d.parse_config_files()\n"
        f"c = d.get_command_obj('build_py'); c.build_lib = {str(tmp_path / 'lib')!r}\n"
        "d.run_command('build_py')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    (tmp_path / "run").mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "lib")}
    check = (
        "from astroanom import config as c; p = c.schema_path(); "
        "cfg = c.validate({'datasets': {'d': {'source': {'kind': 'images', 'path': 'x'}}}}); "
        "print(p, cfg['datasets']['d']['features']['shard_size'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", check],
        cwd=tmp_path / "run",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert (
        out.startswith(str(tmp_path / "lib" / "astroanom" / "schema.yaml"))
        and out.split()[-1] == "2000"
    )


def test_validation_imports_no_plugin_module():
    code = (
        "import sys; from astroanom import config as c\n"
        f"c.load([{str(REPO / 'config' / 'config.yaml')!r}])\n"
        "heavy = [m for m in ('numpy', 'sklearn', 'cv2', 'matplotlib', 'astroanom.detect', "
        "'astroanom.features', 'astroanom.sources', 'astroanom.active') if m in sys.modules]\n"
        "print(heavy)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == "[]"


# -- what validation refuses, naming the key and the allowed values ------------------------------


def _check(tmp_path, capsys, cfg: dict) -> tuple[int, str]:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(cfg))
    code = cli.main(["check", "--configfile", str(path)])
    return code, capsys.readouterr().err


def test_check_rejects_an_unknown_strategy_name(tmp_path, capsys):
    """Issue 18.26: `strategy: {name: nosuch}` passed check and failed at the first retrain."""
    code, err = _check(tmp_path, capsys, _cfg(strategy={"name": "nosuch"}))
    assert code == 1
    assert (
        "datasets.d.strategy.name: unknown strategy 'nosuch'; known: coniferest, gp, none, paper, random"
        in err
    )


def test_check_rejects_an_unknown_detector_key(tmp_path, capsys):
    """Issue 17.1 / 18.26: `detector: {name: lof, n_neighbours: 5}` passed check."""
    code, err = _check(tmp_path, capsys, _cfg(detector={"name": "lof", "n_neighbours": 5}))
    assert code == 1
    assert "datasets.d.detector: unknown key(s): 'n_neighbours'; allowed: " in err
    assert "n_neighbors, block_rows" in err


def test_check_rejects_an_out_of_range_detector_parameter(tmp_path, capsys):
    """Issue 17.1 / 18.26: `detector: {name: iforest, n_estimators: -3}` passed check."""
    code, err = _check(tmp_path, capsys, _cfg(detector={"name": "iforest", "n_estimators": -3}))
    assert code == 1
    assert "datasets.d.detector.n_estimators: -3 is not allowed; allowed: an integer >= 1" in err


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        (
            {"detector": {"name": "lof", "params": {"n_neighbors": 0}}},
            "datasets.d.detector.params.n_neighbors: 0 is not allowed; allowed: an integer >= 1",
        ),
        (
            {"strategy": {"name": "gp", "kappa": 2}},
            "datasets.d.strategy: unknown key(s): 'kappa'; allowed: name, params, optional, label, xi",
        ),
        (
            {"strategy": {"name": "paper", "alpha": 0}},
            "datasets.d.strategy.alpha: 0 is not allowed; allowed: a number > 0",
        ),
        (
            {"strategy": {"name": "coniferest", "model": "oakforest"}},
            "datasets.d.strategy.model: 'oakforest' is not allowed; allowed: one of 'pineforest', 'aadforest'",
        ),
        (
            {"features": {"kind": "combine", "extractors": [{"kind": "moments", "chanel": 1}]}},
            "datasets.d.features.extractors[0]: unknown key(s): 'chanel'; allowed: kind, name, channel",
        ),
        (
            {"features": {"kind": "combine", "extractors": [{"kind": "histogram", "n_bins": 0}]}},
            "datasets.d.features.extractors[0].n_bins: 0 is not allowed; allowed: an integer >= 1",
        ),
        (
            {"features": {"kind": "combine", "extractors": [{"kind": "nosuch"}]}},
            "datasets.d.features.extractors[0].kind: unknown extractor 'nosuch'",
        ),
        (
            {"source": {"kind": "images", "path": "x", "n_object": 3}},
            "datasets.d.source: unknown key(s): 'n_object'; allowed: kind, path, n_objects",
        ),
        (
            {"features": {"kind": "ellipse", "preset": "nope"}},
            "datasets.d.features.preset: 'nope' is not allowed; allowed: one of 'paper', 'astronomaly'",
        ),
        (
            {"detector": {"name": "toy_detector.DeclaredDistance", "powr": 2}},
            "datasets.d.detector: unknown key(s): 'powr'; allowed: ",
        ),
        (
            {"detector": {"name": "toy_detector.DeclaredDistance", "power": -1}},
            "datasets.d.detector.power: -1 is not allowed; allowed: a number > 0",
        ),
    ],
)
def test_plugin_entries_are_checked_against_their_declaration(dataset, message):
    assert message in _error(_cfg(**dataset))


def test_benchmark_entries_are_checked_too():
    cfg = _cfg(truth={"kind": "fraction", "column": "odd"})
    cfg["benchmark"] = {
        "datasets": ["d"],
        "detectors": {"lof": {"name": "lof", "k": 5}},
        "strategies": {"none": {"name": "none"}},
    }
    assert "benchmark.detectors.lof: unknown key(s): 'k'" in _error(cfg)
    cfg["benchmark"]["detectors"] = {"lof": {"name": "lof"}}
    cfg["benchmark"]["strategies"] = {"x": {"name": "nosuch"}}
    assert "benchmark.strategies.x.name: unknown strategy 'nosuch'" in _error(cfg)


def test_combine_parts_get_their_extractors_defaults():
    cfg = _cfg(features={"kind": "combine", "extractors": [{"kind": "histogram", "name": "h"}]})
    part = acfg.validate(cfg)["datasets"]["d"]["features"]["extractors"][0]
    assert part == {
        "kind": "histogram",
        "name": "h",
        **plugins.resolve("extractor", "histogram").PARAMS.defaults(),
    }


def test_undeclared_third_party_plugins_pass_through():
    cfg = _cfg(detector={"name": "toy_detector.DistanceFromMedian", "power": 2, "anything": 1})
    assert acfg.validate(cfg)["datasets"]["d"]["detector"]["anything"] == 1
    unimportable = _cfg(detector={"name": "not_installed_here.Detector", "k": 1})
    acfg.validate(unimportable)  # may exist where the jobs run: warned, not refused


def test_dataset_without_features_gets_the_source_kinds_default():
    entry = acfg.validate(_cfg())["datasets"]["d"]
    assert entry["features"] == {
        "kind": "ellipse",
        **plugins.resolve("extractor", "ellipse").PARAMS.defaults(),
        "shard_size": 2000,
    }
    assert entry["detector"] == {"name": "iforest"}  # its defaults are IsolationForestDetector's


# -- shared active_learning settings reach only the strategies that declare them ------------------


def test_shared_settings_reach_only_strategies_that_declare_them():
    """Issue 18.1: coniferest got alpha and n_estimators (PineForest: unexpected keyword)."""
    pytest.importorskip("coniferest")
    rng = np.random.default_rng(0)
    X, S = rng.normal(size=(200, 3)), rng.uniform(0, 5, 200)
    labelled, labels = np.array([0, 1]), np.array([5.0, 0.0])
    for model in ("pineforest", "aadforest"):
        strat = make_strategy(
            "coniferest", seed=1, shared=SHARED, model=model, n_trees=20, n_subsamples=64
        )
        assert "alpha" not in strat.params and "n_estimators" not in strat.params
        assert strat.fit(X, S, labelled, labels).score().shape == (200,)
    paper = make_strategy("paper", shared=SHARED)
    assert paper.alpha == 1.0 and paper.learner.n_estimators == 10
    assert make_strategy("paper", shared=SHARED, alpha=2.0).alpha == 2.0  # the entry wins
    toy = make_strategy("toy_detector.AlphaStrategy", shared={"alpha": 3.0, "n_estimators": 5})
    assert toy.alpha == 3.0
    assert not takes_shared(plugins.resolve("strategy", "gp"), "alpha")


def test_paper_strategy_needs_the_shared_settings():
    with pytest.raises(Exception, match="alpha"):
        make_strategy("paper")
    assert REQUIRED is plugins.resolve("strategy", "paper").PARAMS["alpha"].default
