"""skae: autoencoders as scikit-learn estimators, trained with PyTorch."""

from ._vanilla import AutoencoderTransformer

__version__ = "0.1.0"

__all__ = ["AutoencoderTransformer", "__version__"]
