"""Quickstart: AutoencoderTransformer vs PCA on scikit-learn's bundled digits.

Prints held-out reconstruction error and the accuracy of a logistic regression
trained on each method's codes.
"""

import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from ._vanilla import AutoencoderTransformer


def main(n_components=16, random_state=0):
    torch.set_num_threads(
        1
    )  # tiny nets: one thread is fastest on a small, busy machine
    X, y = load_digits(return_X_y=True)
    X = MinMaxScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=random_state, stratify=y
    )

    models = {
        "PCA": PCA(n_components, random_state=random_state),
        "AutoencoderTransformer": AutoencoderTransformer(
            n_components,
            hidden_layer_sizes=(128,),
            max_iter=1000,
            early_stopping=True,
            n_iter_no_change=20,
            random_state=random_state,
        ),
    }
    print(
        f"digits: {X_train.shape[0]} train / {X_test.shape[0]} test rows, 64 features -> {n_components} components\n"
    )
    print(f"{'model':<24}{'test MSE':>10}{'logreg acc':>12}{'fit s':>8}")
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_train)
        seconds = time.perf_counter() - start
        error = np.mean(
            (model.inverse_transform(model.transform(X_test)) - X_test) ** 2
        )
        classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        accuracy = classifier.fit(model.transform(X_train), y_train).score(
            model.transform(X_test), y_test
        )
        print(f"{name:<24}{error:>10.4f}{accuracy:>12.3f}{seconds:>8.1f}")


if __name__ == "__main__":
    main()
