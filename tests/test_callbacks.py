"""skorch's built-in callbacks, passed as ``callbacks=[...]``, do what skorch documents."""

import json
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import (
    BatchScoring,
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    GradientNormClipping,
    LoadInitState,
    LRScheduler,
    PassthroughScoring,
    ProgressBar,
)
from skorch.exceptions import SkorchException

from skae import AutoencoderTransformer, DenoisingAE

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_ROWS, N_FEATURES, BATCH = (
    200,
    8,
    50,
)  # early_stopping holds out 20 rows: batches of 50, 50, 50, 30 and 20


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).normal(size=(N_ROWS, N_FEATURES)).astype(np.float32)


def autoencoder(callbacks, estimator=AutoencoderTransformer, **params):
    params = {
        "hidden_layer_sizes": (8,),
        "batch_size": BATCH,
        "max_iter": 4,
        "tol": 0.0,
        "random_state": 0,
        **params,
    }
    return estimator(2, callbacks=callbacks, **params)


class KeepNet(Callback):
    """Keeps the engine once training ends, to read its history and optimizer."""

    def on_train_end(self, net, **kwargs):
        self.net = net


def test_progress_bar_counts_every_batch_and_shows_the_batch_losses(X):
    bar = ProgressBar()
    autoencoder([bar], early_stopping=True).fit(X)
    assert bar.pbar_.total == 5 and bar.pbar_.n == 5
    assert (
        "valid_loss" in bar.pbar_.postfix
    )  # the last batch's loss, read from its history row


def test_history_has_skorch_batch_rows_and_best_flags(X):
    keep = KeepNet()
    model = autoencoder([keep], early_stopping=True).fit(X)
    history = keep.net.history
    assert history[-1, "batches", :, "train_batch_size"] == [50, 50, 50, 30]
    assert history[-1, "batches", :, "valid_batch_size"] == [20]
    for prefix, curve in (
        ("train", model.loss_curve_),
        ("valid", [-score for score in model.validation_scores_]),
    ):
        losses, sizes = zip(
            *history[-1, "batches", :, [f"{prefix}_loss", f"{prefix}_batch_size"]]
        )
        assert np.average(losses, weights=sizes) == pytest.approx(curve[-1], rel=1e-6)
        best = [
            loss < min(curve[:epoch], default=np.inf)
            for epoch, loss in enumerate(curve)
        ]
        assert history[:, f"{prefix}_loss_best"] == best


def test_checkpoint_saves_the_best_validation_epoch(X, tmp_path):
    checkpoint = Checkpoint(dirname=str(tmp_path))  # default monitor: valid_loss_best
    model = autoencoder(
        [checkpoint], early_stopping=True, max_iter=8, learning_rate_init=0.05
    ).fit(X)
    assert {"params.pt", "optimizer.pt", "history.json"} <= {
        path.name for path in tmp_path.iterdir()
    }
    saved = json.loads((tmp_path / "history.json").read_text())
    best = int(np.argmax(model.validation_scores_))
    assert len(saved) == best + 1 and saved[-1]["valid_loss"] == pytest.approx(
        -model.validation_scores_[best]
    )
    assert [epoch["event_cp"] for epoch in saved] == [
        epoch["valid_loss_best"] for epoch in saved
    ]


def test_checkpoint_monitors_the_training_loss_without_validation(X, tmp_path):
    autoencoder([Checkpoint(dirname=str(tmp_path), monitor="train_loss_best")]).fit(X)
    assert (tmp_path / "params.pt").exists()
    # As in skorch, the default monitor needs validation data (early_stopping=True).
    with pytest.raises(SkorchException, match="valid_loss_best"):
        autoencoder([Checkpoint(dirname=str(tmp_path / "none"))]).fit(X)


def test_load_init_state_restores_the_checkpoint(X, tmp_path):
    class FirstWeights(Callback):
        def on_epoch_begin(self, net, **kwargs):
            if not hasattr(self, "weights"):
                self.weights = {
                    name: tensor.clone()
                    for name, tensor in net.module_.state_dict().items()
                }

    checkpoint = Checkpoint(dirname=str(tmp_path), monitor="train_loss_best")
    model = autoencoder([checkpoint, LoadInitState(checkpoint)])
    model.fit(X)  # nothing to load yet: trains from its initialisation
    saved = torch.load(tmp_path / "params.pt")
    first = FirstWeights()
    model.set_params(callbacks=[checkpoint, LoadInitState(checkpoint), first]).fit(X)
    assert first.weights.keys() == saved.keys()
    assert all(torch.equal(first.weights[name], saved[name]) for name in saved)
    assert model.n_iter_ == 8  # the checkpoint's 4 epochs (its history) and 4 more


