import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from skae import SparseAE
from skae._sparse import UNITS_PER_K
from skae.nn import TopK


def test_training_codes_have_exactly_k_nonzeros(digits):
    X = digits[0][:500]
    sae = SparseAE(100, k=7, max_iter=5, random_state=0).fit(
        X
    )  # overcomplete: 100 > 64 features
    module = sae.module_.train()
    with torch.no_grad():
        codes = module.encode(torch.tensor(X)).numpy()
    module.eval()
    np.testing.assert_array_equal((codes != 0).sum(axis=1), 7)
    # transform keeps transform_k_factor * k units (default 2)
    assert ((sae.transform(X) != 0).sum(axis=1) == 14).all()


@pytest.mark.parametrize("by", ["magnitude", "value"])
def test_gradients_flow_only_through_kept_units(by):
    pre = torch.randn(16, 10, requires_grad=True)
    code = TopK(3, by=by)(pre)
    (code * torch.randn_like(code)).sum().backward()
    dropped = code.detach() == 0
    assert dropped.sum() == 16 * 7
    assert torch.all(pre.grad[dropped] == 0)
    assert torch.all(pre.grad[~dropped] != 0)
    ranked = pre.detach().abs() if by == "magnitude" else pre.detach()
    threshold = ranked.topk(3, dim=1).values[:, -1:]
    assert torch.equal(~dropped, ranked >= threshold)


def test_larger_transform_factor_keeps_more_units(digits):
    X = digits[0][:300]
    counts = []
    for factor in (1.0, 3.0):
        sae = SparseAE(
            60, k=5, transform_k_factor=factor, max_iter=3, random_state=0
        ).fit(X)
        counts.append((sae.transform(X) != 0).sum(axis=1).mean())
    assert counts == [5, 15]


def test_k_is_annealed_from_n_components_down_to_k(digits):
    class RecordK(Callback):
        def initialize(self):
            self.k_ = []
            return self

        def on_epoch_begin(self, net, **kwargs):
            self.k_.append(net.module_.code_layer.k)

    recorder = RecordK()
    sae = SparseAE(
        40,
        k=4,
        k_anneal_fraction=0.5,
        max_iter=10,
        tol=0.0,
        random_state=0,
        callbacks=[recorder],
    )
    sae.fit(digits[0][:200])
    assert recorder.k_[0] == 40 and recorder.k_[5:] == [4] * 5
    assert all(a >= b for a, b in zip(recorder.k_, recorder.k_[1:]))
    assert sae.module_.code_layer.k == 4
    assert 0.0 <= sae.dead_units_fraction_ < 1.0


def test_k_at_least_n_components_keeps_every_unit():
    # The documented rule: top-k of fewer than k units keeps them all (a dense code).
    X = np.random.RandomState(0).normal(size=(40, 3))
    sae = SparseAE(2, k=5, max_iter=3, random_state=0).fit(X)
    assert sae.module_.code_layer.k == 2 and sae.module_.code_layer.k_eval == 2
    assert sae.transform(X).shape == (40, 2)
    dense = SparseAE(2, max_iter=3, random_state=0).fit(X)
    np.testing.assert_array_equal(sae.transform(X), dense.transform(X))


def test_default_width_follows_k():
    X = np.random.RandomState(0).normal(size=(30, 5))
    assert SparseAE(k=25, max_iter=1).fit(X).n_components_ == UNITS_PER_K * 25
    assert SparseAE(k=25, max_iter=1).fit(X).transform(X).shape == (
        30,
        UNITS_PER_K * 25,
    )
    assert SparseAE(max_iter=1).fit(X).n_components_ == 10
    assert SparseAE(7, k=3, max_iter=1).fit(X).n_components_ == 7


@pytest.mark.parametrize("penalty", ["kl", "l1", "l2"])
def test_sparsity_penalty_moves_average_activation_to_the_target(digits, penalty):
    X = digits[0][:600]
    target = 0.05
    gaps = []
    for weight in (0.0, 3.0):
        sae = SparseAE(
            32,
            sparsity_penalty=penalty,
            sparsity_target=target,
            sparsity_weight=weight,
            max_iter=40,
            random_state=0,
        ).fit(X)
        gaps.append(np.abs(sae.transform(X).mean(axis=0) - target).mean())
    assert gaps[1] < 0.5 * gaps[0], (
        f"mean |rho_hat - rho|: {gaps[0]:.3f} without, {gaps[1]:.3f} with penalty"
    )


def test_pipeline_grid_search_over_k_just_works(digits):
    X, y = digits[0][:500], digits[1][:500]
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("ae", SparseAE(64, max_iter=5, random_state=0)),
            ("clf", LogisticRegression(max_iter=300)),
        ]
    )
    search = GridSearchCV(pipe, {"ae__k": [5, 25]}, cv=2).fit(X, y)
    assert search.best_params_["ae__k"] in (5, 25)
    assert search.score(X, y) > 0.8


def test_convergence_stop_waits_for_the_end_of_the_k_anneal(digits):
    # The loss rises while k falls; a stop then would leave a model trained with far more than k units.
    sae = SparseAE(
        64,
        k=4,
        hidden_layer_sizes=(),
        max_iter=40,
        k_anneal_fraction=0.5,
        tol=0.0,
        n_iter_no_change=2,
        random_state=0,
    )
    sae.fit(digits[0])
    assert sae.n_iter_ > 20
    rises = np.diff(sae.loss_curve_[:20]) > 0
    assert (
        rises.any()
    )  # without the warm-up the 2-epoch patience would have stopped inside the anneal
