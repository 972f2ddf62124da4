"""Mixed tables end to end (issue 21): the autoencoders and the imputer on a DataFrame as it comes."""

import io
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderImputer, AutoencoderTransformer, DenoisingAE, SparseAE


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def table(n=120, seed=0):
    """Strings (object, with None), booleans (with None), nullable counts (with pd.NA), floats (with NaN), ints."""
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame(
        {
            "city": pd.Series(rng.choice(["Lyon", "Oslo", "Rome"], n), dtype=object),
            "owner": pd.Series(rng.rand(n) > 0.5, dtype=object),
            "rooms": pd.array(rng.poisson(3, n), dtype="Int64"),
            "area": rng.normal(60, 10, n),
            "floor": rng.randint(0, 5, n),
            "grade": pd.Categorical(
                rng.choice(["low", "mid", "high"], n),
                ["low", "mid", "high"],
                ordered=True,
            ),
        }
    )
    frame.loc[::7, "city"] = None
    frame.loc[::9, "owner"] = None
    frame.loc[::5, "rooms"] = pd.NA
    frame.loc[::6, "area"] = np.nan
    frame.loc[::8, "grade"] = np.nan
    return frame


def small(cls=AutoencoderTransformer, **params):
    return cls(3, hidden_layer_sizes=(16,), max_iter=15, random_state=0, **params)


def test_imputer_returns_each_column_in_its_own_kind():
    X = table()
    before = X.copy()
    filled = AutoencoderImputer(small(), n_rounds=2, random_state=0).fit_transform(X)
    pd.testing.assert_frame_equal(X, before)  # input untouched
    assert list(filled.columns) == list(X.columns)
    assert filled.dtypes.to_dict() == X.dtypes.to_dict()
    assert not filled.isna().any().any()
    missing = X.isna().to_numpy()
    assert set(filled["city"]) <= {"Lyon", "Oslo", "Rome"}
    assert set(filled["owner"]) <= {True, False}
    assert (filled["rooms"] >= 0).all()
    assert set(filled["grade"]) <= {"low", "mid", "high"}
    for j, name in enumerate(X.columns):
        observed = ~missing[:, j]
        # Observed cells come back bit for bit (floats compared as their bytes).
        kept, original = filled[name][observed].to_numpy(), X[name][observed].to_numpy()
        if original.dtype.kind == "f":
            assert kept.tobytes() == original.tobytes()
        else:
            assert list(kept) == list(original)


def test_imputer_set_output_pandas_and_transform_match_fit_transform():
    X = table()
    imputer = AutoencoderImputer(small(), n_rounds=2, random_state=0).set_output(
        transform="pandas"
    )
    filled = imputer.fit_transform(X)
    assert isinstance(filled, pd.DataFrame)
    assert list(imputer.get_feature_names_out()) == list(X.columns)
    pd.testing.assert_frame_equal(imputer.transform(X), filled)


def test_imputer_add_indicator_appends_the_mask():
    X = table()
    filled = AutoencoderImputer(
        small(), n_rounds=1, add_indicator=True, random_state=0
    ).fit_transform(X)
    assert filled.shape[1] == X.shape[1] + X.isna().any().sum()
    assert (
        filled["missingindicator_city"].to_numpy().tolist() == X["city"].isna().tolist()
    )


def test_imputer_refuses_another_placeholder_on_a_table():
    with pytest.raises(ValueError, match="missing_values=-1"):
        AutoencoderImputer(small(), missing_values=-1).fit(table())


def test_transformer_round_trips_labels_dtypes_and_order():
    X = table().dropna().reset_index(drop=True)
    model = small().fit(X)
    assert [c.kind for c in model.schema_.columns_] == [
        "categorical",
        "binary",
        "count",
        "real",
        "count",
        "ordinal",
    ]
    codes = model.transform(X)
    assert codes.shape == (len(X), 3) and codes.dtype == np.float64
    for decoded in (model.inverse_transform(codes), model.reconstruct(X)):
        assert list(decoded.columns) == list(X.columns)
        assert set(decoded["city"]) <= {"Lyon", "Oslo", "Rome"}
        assert (
            decoded["rooms"].dtype == X["rooms"].dtype
            and decoded["floor"].dtype == X["floor"].dtype
        )
        assert decoded["grade"].dtype == X["grade"].dtype