def test_epoch_scoring_records_a_score_that_predicts_on_the_epoch_data(X):
    class TrainingMode(Callback):
        def on_batch_begin(self, net, training=False, **kwargs):
            self.modes = getattr(self, "modes", set()) | (
                {net.module_.training} if training else set()
            )

    def n_predicted(net, data, y):
        return float(len(net.predict(data)))

    scoring = EpochScoring(n_predicted, lower_is_better=False)
    keep, mode = KeepNet(), TrainingMode()
    autoencoder([scoring, keep, mode], estimator=DenoisingAE, early_stopping=True).fit(
        X
    )
    assert keep.net.history[:, "n_predicted"] == [20.0] * 4  # the validation rows
    assert keep.net.history[:, "n_predicted_best"] == [True, False, False, False]
    assert mode.modes == {
        True
    }  # the scorer's predictions in eval mode do not leak into training


def test_batch_scoring_scores_each_batch_against_itself(X):
    # An autoencoder's target is its input: a scikit-learn scorer name scores the reconstruction.
    keep = KeepNet()
    autoencoder(
        [BatchScoring("neg_mean_squared_error"), keep], early_stopping=True
    ).fit(X)
    history = keep.net.history
    # The validation loss is the squared error summed over features, averaged over rows.
    for epoch in range(4):
        loss = history[epoch, "batches", -1, "valid_loss"]
        assert -history[
            epoch, "batches", -1, "neg_mean_squared_error"
        ] * N_FEATURES == pytest.approx(loss, rel=1e-5)
    assert len(history[:, "neg_mean_squared_error_best"]) == 4


def test_passthrough_scoring_averages_the_batch_rows_to_the_epoch_loss(X):
    class Snapshot(Callback):
        def on_epoch_end(self, net, **kwargs):
            self.losses = getattr(self, "losses", []) + [net.history[-1, "train_loss"]]

    snapshot, keep = Snapshot(), KeepNet()
    passthrough = ("passthrough", PassthroughScoring(name="train_loss", on_train=True))
    autoencoder([snapshot, passthrough, keep]).fit(X)
    assert keep.net.history[:, "train_loss"] == pytest.approx(snapshot.losses, rel=1e-6)
    assert keep.net.history[0, "train_loss_best"]


def test_lr_scheduler_changes_the_optimizer_learning_rate(X):
    keep = KeepNet()
    autoencoder([LRScheduler(policy="StepLR", step_size=1, gamma=0.5), keep]).fit(X)
    assert keep.net.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5**4)
    # The learning rate each epoch ran with.
    assert keep.net.history[:, "event_lr"] == pytest.approx(
        [1e-3 * 0.5**epoch for epoch in range(4)]
    )


@pytest.mark.parametrize("clip", [True, False])
def test_gradient_norm_clipping_bounds_the_gradient_norm(X, clip):
    class GradientNorms(Callback):
        def on_grad_computed(self, net, named_parameters, **kwargs):
            norm = torch.linalg.vector_norm(
                torch.stack([p.grad.norm() for _, p in named_parameters])
            )
            self.norms = getattr(self, "norms", []) + [float(norm)]

    norms = GradientNorms()
    autoencoder([GradientNormClipping(gradient_clip_value=1e-3)] * clip + [norms]).fit(
        X
    )
    assert len(norms.norms) == 16
    assert (max(norms.norms) <= 1e-3 * (1 + 1e-4)) == clip


@pytest.mark.parametrize(
    "early_stopping, monitor", [(True, "valid_loss"), (False, "train_loss")]
)
def test_skorch_early_stopping_stops_training(X, early_stopping, monitor):
    stopping = EarlyStopping(
        monitor=monitor, patience=2, threshold=1e3, threshold_mode="abs"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # stopped, so no warning
        model = autoencoder([stopping], early_stopping=early_stopping, max_iter=50).fit(
            X
        )
    assert (
        model.n_iter_ == 3
    )  # the first epoch improves on infinity, the next two miss by far


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_verbose_prints_one_epoch_line_per_epoch(X, verbose, capsys):
    model = autoencoder([], early_stopping=True, max_iter=3, verbose=verbose).fit(X)
    out, err = capsys.readouterr()
    if not verbose:
        assert out == err == ""
        return
    expected = [
        f"epoch {epoch + 1}/3  train_loss {loss:.6g}  valid_loss {-score:.6g}"
        for epoch, (loss, score) in enumerate(
            zip(model.loss_curve_, model.validation_scores_)
        )
    ]
    assert [line.rsplit("  ", 1)[0] for line in out.splitlines()] == expected
    # A tqdm bar over the epoch's 5 batches (fast epochs end before tqdm redraws it, so it shows 0/5).
    assert ("/5 [" in err) == (verbose >= 2)


def test_a_partial_fit_engine_keeps_batch_rows_of_its_latest_call_only(X):
    keep = KeepNet()
    model = autoencoder([keep])
    for _ in range(3):
        model.partial_fit(X)
    history = keep.net.history
    assert len(history) == 3 and [len(epoch["batches"]) for epoch in history] == [
        0,
        0,
        4,
    ]
    assert history[:, "train_loss"] == model.loss_curve_
