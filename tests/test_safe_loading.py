"""skae.load: a tampered skops file that names any class of skae runs no code and is refused with a clear error."""

import importlib
import inspect
import io
import json
import pickle
import pkgutil
import re
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import skae
from skae._skops import ESTIMATORS, trusted_loaders
from skae.exceptions import UntrustedTypesError

sio = pytest.importorskip("skops.io")

FAST = dict(n_components=2, hidden_layer_sizes=(4,), max_iter=2, random_state=0)


def _skae_classes():
    """Every class defined in any module of the skae package."""
    classes = []
    for info in pkgutil.walk_packages(skae.__path__, "skae."):
        if (
            info.name.rsplit(".", 1)[-1] == "__main__"
        ):  # importing it runs the quickstart
            continue
        module = importlib.import_module(info.name)
        classes += [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj) and obj.__module__ == info.name
        ]
    return sorted(classes, key=_name)


def _name(cls):
    return f"{cls.__module__}.{cls.__name__}"


SKAE_CLASSES = _skae_classes()


def test_the_classes_are_enumerated_from_the_package():
    names = set(map(_name, SKAE_CLASSES))
    assert {
        "skae._training.AutoencoderNet",
        "skae.nn.ConvEncoder",
        "skae.exceptions.UntrustedTypesError",
    } <= names
    assert {_name(cls) for cls in ESTIMATORS} <= names and len(names) > 25


class _WritesMarker:
    """Unpickling this creates the file at ``path``, as any code in a pickle could run."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def _without_ids(schema):
    """``schema`` without skops' object ids, so that nodes from two files never alias each other."""
    if isinstance(schema, dict):
        return {
            key: _without_ids(value) for key, value in schema.items() if key != "__id__"
        }
    if isinstance(schema, list):
        return [_without_ids(value) for value in schema]
    return schema


def _skops_parts(obj):
    """``(schema, {file name: bytes})`` of ``obj`` written by skops."""
    with zipfile.ZipFile(io.BytesIO(sio.dumps(obj))) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files.pop("schema.json")), files


def _node(cls, loader, marker):
    """A schema node naming ``cls``, whose state would create ``marker`` if unpickled; and the files it needs.

    The state has the shape skorch's ``NeuralNet.__setstate__`` unpickles; as
    constructor arguments (``ConstructorFromReduceNode``) it is one argument.
    """
    pickled = pickle.dumps(_WritesMarker(marker))
    state = {"device": "cpu", "__cuda_dependent_attributes__": pickled}
    content, files = _skops_parts(state if loader == "ObjectNode" else (pickled,))
    for key in ("protocol", "_skops_version"):
        content.pop(key)
    node = {
        "__class__": cls.__name__,
        "__module__": cls.__module__,
        "__loader__": loader,
    }
    return {**node, "content": _without_ids(content)}, files


def _tampered(genuine, path_to_attribute, node, node_files):
    """The skops file of ``genuine`` with the state entry at ``path_to_attribute`` replaced by ``node``.

    ``genuine=None`` gives a file holding ``node`` alone.
    """
    schema, files = _skops_parts(genuine if genuine is not None else [])
    if genuine is None:
        schema = {
            **node,
            "protocol": schema["protocol"],
            "_skops_version": schema["_skops_version"],
        }
    else:
        entry = schema
        for key in path_to_attribute[:-1]:
            entry = entry[key]
        assert path_to_attribute[-1] in entry, "the genuine file has no such attribute"
        entry[path_to_attribute[-1]] = node
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in {**files, **node_files}.items():
            archive.writestr(name, data)
        archive.writestr("schema.json", json.dumps(schema))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def genuine():
    X = np.random.RandomState(0).rand(30, 4)
    return {
        # an attribute of a fitted autoencoder
        "attribute": (
            skae.AutoencoderTransformer(**FAST).fit(X),
            ("content", "content", "n_components"),
        ),
        # an attribute of the autoencoder fitted inside a detector
        "nested": (
            skae.AutoencoderOutlierDetector(skae.VAE(**FAST), n_trim_rounds=0).fit(X),
            (
                "content",
                "content",
                "estimators_",
                "content",
                0,
                "content",
                "content",
                "n_iter_",
            ),
        ),
        "alone": (None, None),
    }


PLACES = ["alone", "attribute", "nested"]
LOADERS = ["ObjectNode", "ConstructorFromReduceNode"]


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("cls", SKAE_CLASSES, ids=_name)
def test_a_file_naming_any_skae_class_runs_no_code_and_is_refused(
    cls, place, loader, genuine, tmp_path
):
    marker = tmp_path / "marker"
    data = _tampered(*genuine[place], *_node(cls, loader, marker))
    (tmp_path / "model.skops").write_bytes(data)
    try:
        skae.load(tmp_path / "model.skops")
    except Exception as exc:  # noqa: BLE001 -- checked below, after the marker
        refused = exc
    else:
        refused = None
    assert not marker.exists(), "loading the file ran code from it"
    assert isinstance(refused, UntrustedTypesError), (
        f"not refused before loading: {refused!r}"
    )
    # The message names what is not trusted: the class itself, or (a class trusted as an object) the pickled bytes.
    trusted_as_object = "ObjectNode" in trusted_loaders().get(_name(cls), ())
    expected = (
        "builtins.bytes" if trusted_as_object and loader == "ObjectNode" else _name(cls)
    )
    assert any(name.startswith(expected) for name in refused.untrusted_types), (
        refused.untrusted_types
    )
    assert "does not trust" in str(refused) and expected in str(refused)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("cls", SKAE_CLASSES, ids=_name)
