"""The numpy kernels behind the ops: plain functions of ndarrays, with no Tensor and no autograd.

The op files (``ops/*.py``) check arguments, call a kernel and write the backward closure out of
ops; every performance trick lives here, so another array library (CuPy) could plug in at this
seam. Each kernel is tested against a plain-loop numpy reference (``tests/ops/kernels/``).

Memory layout, the one rule the image kernels share: images are handed around as NCHW-shaped
arrays, but a kernel may return an NCHW-shaped *view* of batch-innermost memory, (C, H, W, N),
or for a convolution's output rows-outermost memory, (H, C, W, N). Then every window slab and
every kernel-offset slice is one contiguous run of W'*N values, which numpy copies and adds far
faster than the short rows of NCHW. Elementwise ops and pooling keep the layout they are given
(``layout.full_like_layout``, ``layout.like_layout``), so the next convolution finds its input
already batch-innermost and no transposing copy is made between layers. Images a kernel makes
itself (a conv's output, an input gradient, col2im's fold) are written rows-outermost with no
padding left in the memory, so that the operands of every later elementwise op match: numpy
runs an op on operands of different layouts, or on padded views, several times slower than on
matching contiguous ones. Kernels rely only on the batch being innermost, never on a particular
layout being handed to them.
"""
