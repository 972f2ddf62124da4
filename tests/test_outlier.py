import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import VAE, AutoencoderOutlierDetector, AutoencoderTransformer


def plane_with_outliers(n=600, seed=0):
    """Inliers near a 2-D plane in 6-D; outliers on the plane, 6 standard deviations out."""
    rng = np.random.RandomState(seed)
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0].T
    inliers = rng.normal(size=(n, 2)) @ basis + 0.05 * rng.normal(size=(n, 6))
    directions = rng.normal(size=(15, 2))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    along = 6 * directions @ basis + 0.05 * rng.normal(size=(15, 6))
    X = np.vstack([inliers, along])
    y = np.r_[np.zeros(n), np.ones(15)]
    return X, y


def small_ae(**params):
    return AutoencoderTransformer(
        2, hidden_layer_sizes=(16,), activation="tanh", max_iter=60, **params
    )


def test_isolation_forest_contract(digits):
    X = digits[0][:400]
    detector = AutoencoderOutlierDetector(
        small_ae(), contamination=0.1, random_state=0
    ).fit(X)
    scores = detector.score_samples(X)
    np.testing.assert_allclose(detector.decision_function(X), scores - detector.offset_)
    labels = detector.predict(X)
    assert set(np.unique(labels)) == {-1, 1}
    assert np.mean(labels == -1) == pytest.approx(0.1, abs=0.01)
    np.testing.assert_array_equal(labels, np.where(scores < detector.offset_, -1, 1))
    np.testing.assert_array_equal(
        AutoencoderOutlierDetector(
            small_ae(), contamination=0.1, random_state=0
        ).fit_predict(X),
        labels,
    )


def test_auto_contamination_is_three_robust_deviations_below_the_median():
    X, _ = plane_with_outliers()
    detector = AutoencoderOutlierDetector(small_ae(), random_state=0).fit(X)
    scores = detector.score_samples(X)
    median = np.median(scores)
    expected = median - 3 * 1.4826 * np.median(np.abs(scores - median))
    assert detector.offset_ == pytest.approx(expected)


def test_likelihood_score_sees_outliers_hidden_along_the_manifold():
    X, y = plane_with_outliers()
    # A linear autoencoder reconstructs points on its plane perfectly, however far out.
    linear = AutoencoderTransformer(
        2,
        hidden_layer_sizes=(),
        activation="identity",
        learning_rate_init=1e-2,
        max_iter=200,
    )
    likelihood = AutoencoderOutlierDetector(
        linear, scoring="likelihood", random_state=0
    ).fit(X)
    reconstruction = AutoencoderOutlierDetector(
        linear, scoring="reconstruction", random_state=0
    ).fit(X)
    auc_likelihood = roc_auc_score(y, -likelihood.score_samples(X))
    auc_reconstruction = roc_auc_score(y, -reconstruction.score_samples(X))
    assert auc_likelihood > 0.95 and auc_likelihood > auc_reconstruction + 0.1, (
        auc_likelihood,
        auc_reconstruction,
    )
    assert likelihood.scoring_ == "likelihood"


def test_vae_detector_scores_with_the_elbo(digits):
    X = digits[0][:300]
    vae = VAE(4, hidden_layer_sizes=(16,), max_iter=5)
    detector = AutoencoderOutlierDetector(
        vae, n_estimators=1, max_features=1.0, random_state=0
    ).fit(X)
    assert detector.scoring_ == "elbo"
    np.testing.assert_allclose(
        detector.score_samples(X), detector.estimators_[0].score_samples(X)
    )
    with pytest.raises(ValueError, match="needs a VAE"):
        AutoencoderOutlierDetector(small_ae(), scoring="elbo").fit(X)


def test_ensemble_averages_differently_seeded_models(digits):
    X = digits[0][:300]
    detector = AutoencoderOutlierDetector(
        small_ae(), n_estimators=3, max_features=1.0, random_state=0
    ).fit(X)
    seeds = {estimator.random_state for estimator in detector.estimators_}
    assert len(detector.estimators_) == 3 and len(seeds) == 3
    # Every model sees every feature: their scores are averaged as they are.
    assert detector.score_scaling_ == [None, None, None]
    residual_variance, code_mean, precision = detector.scoring_statistics_[0]
    assert (
        residual_variance.shape == (64,)
        and code_mean.shape == (2,)
        and precision.shape == (2, 2)
    )
    single = [
        detector._score(e, s, X)
        for e, s in zip(detector.estimators_, detector.scoring_statistics_)
    ]
    np.testing.assert_allclose(detector.score_samples(X), np.mean(single, axis=0))


def test_default_detector_in_a_pipeline_after_a_scaler():
    X, y = plane_with_outliers()
    pipe = make_pipeline(
        StandardScaler(), AutoencoderOutlierDetector(random_state=0)
    ).fit(X * 100 + 5)
    assert roc_auc_score(y, -pipe.score_samples(X * 100 + 5)) > 0.9
    assert set(np.unique(pipe.predict(X * 100 + 5))) <= {-1, 1}


def test_non_skae_autoencoder_is_refused():
    from sklearn.decomposition import PCA

    with pytest.raises(TypeError, match="skae autoencoder"):
        AutoencoderOutlierDetector(PCA(2)).fit(np.random.rand(20, 4))


