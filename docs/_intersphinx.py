"""Local intersphinx inventories, so that the docs build offline.

The build machine has no network, and intersphinx warns (failing a ``-W``
build) when none of a project's inventory locations can be read. Real
``objects.inv`` files cannot be downloaded there, and committing copies of
them would mean megabytes of binary files that silently go stale. Instead
this module lists, as text, the objects these docs actually link to, each
with its real address on the project's published site, and :func:`write`
turns the list into small inventories in Sphinx's version-2 format (the
format of every ``objects.inv``). Links therefore go to the same pages
online inventories would give; an object missing from the list renders as
plain code. Add an entry here when a page or docstring references a new
outside object. With ``SKAE_DOCS_ONLINE=1`` the build tries the published
inventories first and falls back to these.
"""

import zlib
from pathlib import Path

# name -> (published root, version, [(object, "domain:role", path relative to root)])
# A path ending in "#$" stands for "#<object>", as in real inventories.
PROJECTS = {
    "sklearn": (
        "https://scikit-learn.org/stable/",
        "1.9",
        [
            *[
                (
                    f"sklearn.{name}",
                    "py:class",
                    f"modules/generated/sklearn.{name}.html#$",
                )
                for name in [
                    "base.BaseEstimator",
                    "base.TransformerMixin",
                    "base.OutlierMixin",
                    "compose.ColumnTransformer",
                    "decomposition.PCA",
                    "ensemble.IsolationForest",
                    "ensemble.ExtraTreesRegressor",
                    "impute.IterativeImputer",
                    "impute.KNNImputer",
                    "impute.SimpleImputer",
                    "impute.MissingIndicator",
                    "linear_model.LogisticRegression",
                    "linear_model.BayesianRidge",
                    "model_selection.GridSearchCV",
                    "neighbors.LocalOutlierFactor",
                    "neural_network.MLPRegressor",
                    "neural_network.MLPClassifier",
                    "neural_network.BernoulliRBM",
                    "pipeline.Pipeline",
                    "preprocessing.StandardScaler",
                    "preprocessing.MinMaxScaler",
                    "preprocessing.MaxAbsScaler",
                    "svm.OneClassSVM",
                ]
            ],
            *[
                (
                    f"sklearn.{name}",
                    "py:function",
                    f"modules/generated/sklearn.{name}.html#$",
                )
                for name in [
                    "base.clone",
                    "datasets.load_digits",
                    "datasets.fetch_olivetti_faces",
                    "model_selection.cross_val_score",
                    "pipeline.make_pipeline",
                    "utils.estimator_checks.parametrize_with_checks",
                    "utils.check_random_state",
                ]
            ],
            (
                "sklearn.base.BaseEstimator.get_params",
                "py:method",
                "modules/generated/sklearn.base.BaseEstimator.html#$",
            ),
            (
                "sklearn.base.BaseEstimator.set_params",
                "py:method",
                "modules/generated/sklearn.base.BaseEstimator.html#$",
            ),
            (
                "sklearn.base.TransformerMixin.set_output",
                "py:method",
                "modules/generated/sklearn.base.TransformerMixin.html#$",
            ),
            # Labels and glossary terms that scikit-learn's own docstrings use in
            # the methods skae's estimators inherit (get_params, set_output, ...).
            ("metadata_routing", "std:label", "metadata_routing.html#metadata-routing"),
            (
                "sphx_glr_auto_examples_miscellaneous_plot_set_output.py",
                "std:label",
                "auto_examples/miscellaneous/plot_set_output.html#sphx-glr-auto-examples-miscellaneous-plot-set-output-py",
            ),
            ("glossary", "std:label", "glossary.html#glossary"),
            (
                "df_output_transform",
                "std:label",
                "modules/df_output_transform.html#df-output-transform",
            ),
            ("pipeline", "std:label", "modules/compose.html#pipeline"),
            ("grid_search", "std:label", "modules/grid_search.html#grid-search"),
            (
                "outlier_detection",
                "std:label",
                "modules/outlier_detection.html#outlier-detection",
            ),
            ("impute", "std:label", "modules/impute.html#impute"),
            ("develop", "std:label", "developers/develop.html#develop"),
            *[
                (term, "std:term", "glossary.html#term-" + term.replace(" ", "-"))
                for term in [
                    "array-like",
                    "array_like",
                    "estimator",
                    "fit",
                    "fit_transform",
                    "transform",
                    "inverse_transform",
                    "score_samples",
                    "decision_function",
                    "predict",
                    "partial_fit",
                    "random_state",
                    "n_jobs",
                    "warm_start",
                    "transformer",
                    "outlier detector",
                    "feature_names_in_",
                    "n_features_in_",
                    "metadata routing",
                    "meta-estimator",
                    "sample_weight",
                    "get_feature_names_out",
                ]
            ],
        ],
    ),
    # The types numpydoc links in "Parameters" sections (bool, int, None, ...).
    "python": (
        "https://docs.python.org/3/",
        "3.11",
        [
            (
                "bltin-boolean-values",
                "std:label",
                "library/stdtypes.html#boolean-type-bool",
            ),
            ("None", "py:data", "library/constants.html#$"),
            ("True", "py:data", "library/constants.html#$"),
            ("False", "py:data", "library/constants.html#$"),
            *[
                (name, "py:class", "library/stdtypes.html#$")
                for name in ["list", "tuple", "str", "dict", "set", "range"]
            ],
            *[
                (name, "py:class", "library/functions.html#$")
                for name in ["int", "float", "bool", "object", "slice"]
            ],
            ("callable", "py:function", "library/functions.html#$"),
            ("iterable", "std:term", "glossary.html#term-iterable"),
            ("sequence", "std:term", "glossary.html#term-sequence"),
            ("generator", "std:term", "glossary.html#term-generator"),
        ],
    ),
    "torch": (
        "https://docs.pytorch.org/docs/stable/",
        "2.13",
        [
            ("torch.nn.Module", "py:class", "generated/torch.nn.Module.html#$"),
            ("torch.nn.Sequential", "py:class", "generated/torch.nn.Sequential.html#$"),
            ("torch.nn.Linear", "py:class", "generated/torch.nn.Linear.html#$"),
            ("torch.nn.Identity", "py:class", "generated/torch.nn.Identity.html#$"),
            ("torch.nn.Conv2d", "py:class", "generated/torch.nn.Conv2d.html#$"),
            (
                "torch.nn.ConvTranspose2d",
                "py:class",
                "generated/torch.nn.ConvTranspose2d.html#$",
            ),
            ("torch.Tensor", "py:class", "tensors.html#$"),
            ("torch.device", "py:class", "tensor_attributes.html#$"),
            ("torch.dtype", "py:class", "tensor_attributes.html#$"),
            ("torch.Generator", "py:class", "generated/torch.Generator.html#$"),
            ("torch.optim.Adam", "py:class", "generated/torch.optim.Adam.html#$"),
            ("torch.func.jacrev", "py:function", "generated/torch.func.jacrev.html#$"),
            ("torch.func.vmap", "py:function", "generated/torch.func.vmap.html#$"),
            ("torch.manual_seed", "py:function", "generated/torch.manual_seed.html#$"),
            (
                "torch.set_num_threads",
                "py:function",
                "generated/torch.set_num_threads.html#$",
            ),
            (
                "torch.use_deterministic_algorithms",
                "py:function",
                "generated/torch.use_deterministic_algorithms.html#$",
            ),
            ("randomness", "std:label", "notes/randomness.html#reproducibility"),
            # Labels in the docstrings of the torch.nn.Module methods skae.nn inherits.
            ("nn-init-doc", "std:label", "nn.init.html#nn-init-doc"),
            (
                "locally-disable-grad-doc",
                "std:label",
                "notes/autograd.html#locally-disable-grad-doc",
            ),
        ],
    ),
    "skorch": (
        "https://skorch.readthedocs.io/en/stable/",
        "1.3",
        [
            ("skorch.net.NeuralNet", "py:class", "net.html#$"),
            ("skorch.NeuralNet", "py:class", "net.html#skorch.net.NeuralNet"),
            ("skorch.callbacks.Callback", "py:class", "callbacks.html#$"),
            ("skorch.callbacks.EarlyStopping", "py:class", "callbacks.html#$"),
            ("skorch.callbacks.LRScheduler", "py:class", "callbacks.html#$"),
            ("skorch.callbacks.GradientNormClipping", "py:class", "callbacks.html#$"),
            ("skorch.callbacks.Checkpoint", "py:class", "callbacks.html#$"),
            ("skorch.callbacks.EpochScoring", "py:class", "callbacks.html#$"),
            ("skorch.callbacks.ProgressBar", "py:class", "callbacks.html#$"),
            ("skorch.history.History", "py:class", "history.html#$"),
        ],
    ),
    "numpy": (
        "https://numpy.org/doc/stable/",
        "2.3",
        [
            ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#$"),
            ("numpy.memmap", "py:class", "reference/generated/numpy.memmap.html#$"),
            ("numpy.random.RandomState", "py:class", "reference/random/legacy.html#$"),
            ("numpy.random.Generator", "py:class", "reference/random/generator.html#$"),
            ("numpy.float32", "py:attribute", "reference/arrays.scalars.html#$"),
            ("numpy.float64", "py:attribute", "reference/arrays.scalars.html#$"),
            ("numpy.nan", "py:data", "reference/constants.html#$"),
            ("numpy.load", "py:function", "reference/generated/numpy.load.html#$"),
        ],
    ),
    "pandas": (
        "https://pandas.pydata.org/docs/",
        "3.0",
        [
            ("pandas.DataFrame", "py:class", "reference/api/pandas.DataFrame.html#$"),
            ("pandas.Series", "py:class", "reference/api/pandas.Series.html#$"),
            ("pandas.read_csv", "py:function", "reference/api/pandas.read_csv.html#$"),
        ],
    ),
}


def write(folder):
    """Write ``<folder>/<name>.inv`` for every project; return {name: path}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, (_, version, objects) in PROJECTS.items():
        header = (
            "# Sphinx inventory version 2\n"
            f"# Project: {name}\n"
            f"# Version: {version}\n"
            "# The remainder of this file is compressed using zlib.\n"
        )
        lines = "".join(f"{obj} {role} 1 {path} -\n" for obj, role, path in objects)
        path = folder / f"{name}.inv"
        path.write_bytes(header.encode() + zlib.compress(lines.encode()))
        paths[name] = str(path)
    return paths
