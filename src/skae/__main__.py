"""``python -m skae``: the quickstart, an autoencoder against PCA on scikit-learn's digits."""

from ._quickstart import main

main()
