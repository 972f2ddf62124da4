"""The column schema: kinds inferred or given, encoding, decoding and refusals."""

import numpy as np
import pandas as pd
import pytest

from skae._columns import ColumnSchema


def every_dtype():
    return pd.DataFrame(
        {
            "float": [1.5, np.nan, -2.0, 3.0, 0.5],
            "int": [1, 2, 0, 5, 2],
            "signed": [-1, 2, 0, 5, 2],
            "Int64": pd.Series([1, pd.NA, 3, 4, 0], dtype="Int64"),
            "bool": [True, False, True, True, False],
            "boolean": pd.Series([True, pd.NA, False, True, False], dtype="boolean"),
            "object": pd.Series(["x", None, "y", "x", "y"], dtype=object),
            "object_bool": pd.Series([True, None, False, True, True], dtype=object),
            "string": pd.Series(["u", pd.NA, "v", "w", "u"], dtype="string"),
            "str": ["p", "q", None, "p", "q"],
            "category": pd.Categorical(["a", "b", None, "a", "a"]),
            "ordered": pd.Categorical(
                ["lo", "hi", "mid", None, "lo"],
                categories=["lo", "mid", "hi"],
                ordered=True,
            ),
        }
    )


KINDS = [
    "real",
    "count",
    "real",
    "count",
    "binary",
    "binary",
    "categorical",
    "binary",
    "categorical",
    "categorical",
    "categorical",
    "ordinal",
]


def test_kinds_are_inferred_from_every_dtype():
    schema = ColumnSchema().fit(every_dtype())
    assert [column.kind for column in schema.columns_] == KINDS
    assert schema.columns_[-1].levels == ("lo", "mid", "hi")
    assert schema.columns_[6].levels == ("x", "y")


def test_missing_cells_from_nan_none_and_na_are_not_observed():
    frame = every_dtype()
    observed = ColumnSchema().fit(frame).encode(frame).observed
    np.testing.assert_array_equal(observed, frame.notna().to_numpy())


def test_missing_inputs_are_zero_and_inputs_are_centred():
    frame = every_dtype()
    schema = ColumnSchema().fit(frame)
    inputs = schema.encode(frame).inputs
    assert (
        inputs.shape == (5, schema.n_inputs_) and schema.n_inputs_ == 9 + 2 + 3 + 2 + 2
    )
    assert inputs[1, 0] == 0.0  # the missing float
    np.testing.assert_allclose(inputs.mean(axis=0)[[0, 1, 2]], 0.0, atol=1e-12)


def test_round_trip_keeps_labels_dtypes_and_column_order():
    frame = every_dtype()
    schema = ColumnSchema().fit(frame)
    decoded = schema.decode(schema.encode(frame).targets)
    assert list(decoded.columns) == list(frame.columns)
    pd.testing.assert_series_equal(decoded.dtypes, frame.dtypes)
    observed = frame.notna()
    for name in frame.columns:
        original, back = frame[name][observed[name]], decoded[name][observed[name]]
        if name == "float":
            np.testing.assert_allclose(back.to_numpy(float), original.to_numpy(float))
        else:
            assert back.tolist() == original.tolist(), name


def test_impute_keeps_observed_cells_and_dtypes():
    frame = every_dtype()
    schema = ColumnSchema().fit(frame)
    filled = schema.impute(frame, np.zeros((5, frame.shape[1])))
    pd.testing.assert_series_equal(filled.dtypes, frame.dtypes)
    assert not filled.isna().any().any()
    observed = frame.notna()
    for name in frame.columns:
        assert (
            filled[name][observed[name]].tolist()
            == frame[name][observed[name]].tolist()
        ), name
    assert filled["object"][1] == "x" and filled["ordered"][3] == "lo"


