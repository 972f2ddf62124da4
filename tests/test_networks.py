"""User-given encoders / decoders and the convolutional networks.

The variant's difference must still apply on top of a user's network, the
parameter itself is never trained, and mismatched shapes fail at once with a
message naming the module and the shapes.
"""

import pickle
from functools import partial

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from torch import nn

from skae import (
    VAE,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAE,
    DenoisingAE,
    SparseAE,
)
from skae.losses import kl_standard_normal
from skae.nn import ConvDecoder, ConvEncoder


class TwoLayer(nn.Module):
    """A user's network, built from the data's width and n_components."""

    def __init__(self, n_features, n_components, hidden=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden), nn.Tanh(), nn.Linear(hidden, n_components)
        )

    def forward(self, x):
        return self.net(x)


def user_encoder(n_features, n_components):
    return TwoLayer(n_features, n_components)


def user_decoder(n_features, n_components):
    return TwoLayer(n_components, n_features)


FAST = dict(max_iter=5, random_state=0)
USER = dict(encoder=user_encoder, decoder=user_decoder)
VARIANTS = [
    AutoencoderTransformer(4, **USER, **FAST),
    DenoisingAE(4, noise="masking", noise_level=0.3, **USER, **FAST),
    SparseAE(8, k=3, **USER, **FAST),
    SparseAE(8, sparsity_penalty="kl", **USER, **FAST),
    ContractiveAE(4, **USER, **FAST),
    VAE(4, **USER, **FAST),
]


@pytest.fixture(scope="module")
def X(digits):
    return digits[0][:300]


@pytest.mark.parametrize("estimator", VARIANTS, ids=lambda est: type(est).__name__)
def test_user_networks_train_in_every_variant(estimator, X):
    est = clone(estimator)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        initial = user_encoder(64, 4)
    est.fit(X)
    encoder = est.module_.body if isinstance(est, VAE) else est.module_.encoder
    assert isinstance(encoder, TwoLayer) and isinstance(est.module_.decoder, TwoLayer)
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    assert est.transform(X).shape == (len(X), est.n_components)
    assert est.reconstruct(X).shape == X.shape
    assert initial.net[0].weight.shape == encoder.net[0].weight.shape


def test_module_instance_is_copied_never_trained_in_place(X):
    encoder, decoder = TwoLayer(64, 4), TwoLayer(4, 64)
    before = encoder.net[0].weight.detach().clone()
    ae = AutoencoderTransformer(4, encoder=encoder, decoder=decoder, **FAST).fit(X)
    assert torch.equal(encoder.net[0].weight, before)
    assert ae.module_.encoder is not encoder
    assert not torch.equal(ae.module_.encoder.net[0].weight.float(), before)
    # A second fit starts again from the instance's own weights.
    again = clone(ae).fit(X)
    np.testing.assert_allclose(
        again.transform(X), ae.transform(X), rtol=1e-6, atol=1e-6
    )


def test_user_networks_in_the_wrappers(X):
    ae = AutoencoderTransformer(4, **USER, **FAST)
    detector = AutoencoderOutlierDetector(ae, contamination=0.1).fit(X)
    assert set(np.unique(detector.predict(X))) <= {-1, 1}
    assert isinstance(detector.estimators_[0].module_.encoder, TwoLayer)

    holes = X.copy()
    missing = np.random.RandomState(0).rand(*X.shape) < 0.1
    holes[missing] = np.nan
    imputer = AutoencoderImputer(clone(ae)).fit(holes)
    filled = imputer.transform(holes)
    assert np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[~missing], X[~missing])
    assert isinstance(imputer.autoencoder_.module_.encoder, TwoLayer)


def test_top_k_applies_to_a_user_encoder(X):
    sae = SparseAE(8, k=3, **USER, **FAST).fit(X)
    nonzeros = (sae.transform(X) != 0).sum(axis=1)
    assert nonzeros.max() == 2 * 3 and nonzeros.min() >= 1  # transform_k_factor * k


def test_exact_jacobian_penalty_of_a_user_encoder_falls_as_its_weight_rises(X):
    norms = []
    for weight in (0.0, 1.0):
        cae = ContractiveAE(
            4,
            contractive_weight=weight,
            activation="identity",
            **USER,
            max_iter=30,
            random_state=0,
        )
        assert cae._jacobian_method(X.shape[1]) == "exact"
        norms.append(cae.fit(X).jacobian_norm(X).mean())
    assert norms[1] < 0.8 * norms[0], norms


def test_closed_form_jacobian_refuses_a_user_encoder(X):
    cae = ContractiveAE(4, jacobian="closed_form", **USER, **FAST)
    with pytest.raises(ValueError, match="closed_form.*built-in one-layer encoder"):
        cae.fit(X)


def test_vae_heads_sit_on_a_user_encoder_and_its_kl_term_acts(X):
    def encoder(n_features, n_components):
        return TwoLayer(n_features, 12)  # any width: the heads adapt

    kls = []
    for beta in (0.0, 1.0):
        vae = VAE(
            4,
            beta=beta,
            encoder=encoder,
            decoder=user_decoder,
            max_iter=30,
            random_state=0,
        ).fit(X)
        assert vae.module_.mean_head.in_features == 12
        with torch.no_grad():
            mean, log_var = vae.module_.posterior(torch.as_tensor(X))
        kls.append(float(kl_standard_normal(mean, log_var).mean()))
    # Without the KL term the posterior drifts far from the prior; with it, it stays close.
    assert kls[1] < 0.5 * kls[0], kls