def clustered_outliers(seed=0):
    """Inliers near a 2-D plane in 6-D; 10% of rows in one tight cluster off the plane."""
    rng = np.random.RandomState(seed)
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0].T
    inliers = rng.normal(size=(540, 2)) @ basis + 0.05 * rng.normal(size=(540, 6))
    normal_to_plane = np.linalg.qr(np.c_[basis.T, rng.normal(size=(6, 1))])[0][:, 2]
    cluster = 3 * normal_to_plane + 0.05 * rng.normal(size=(60, 6))
    return np.vstack([inliers, cluster]), np.r_[np.zeros(540), np.ones(60)]


class RowCountingAE(AutoencoderTransformer):
    fitted_rows = []

    def fit(self, X, y=None):
        RowCountingAE.fitted_rows.append(len(X))
        return super().fit(X, y)


def test_trimmed_refits_train_on_the_most_normal_rows():
    X, _ = clustered_outliers()
    RowCountingAE.fitted_rows = []
    AutoencoderOutlierDetector(
        RowCountingAE(2, max_iter=2), n_estimators=1, trim_fraction=0.3, random_state=0
    ).fit(X)
    assert RowCountingAE.fitted_rows == [600, 420, 420]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_trimming_stops_the_model_from_learning_a_cluster_of_outliers():
    X, y = clustered_outliers()
    # 300 epochs of 3 batches (batch_size=200): the untrimmed model learns the cluster
    # too for any seed (AUC 0.75-0.87 over seeds 0-5; at 100 epochs it was seed luck),
    # the trimmed one does not (>= 0.996).
    ae = AutoencoderTransformer(
        2, hidden_layer_sizes=(16,), activation="tanh", max_iter=300, batch_size=200
    )
    single = dict(n_estimators=1, max_features=1.0, random_state=0)
    untrimmed = AutoencoderOutlierDetector(ae, n_trim_rounds=0, **single).fit(X)
    trimmed = AutoencoderOutlierDetector(ae, n_trim_rounds=2, **single).fit(X)
    auc_untrimmed = roc_auc_score(y, -untrimmed.score_samples(X))
    auc_trimmed = roc_auc_score(y, -trimmed.score_samples(X))
    assert auc_trimmed > 0.99 and auc_trimmed > auc_untrimmed + 0.05, (
        auc_trimmed,
        auc_untrimmed,
    )


def test_feature_bagging_trains_each_model_on_its_own_feature_subset(digits):
    X = digits[0][:300]
    detector = AutoencoderOutlierDetector(
        small_ae(), n_estimators=3, max_features=0.5, random_state=0
    ).fit(X)
    subsets = detector.estimators_features_
    assert [len(features) for features in subsets] == [32, 32, 32]
    assert len({tuple(features) for features in subsets}) == 3
    assert all(estimator.n_features_in_ == 32 for estimator in detector.estimators_)
    # Each model's scores are robust z-scores against its training scores before averaging.
    assert all(
        len(scaling) == 2 and scaling[1] > 0 for scaling in detector.score_scaling_
    )
    members = [detector._member_score(i, X) for i in range(3)]
    for member in members:
        assert np.median(member) == pytest.approx(0.0, abs=1e-9)
        assert 1.4826 * np.median(np.abs(member)) == pytest.approx(1.0)
    np.testing.assert_allclose(detector.score_samples(X), np.mean(members, axis=0))
    assert (
        len(
            AutoencoderOutlierDetector(small_ae(), max_features=5)
            .fit(X)
            .estimators_features_[0]
        )
        == 5
    )
    with pytest.raises(
        ValueError, match="max_features=100 must be at most n_features=64"
    ):
        AutoencoderOutlierDetector(small_ae(), max_features=100).fit(X)


def test_feature_bagged_detector_still_finds_the_outliers():
    X, y = plane_with_outliers()
    detector = AutoencoderOutlierDetector(
        n_estimators=4, max_features=0.5, random_state=0
    ).fit(X)
    assert roc_auc_score(y, -detector.score_samples(X)) > 0.9


def test_verbose_reports_each_fit_and_passes_the_rest_to_the_autoencoder(capsys):
    X = np.random.RandomState(0).normal(size=(60, 4))
    AutoencoderOutlierDetector(
        n_trim_rounds=2, trim_fraction=0.25, random_state=0, verbose=1
    ).fit(X)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "[AutoencoderOutlierDetector] model 1/1: fit 1/3 on all 60 rows",
        "[AutoencoderOutlierDetector] model 1/1: fit 2/3 on the 45 most normal rows (15 set aside)",
        "[AutoencoderOutlierDetector] model 1/1: fit 3/3 on the 45 most normal rows (15 set aside)",
        lines[-1],
    ]
    assert lines[-1].startswith("[AutoencoderOutlierDetector] offset_ = ")
    assert lines[-1].endswith(" of 60 training rows below it")

    AutoencoderOutlierDetector(n_trim_rounds=0, random_state=0).fit(X)
    assert capsys.readouterr().out == ""
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(2, max_iter=3), n_trim_rounds=0, verbose=2
    ).fit(X)
    assert detector.estimators_[0].verbose == 1
    assert (
        len(capsys.readouterr().out.splitlines()) > 2
    )  # the autoencoder's own progress too