@pytest.mark.parametrize("cls", [AutoencoderTransformer, DenoisingAE, SparseAE])
def test_per_column_scores_sum_to_score_samples(cls):
    X = table()
    model = small(cls).fit(X)
    per_column = model.score_samples_per_column(X)
    assert list(per_column.columns) == list(X.columns)
    np.testing.assert_allclose(
        per_column.sum(axis=1).to_numpy(),
        model.score_samples(X),
        rtol=1e-10,
        atol=1e-10,
    )
    # A missing cell adds nothing to its row's score.
    assert (per_column.to_numpy()[X.isna().to_numpy()] == 0).all()
    assert np.isfinite(model.score_samples(X)).all()


def test_per_column_scores_on_numbers_sum_to_score_samples():
    X = np.random.RandomState(0).normal(size=(60, 4))
    model = small().fit(X)
    per_column = model.score_samples_per_column(X)
    assert list(per_column.columns) == [f"x{j}" for j in range(4)]
    np.testing.assert_allclose(
        per_column.sum(axis=1).to_numpy(), model.score_samples(X), rtol=1e-12
    )


def test_per_column_scores_name_the_column_that_makes_a_row_unusual():
    X = table(n=300).dropna().reset_index(drop=True)
    model = AutoencoderTransformer(
        3, hidden_layer_sizes=(32,), max_iter=150, random_state=0
    ).fit(X)
    odd = X.iloc[:1].copy()
    odd["area"] = 400.0
    assert model.score_samples_per_column(odd).iloc[0].idxmin() == "area"


def test_numeric_input_keeps_the_numeric_path():
    X = np.random.RandomState(0).normal(size=(50, 3))
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = small().fit(frame)
    assert not hasattr(model, "schema_")
    assert isinstance(model.reconstruct(frame), np.ndarray)
    np.testing.assert_array_equal(small().fit(X).transform(X), model.transform(frame))


def test_unseen_category_is_refused_naming_the_column():
    model = small().fit(table())
    other = table()
    other.loc[3, "city"] = "Paris"
    with pytest.raises(
        ValueError, match="Column 'city' has the level 'Paris', not seen in fit"
    ):
        model.transform(other)
    with pytest.raises(ValueError, match="'city'"):
        model.score_samples(other)


def test_impossible_value_is_refused_naming_the_column():
    X = table()
    X["floor"] = X["floor"] - 2  # negative counts
    with pytest.raises(
        ValueError, match="Column 'floor' is count but has the negative value"
    ):
        small(kinds={"floor": "count"}).fit(X)
    model = small().fit(table())
    with pytest.raises(
        ValueError, match="Column 'floor' is count but has the negative value"
    ):
        model.score_samples(X)


def test_kinds_on_a_numpy_array():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.randint(0, 3, 80), rng.normal(size=80)]).astype(np.float64)
    model = small(kinds=["categorical", "real"]).fit(X)
    reconstructed = model.reconstruct(X)
    assert isinstance(reconstructed, np.ndarray) and reconstructed.dtype == np.float64
    assert set(np.unique(reconstructed[:, 0])) <= {0.0, 1.0, 2.0}


def test_warm_start_keeps_the_schema_and_pickle_round_trips():
    X = table()
    model = small(warm_start=True).fit(X)
    schema = model.schema_
    model.fit(X)
    assert model.schema_ is schema
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))
    pd.testing.assert_frame_equal(loaded.reconstruct(X), model.reconstruct(X))


def test_refit_on_numbers_forgets_the_schema():
    model = small().fit(table())
    model.fit(np.random.RandomState(0).normal(size=(40, 3)))
    assert not hasattr(model, "schema_")