@pytest.mark.parametrize(
    "params, match",
    [
        (
            dict(encoder=lambda n_features, n_components: TwoLayer(n_features, 5)),
            r"encoder TwoLayer maps input of shape \(2, 64\) to shape \(2, 5\).*\(2, 3\) \(n_components=3\)",
        ),
        (
            dict(decoder=TwoLayer(3, 10)),
            r"decoder TwoLayer maps input of shape \(2, 3\) to shape \(2, 10\).*\(2, 64\) \(n_features=64\)",
        ),
        (
            dict(encoder=TwoLayer(10, 3)),
            r"encoder TwoLayer failed on input of shape \(2, 64\)",
        ),
        (
            dict(encoder=partial(ConvEncoder, image_shape=(1, 7, 7))),
            r"image_shape \(1, 7, 7\) does not fit the data's 64 features",
        ),
    ],
)
def test_mismatched_networks_give_clear_errors(X, params, match):
    with pytest.raises(ValueError, match=match):
        AutoencoderTransformer(3, **params, **FAST).fit(X)


def test_builder_must_return_a_module(X):
    with pytest.raises(TypeError, match="returned int, not a torch.nn.Module"):
        AutoencoderTransformer(
            3, encoder=lambda n_features, n_components: 3, **FAST
        ).fit(X)


def test_vae_encoder_must_give_2d_output(X):
    with pytest.raises(
        ValueError,
        match=r"encoder Unflatten .* shape \(2, 1, 8, 8\); VAE needs \(2, width\)",
    ):
        VAE(3, encoder=nn.Unflatten(1, (1, 8, 8)), **FAST).fit(X)


def test_clone_and_pickle_estimators_holding_modules(X):
    ae = AutoencoderTransformer(
        4, encoder=TwoLayer(64, 4), decoder=user_decoder, **FAST
    )
    copy = clone(ae)
    assert copy.encoder is not ae.encoder
    assert torch.equal(copy.encoder.net[0].weight, ae.encoder.net[0].weight)
    ae.fit(X)
    loaded = pickle.loads(pickle.dumps(ae))
    np.testing.assert_array_equal(loaded.transform(X), ae.transform(X))
    assert isinstance(loaded.encoder, TwoLayer)


def test_grid_search_over_n_components_with_builders(X):
    # Trained long enough to separate the widths for any seed (at 40 epochs the order depended on the seed).
    ae = AutoencoderTransformer(
        **USER, max_iter=150, learning_rate_init=0.01, random_state=0
    )
    search = GridSearchCV(ae, {"n_components": [1, 8]}, cv=2).fit(X)
    assert (
        search.best_params_["n_components"] == 8
    )  # more code units reconstruct better
    assert search.best_estimator_.module_.encoder.net[-1].out_features == 8
    assert pickle.loads(pickle.dumps(search)).best_estimator_.n_components == 8


def conv(image_shape, channels=(8, 16)):
    return dict(
        encoder=partial(ConvEncoder, image_shape=image_shape, channels=channels),
        decoder=partial(ConvDecoder, image_shape=image_shape, channels=channels),
    )


def test_convolutional_model_learns_images_and_keeps_2d_io(digits):
    X = digits[0]
    ae = AutoencoderTransformer(
        8,
        **conv((1, 8, 8), (16, 32)),
        likelihood="bernoulli",
        learning_rate_init=3e-3,
        batch_size=64,
        max_iter=20,
        random_state=0,
    )
    pipe = make_pipeline(MinMaxScaler(), ae).set_output(transform="pandas")
    codes = pipe.fit_transform(X)
    assert (
        codes.shape == (len(X), 8)
        and list(codes.columns)[0] == "autoencodertransformer0"
    )
    assert isinstance(ae.module_.encoder, ConvEncoder)
    pca = PCA(8).fit(X)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    scaled = pipe[:-1].transform(X)  # a DataFrame with the names ae was fitted with
    mse = np.mean((ae.reconstruct(scaled) - scaled.to_numpy()) ** 2)
    assert mse < 0.85 * pca_mse, (mse, pca_mse)  # ~0.7x on digits / 16 (20 epochs)


@pytest.mark.parametrize(
    "image_shape", [(1, 28, 28), (3, 7, 5), (2, 1, 9), (1, 1, 1), (4, -1, 3)]
)
@pytest.mark.parametrize("channels", [(), (4,), (4, 8, 16)])
def test_conv_decoder_mirrors_encoder_shapes(image_shape, channels):
    n_features = int(np.prod([s for s in image_shape if s != -1])) * (
        5 if -1 in image_shape else 1
    )
    encoder = ConvEncoder(n_features, 3, image_shape, channels)
    decoder = ConvDecoder(n_features, 3, image_shape, channels)
    x = torch.randn(4, n_features)
    assert encoder(x).shape == (4, 3)
    assert decoder(encoder(x)).shape == (4, n_features)
