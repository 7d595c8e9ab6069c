"""ldct-viewer: check whether a low-dose CT denoiser over-smooths.

Computation (``io``, ``ct``, ``model``, ``inference``, ``analysis``) never imports Qt;
the GUI lives in ``ldct_viewer.ui``.
"""

__version__ = "0.1.0"