def test_explicit_kinds_by_position_and_by_name_on_numpy():
    X = np.array([[0.0, 1.0, 2.0, 0.5], [1.0, 3.0, 0.0, np.nan], [1.0, 0.0, 1.0, 4.0]])
    schema = ColumnSchema(
        kinds={0: "binary", 1: "count", -2: "ordinal", 3: "positive"}
    ).fit(X)
    assert [c.kind for c in schema.columns_] == [
        "binary",
        "count",
        "ordinal",
        "positive",
    ]
    assert schema.columns_[2].levels == (0.0, 1.0, 2.0)
    decoded = schema.decode(schema.encode(X).targets)
    assert decoded.dtype == X.dtype
    np.testing.assert_allclose(decoded[:, :3], X[:, :3])
    frame = pd.DataFrame(X, columns=list("abcd"))
    by_name = ColumnSchema(
        kinds={"a": "binary", "b": "count", "c": "ordinal", "d": "positive"}
    ).fit(frame)
    assert [c.kind for c in by_name.columns_] == [
        "binary",
        "count",
        "ordinal",
        "positive",
    ]
    assert [
        c.kind
        for c in ColumnSchema(kinds=["real", "real", "categorical", "real"])
        .fit(X)
        .columns_
    ][2] == "categorical"


def test_numpy_object_table_with_strings():
    X = np.array([["Lyon", 2, 1.5], [None, 3, np.nan], ["Oslo", 0, 2.0]], dtype=object)
    schema = ColumnSchema().fit(X)
    assert [c.kind for c in schema.columns_] == ["categorical", "count", "real"]
    filled = schema.impute(X, np.zeros((3, 3)))
    assert (
        filled.dtype == object
        and filled[1, 0] == "Lyon"
        and filled[0, 0] == "Lyon"
        and filled[2, 0] == "Oslo"
    )


def test_an_unseen_level_is_an_error_naming_the_column_or_missing_when_ignored():
    train = pd.DataFrame({"city": ["Lyon", "Oslo"], "n": [1, 2]})
    test = pd.DataFrame({"city": ["Lyon", "Paris"], "n": [1, 2]})
    with pytest.raises(
        ValueError,
        match=r"Column 'city' has the level 'Paris', not seen in fit.*set such cells to missing",
    ):
        ColumnSchema().fit(train).encode(test)
    observed = ColumnSchema(handle_unknown="ignore").fit(train).encode(test).observed
    assert observed.tolist() == [[True, True], [False, True]]


@pytest.mark.parametrize(
    "column, kind, message",
    [
        ([1.0, -2.0], "count", "negative value"),
        ([1.0, 2.5], "count", "non-integer value 2.5"),
        ([1.0, -0.1], "positive", "negative value"),
        ([1.0, np.inf], "real", "infinite value"),
        (["a", "b"], "real", "not numbers"),
        (["a", "b", "c"], "binary", "at most 2"),
    ],
)
def test_impossible_values_are_errors_naming_the_column(column, kind, message):
    with pytest.raises(ValueError, match=f"Column 'weight'.*{message}"):
        ColumnSchema(kinds={"weight": kind}).fit(pd.DataFrame({"weight": column}))


def test_impossible_value_at_encode_names_the_column():
    schema = ColumnSchema().fit(pd.DataFrame({"visits": [1, 2, 3]}))
    with pytest.raises(
        ValueError, match="Column 'visits' is count but has the negative value"
    ):
        schema.encode(pd.DataFrame({"visits": [1, -2, 3]}))


def test_bad_kinds_and_tables_are_refused_clearly():
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(ValueError, match="unknown kind 'gaussian'"):
        ColumnSchema(kinds={"a": "gaussian"}).fit(frame)
    with pytest.raises(ValueError, match="column 'b', which X does not have"):
        ColumnSchema(kinds={"b": "real"}).fit(frame)
    with pytest.raises(ValueError, match="Column 'a' has no observed value"):
        ColumnSchema().fit(pd.DataFrame({"a": [np.nan, np.nan]}))
    with pytest.raises(TypeError, match="Column 'when' has dtype datetime64"):
        ColumnSchema().fit(
            pd.DataFrame({"when": pd.to_datetime(["2024-01-01", "2024-01-02"])})
        )
    with pytest.raises(ValueError, match="columns.*differ"):
        ColumnSchema().fit(frame).encode(pd.DataFrame({"z": [1.0]}))


def test_input_is_not_modified():
    frame = every_dtype()
    copy = frame.copy()
    schema = ColumnSchema().fit(frame)
    schema.impute(frame, np.zeros((5, frame.shape[1])))
    pd.testing.assert_frame_equal(frame, copy)
