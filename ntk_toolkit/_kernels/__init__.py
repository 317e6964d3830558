"""Private Numba kernels. Nothing public lives here.

Kernels take clean, C-contiguous float64 (or float32 where stated) arrays and
preallocated outputs, and never validate their input: the public wrappers do.
Modules are imported lazily by the wrappers so that ``import ntk_toolkit`` does
not import or compile them.
"""
