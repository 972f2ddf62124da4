"""skae: autoencoders as scikit-learn estimators, trained with PyTorch."""

from ._contractive import ContractiveAE
from ._denoising import DenoisingAE
from ._distributed import data_parallel
from ._impute import AutoencoderImputer
from ._outlier import AutoencoderOutlierDetector
from ._skops import load
from ._sparse import SparseAE
from ._vae import VAE
from ._vanilla import AutoencoderTransformer
from ._version import __version__

__all__ = [
    "AutoencoderImputer",
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "ContractiveAE",
    "DenoisingAE",
    "SparseAE",
    "VAE",
    "__version__",
    "data_parallel",
    "load",
]
