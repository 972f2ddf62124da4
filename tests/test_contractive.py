import numpy as np
import pytest
import torch

from skae import ContractiveAE
from skae.losses import (
    jacobian_frobenius_closed_form,
    jacobian_frobenius_exact,
    jacobian_frobenius_projection,
)
from skae.nn import mlp


def brute_force(function, x):
    return torch.stack(
        [
            (
                torch.autograd.functional.jacobian(
                    lambda row: function(row[None])[0], xi
                )
                ** 2
            ).sum()
            for xi in x
        ]
    )


@pytest.mark.parametrize(
    "activation", ["sigmoid", "tanh", "relu", "softplus", "identity"]
)
def test_closed_form_matches_autograd(activation):
    torch.manual_seed(0)
    encoder = mlp([7, 5], "identity", activation).double()
    x = torch.randn(9, 7, dtype=torch.float64)
    activation_layer = (
        encoder[1] if len(encoder) > 1 else torch.nn.Identity()
    )  # mlp adds no identity layer
    closed = jacobian_frobenius_closed_form(encoder[0], activation_layer, x)
    torch.testing.assert_close(closed, brute_force(encoder, x), rtol=1e-5, atol=1e-8)


def test_exact_matches_autograd_and_carries_gradients():
    torch.manual_seed(0)
    encoder = mlp([6, 5, 3], "tanh", "sigmoid").double()
    x = torch.randn(8, 6, dtype=torch.float64)
    exact = jacobian_frobenius_exact(encoder, x)
    torch.testing.assert_close(exact, brute_force(encoder, x), rtol=1e-5, atol=1e-8)
    exact.mean().backward()
    assert encoder[0].weight.grad.abs().sum() > 0


def test_projection_estimate_is_unbiased_within_its_stated_error():
    torch.manual_seed(0)
    encoder = mlp([6, 5, 3], "tanh", "sigmoid").double()
    x = torch.randn(8, 6, dtype=torch.float64)
    n_projections = 2000
    estimate = jacobian_frobenius_projection(encoder, x, n_projections)
    truth = brute_force(encoder, x)
    # Stated bound: relative standard deviation <= sqrt(2 / n_projections); allow 4 of them.
    assert torch.all((estimate / truth - 1).abs() < 4 * np.sqrt(2 / n_projections))


@pytest.mark.parametrize(
    "jacobian, hidden", [("closed_form", ()), ("exact", (16,)), ("projection", (16,))]
)
def test_penalty_of_every_method_is_the_mean_squared_norm(digits, jacobian, hidden):
    X = digits[0][:40]
    cae = ContractiveAE(
        4,
        jacobian=jacobian,
        hidden_layer_sizes=hidden,
        contractive_weight=2.0,
        n_projections=4000,
        max_iter=1,
        random_state=0,
    ).fit(X)
    module = cae.module_
    x = torch.tensor(X)
    with torch.random.fork_rng():
        penalty = cae._penalty(module, x, None)
    expected = 2.0 * (torch.tensor(cae.jacobian_norm(X)) ** 2).mean()
    tolerance = 1e-6 if jacobian != "projection" else 4 * np.sqrt(2 / 4000)
    assert float(penalty.detach()) == pytest.approx(float(expected), rel=tolerance)


def test_jacobian_norm_falls_as_the_weight_rises(digits):
    X_train, X_test = digits[0][:1200], digits[0][1200:]
    norms = []
    for weight in (0.0, 0.3, 3.0):
        cae = ContractiveAE(
            16, contractive_weight=weight, max_iter=30, random_state=0
        ).fit(X_train)
        norms.append(cae.jacobian_norm(X_test).mean())
    assert norms[0] > norms[1] > norms[2], f"held-out Jacobian norms {norms}"


def test_closed_form_needs_a_one_layer_encoder():
    with pytest.raises(ValueError, match="one-layer encoder"):
        ContractiveAE(2, jacobian="closed_form", hidden_layer_sizes=(4,)).fit(
            np.random.rand(10, 3)
        )