def test_a_variant_with_its_own_likelihood_refuses_a_mixed_table_clearly():
    class SquaredErrorOfItsOwn(AutoencoderTransformer):
        def _elementwise_nll(self, module, output, X, sample_weight=None):
            return (output - X) ** 2

    with pytest.raises(
        ValueError,
        match="SquaredErrorOfItsOwn has a likelihood of its own and does not model mixed tables",
    ):
        SquaredErrorOfItsOwn(2, max_iter=2).fit(table())


def every_dtype(n=80, seed=1):
    """The table above plus pandas' string dtypes, an unordered category of numbers, nullable booleans, float32."""
    rng = np.random.RandomState(seed)
    frame = table(n, seed).assign(
        street=pd.Series(rng.choice(["Elm", "Oak"], n), dtype="str"),
        colour=pd.Series(
            rng.choice(["red", "blue", "green"], n), dtype=pd.StringDtype("python")
        ),
        size=pd.Categorical(rng.choice([10, 20, 30], n)),
        sold=pd.array(rng.rand(n) > 0.5, dtype="boolean"),
        price=rng.normal(size=n).astype(np.float32),
    )
    frame.loc[::4, ["street", "colour", "size", "sold"]] = None
    return frame


def _round_trips(model):
    skops_io = pytest.importorskip("skops.io")
    import skae

    yield pickle.loads(pickle.dumps(model))
    yield skae.load(io.BytesIO(skops_io.dumps(model)))


def test_a_mixed_model_saves_with_skops_and_pickle_and_loads_identical():
    X = every_dtype()
    model = small().fit(X)
    for loaded in _round_trips(model):
        assert [vars(c) for c in loaded.schema_.columns_] == [
            vars(c) for c in model.schema_.columns_
        ]
        np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
        np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))
        pd.testing.assert_frame_equal(
            loaded.score_samples_per_column(X), model.score_samples_per_column(X)
        )
        pd.testing.assert_frame_equal(
            loaded.reconstruct(X), model.reconstruct(X)
        )  # labels and dtypes too
        with pytest.raises(
            ValueError, match="'city'"
        ):  # the unseen-level check still knows the levels
            loaded.transform(X.assign(city="Paris"))


def test_a_mixed_imputer_saves_with_skops_and_pickle_and_loads_identical():
    X = every_dtype()
    imputer = AutoencoderImputer(small(), n_rounds=2, random_state=0).fit(X)
    filled = imputer.transform(X)
    assert filled.dtypes.to_dict() == X.dtypes.to_dict()
    for loaded in _round_trips(imputer):
        pd.testing.assert_frame_equal(loaded.transform(X), filled)


def test_a_model_of_a_numpy_table_with_kinds_saves_with_skops():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.randint(0, 3, 60), rng.poisson(2, 60)]).astype(np.int32)
    model = small(kinds=["categorical", "count"]).fit(X)
    for loaded in _round_trips(model):
        reconstructed = loaded.reconstruct(X)
        assert reconstructed.dtype == np.int32
        np.testing.assert_array_equal(reconstructed, model.reconstruct(X))


def test_onnx_export_refuses_a_mixed_model_instead_of_exporting_wrong_outputs():
    pytest.importorskip("skl2onnx")
    from skae.onnx import to_onnx

    rng = np.random.RandomState(0)
    X = np.column_stack(
        [rng.poisson(2, 60), rng.normal(size=60)]
    )  # numbers, so the graph would trace
    for model in (
        small(kinds=["count", "real"]),
        AutoencoderImputer(small(), kinds=["count", "real"], n_rounds=1),
    ):
        with pytest.raises(NotImplementedError, match="mixed table"):
            to_onnx(model.fit(X), X[:2])


def test_imputer_verbose_line_on_a_table_is_the_one_on_numbers(capsys):
    X = table()
    AutoencoderImputer(small(), n_rounds=2, verbose=1).fit(X)
    lines = capsys.readouterr().out.splitlines()
    n_missing = int(X.isna().to_numpy().sum())
    assert len(lines) == 2
    for round_, line in enumerate(lines, start=1):
        assert re.fullmatch(
            rf"\[AutoencoderImputer\] round {round_}/2: 15 epochs, loss [-+.\de]+, "
            rf"[.\d]+ s \({n_missing} missing cells\)",
            line,
        ), line