def test_skops_trusting_everything_the_file_names_still_runs_no_skae_code(
    cls, place, genuine, tmp_path
):
    # Defence in depth, for a caller who trusts whatever get_untrusted_types lists (what the prefix rule allowed):
    # no class of skae unpickles state from a file; skorch's net, which would, refuses to be restored.
    marker = tmp_path / "marker"
    data = _tampered(*genuine[place], *_node(cls, "ObjectNode", marker))
    try:
        sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    except Exception:  # noqa: BLE001 -- refusing is fine, running code is not
        pass
    assert not marker.exists()


def test_the_training_engine_refuses_to_be_restored():
    from skae._training import AutoencoderNet

    with pytest.raises(
        TypeError, match=r"skae never saves its AutoencoderNet .* not written by skae"
    ):
        AutoencoderNet.__new__(AutoencoderNet).__setstate__(
            {"device": "cpu", "__cuda_dependent_attributes__": b""}
        )


@pytest.mark.parametrize("cls", ESTIMATORS, ids=_name)
def test_a_forged_estimator_state_without_a_version_is_refused(cls, genuine, tmp_path):
    # An estimator class is trusted; a state skae did not write (no version) is still refused.
    schema, files = _skops_parts({"n_components": 2})
    for key in ("protocol", "_skops_version"):
        schema.pop(key)
    node = {
        "__class__": cls.__name__,
        "__module__": cls.__module__,
        "__loader__": "ObjectNode",
        "content": schema,
    }
    data = _tampered(*genuine["attribute"], _without_ids(node), files)
    with pytest.raises(
        ValueError, match=rf"This {cls.__name__} was saved by an unknown skae version"
    ):
        skae.load(io.BytesIO(data))


def test_a_trusted_builder_is_refused_as_an_instance(tmp_path):
    # ConvEncoder is trusted as a builder a partial refers to, never as a module restored from state.
    data = _tampered(
        None, None, *_node(skae.nn.ConvEncoder, "ObjectNode", tmp_path / "marker")
    )
    with pytest.raises(
        UntrustedTypesError, match=r"skae\.nn\.ConvEncoder \(as ObjectNode\)"
    ):
        skae.load(io.BytesIO(data))


def test_numpy_scalars_and_random_states_as_parameters_load(tmp_path):
    # What a grid search over np.logspace hands over, and a RandomState instance.
    params = dict(
        alpha=np.float64(1e-4),
        batch_size=np.int64(16),
        random_state=np.random.RandomState(0),
    )
    X = np.random.RandomState(0).rand(30, 4)
    model = skae.AutoencoderTransformer(**{**FAST, **params}).fit(X)
    untrusted = sio.get_untrusted_types(data=sio.dumps(model))
    assert {"numpy.float64", "numpy.int64"} & set(_schema_types(sio.dumps(model))), (
        "no numpy scalar was written"
    )
    loaded = skae.load(io.BytesIO(sio.dumps(model)))
    assert type(loaded.alpha) is np.float64 and untrusted == [
        "skae._vanilla.AutoencoderTransformer"
    ]
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))


def _schema_types(data):
    """Every type named in the schema of the skops file ``data``."""
    names, stack = set(), [_schema_of(data)]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            names |= (
                {f"{value['__module__']}.{value['__class__']}"}
                if "__class__" in value
                else set()
            )
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return names


def _schema_of(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return json.loads(archive.read("schema.json"))


def test_extra_trusted_types_are_the_callers_choice(tmp_path):
    model = skae.AutoencoderTransformer(
        **{**FAST, "random_state": np.random.RandomState(0)}
    )
    data = sio.dumps({"model": model, "when": np.datetime64("2026-01-01")})
    with pytest.raises(
        UntrustedTypesError, match=r"does not trust: numpy\.datetime64\. "
    ):
        skae.load(io.BytesIO(data))
    with pytest.raises(TypeError, match=r"trusted takes type names as strings"):
        skae.load(io.BytesIO(data), trusted=[np.datetime64])
    loaded = skae.load(io.BytesIO(data), trusted="numpy.datetime64")
    assert loaded["when"] == np.datetime64("2026-01-01") and isinstance(
        loaded["model"], skae.AutoencoderTransformer
    )


def test_a_file_that_is_not_a_skops_file_is_refused_clearly(tmp_path):
    model = skae.AutoencoderTransformer(**FAST)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    with pytest.raises(
        ValueError,
        match=r"not a skops file .* pickle\.load, and only from a source you trust",
    ):
        skae.load(tmp_path / "model.pkl")


PAGE = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "persistence.rst"


@pytest.mark.skipif(not PAGE.is_file(), reason="docs/ not in this checkout")
def test_the_persistence_pages_example_runs(tmp_path, monkeypatch):
    block = (
        PAGE.read_text()
        .split(".. code-block:: python\n\n", 1)[1]
        .split("\n\n:func:", 1)[0]
    )
    monkeypatch.chdir(tmp_path)
    exec(textwrap.dedent(block), {})


@pytest.mark.skipif(not PAGE.is_file(), reason="docs/ not in this checkout")
def test_the_persistence_page_lists_exactly_the_trusted_types():
    listed = set(
        re.findall(r"^   \* - ``([\w.]+)``$", PAGE.read_text(), flags=re.MULTILINE)
    )
    assert listed == set(trusted_loaders()), (
        "update the list of trusted types in docs/user_guide/persistence.rst"
    )
