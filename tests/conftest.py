import os
from pathlib import Path

import numpy as np
import pytest
import torch

# Tiny nets on this project's 2-core machines run ~10x faster on one thread
# when the other core is busy; the library itself never sets this globally.
torch.set_num_threads(1)

SHARED_DATA = Path(
    os.environ.get("SKAE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def digits():
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import MinMaxScaler

    data = load_digits()
    return MinMaxScaler().fit_transform(data.data), data.target


@pytest.fixture
def two_threads():
    """torch on two intra-op threads for the test (the suite runs on one), restored after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set SKAE_DATA)")
    return SHARED_DATA


@pytest.fixture
def rng():
    return np.random.RandomState(0)
