"""Explainable detection of metastatic tissue in histopathology images: PCam, PathMNIST, BreakHis; fastai + timm models; Grad-CAM, Integrated Gradients and attention maps with measured faithfulness.

Modules:

- `pcam_xai.render`: Explanation maps drawn honestly: percentile clipping, signed maps in a diverging colormap, the map as transparency over the tissue, a colorbar and the method name on every panel, one colour scale on request."""

__version__ = "0.0.1"

import warnings
# fastai's import decorates a few helpers with `torch.jit.script` (fastai/layers.py), which torch >= 2.10 answers with a
# FutureWarning on every import that users of pcam_xai cannot act on. Only that message, from that torch module, is
# silenced; everything else (and torch.jit.script's Python 3.14 warning) still shows.
warnings.filterwarnings('ignore', message=r'`torch\.jit\.script` is deprecated\.', category=FutureWarning,
                        module=r'torch\.jit\._script')
