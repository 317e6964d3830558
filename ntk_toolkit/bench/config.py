"""Configuration of the benchmark suite: sections, peers, the sizes of each mode and the targets."""

from __future__ import annotations

from dataclasses import dataclass

SECTIONS = ("kernel", "gd", "spectrum", "images", "deep", "symbolic", "dynamics", "sweep", "startup")
PEERS = ("torch", "jax")
PEER_NAMES = {"torch": "PyTorch", "jax": "JAX"}
#: (peer, form) pairs that are timed: JAX writes U as shifted copies (``roll``) and as a convolution.
PEER_VARIANTS = (("torch", None), ("jax", "roll"), ("jax", "conv"))
KERNEL_PEER_NAMES = {("torch", None): "torch.func.jacrev J Jᵀ", ("jax", "roll"): "jax.jacrev J Jᵀ (jnp.roll, jit)",
                     ("jax", "conv"): "jax.jacrev J Jᵀ (lax.conv, jit)"}
GD_PEER_NAMES = {("torch", None): "PyTorch autograd loop (F.pad circular + conv1d)",
                 ("jax", "roll"): "JAX jitted fori_loop (jnp.roll)", ("jax", "conv"): "JAX jitted fori_loop (lax.conv)"}
#: (peer, form) pairs timed on images: one form each (circular padding and a 2-D convolution).
IMAGE_PEER_VARIANTS = (("torch", None), ("jax", "conv"))
IMAGE_GD_PEER_NAMES = {("torch", None): "PyTorch autograd loop (F.pad circular + conv2d)",
                       ("jax", "conv"): "JAX jitted fori_loop (jnp.pad wrap + lax.conv)"}
INSTALL_HINT = 'pip install "ntk_toolkit[peers]"'


@dataclass(frozen=True)
class Config:
    """Sizes and repeat counts of one mode.

    Examples
    --------
    The two modes are the instances :data:`QUICK` and :data:`FULL`:

    >>> from ntk_toolkit.bench import FULL, QUICK
    >>> QUICK.gd, QUICK.gd_steps, FULL.gd, FULL.gd_steps
    ((128, 512), 50, (512, 2048), 200)
    >>> QUICK.largest, FULL.largest  # only the full mode searches the largest kernel
    (False, True)
    >>> FULL.images_gd, FULL.images_spectrum  # images: (H, W, k) and (H, W)
    ((128, 128, 256), ((512, 512), (2048, 2048)))
    """

    kernel_pair: tuple  # (n, k): ntk_toolkit vs explicit J Jᵀ and the peers
    kernel_repeats: int
    ref_repeats: int
    kernel_times: tuple  # ((n, k), repeats) timed in this process
    kernel_memory: tuple  # ((n, k), repeats) timed with peak RSS in a fresh process
    largest: bool  # search the largest (n, 16n) within LARGEST_SECONDS
    gd: tuple  # (n, k)
    gd_steps: int
    gd_repeats: int
    naive_steps: int
    peer_steps: int
    spectrum_n: int
    spectrum_repeats: int
    first_call_size: tuple
    first_call_isolated: bool  # one fresh process per routine (else one for all, in order)
    bandwidth_bytes: int
    budget: float  # seconds of timed repeats per measurement (at least one repeat)
    # images: sizes are (H, W) or (H, W, k)
    images_spectrum: tuple  # ((H, W), ...) spectrum of Σ, triangle2d(3), with peak memory in a fresh process
    images_gd: tuple  # (H, W, k), triangle2d(2): interleaved float64/float32/bandwidth, peers, peak memory
    images_gd_steps: int
    images_naive_steps: int
    images_peer_steps: int
    images_top: tuple  # (H, W, k): top_eigenpairs(gen, C, images_top_r)
    images_top_r: int
    images_kernel: tuple  # (H, W, k): empirical_kernel
    images_repeats: int
    # sweeps
    sweep_trivial: int  # points of a trivial measurement: the store's overhead per point
    sweep_fit: tuple  # (n, k, seeds, steps): 8 * seeds fit_time points on 1 and 2 worker processes
    # deep decoders: (H, W, k, layers[, r]), channels [k] * layers
    deep_spectrum: tuple = (32, 32, 32, 5, 20)  # jacobian_spectrum(net, θ, r) vs torch jacrev + SVD
    deep_adam: tuple = (64, 64, 64, 5)  # one Adam step vs torch.optim.Adam
    deep_adam_steps: int = 5
    deep_repeats: int = 3
    deep_peer_repeats: int = 1


FULL = Config(
    kernel_pair=(256, 1024), kernel_repeats=7, ref_repeats=3,
    kernel_times=(((1024, 8192), 5),),
    kernel_memory=(((4096, 16384), 3), ((4096, 65536), 1)),
    largest=True,
    gd=(512, 2048), gd_steps=200, gd_repeats=7, naive_steps=20, peer_steps=50,
    spectrum_n=2**20, spectrum_repeats=5, first_call_size=(64, 256), first_call_isolated=True,
    bandwidth_bytes=256 * 2**20, budget=20.0,
    images_spectrum=((512, 512), (2048, 2048)), images_gd=(128, 128, 256), images_gd_steps=50,
    images_naive_steps=5, images_peer_steps=20, images_top=(128, 128, 256), images_top_r=20,
    images_kernel=(64, 64, 1024), images_repeats=5,
    sweep_trivial=10000, sweep_fit=(256, 512, 25, 1500),
    deep_spectrum=(64, 64, 64, 5, 50), deep_adam=(128, 128, 128, 5), deep_adam_steps=10, deep_repeats=5,
    deep_peer_repeats=2,
)
QUICK = Config(
    kernel_pair=(64, 256), kernel_repeats=5, ref_repeats=3,
    kernel_times=(),
    kernel_memory=(((512, 2048), 2),),
    largest=False,
    gd=(128, 512), gd_steps=50, gd_repeats=3, naive_steps=10, peer_steps=20,
    spectrum_n=2**16, spectrum_repeats=5, first_call_size=(64, 256), first_call_isolated=False,
    bandwidth_bytes=64 * 2**20, budget=2.0,
    images_spectrum=((64, 64), (256, 256)), images_gd=(64, 64, 64), images_gd_steps=20,
    images_naive_steps=5, images_peer_steps=10, images_top=(32, 32, 64), images_top_r=20,
    images_kernel=(32, 32, 256), images_repeats=3,
    sweep_trivial=1000, sweep_fit=(64, 128, 5, 200),
)

#: Time limit of one call in the search for the largest (n, 16n) kernel.
LARGEST_SECONDS = 60.0
LARGEST_START, LARGEST_STEP = 4096, 1024
#: Memory kept free for the interpreter and libraries when sizing the largest kernel.
MEMORY_RESERVE = 512 * 2**20

#: Targets, full mode only. Keys: (section, operation key, size).
TARGETS = {
    ("kernel", "torch", (256, 1024)): {"min_ratio": 200.0},
    ("kernel", "jax", (256, 1024)): {"min_ratio": 200.0},
    ("kernel", "time", (1024, 8192)): {"max_s": 0.5},
    ("kernel", "memory", (4096, 16384)): {"max_s": 10.0, "max_x_C": 3.0},
    ("gd", "naive", (512, 2048)): {"max_s": 0.015, "min_ratio": 10.0},
    ("gd", "torch", (512, 2048)): {"min_ratio": 3.0},
    ("gd", "jax", (512, 2048)): {"min_ratio": 1.0},
    ("gd", "bound", (512, 2048)): {"min_ratio": 0.5},
    ("gd", "float32", (512, 2048)): {"min_ratio": 1.6},
    ("spectrum", "time", (2**20,)): {"max_s": 2.0},
    ("images", "spectrum", (512, 512)): {"max_s": 0.25},
    ("images", "spectrum", (2048, 2048)): {"max_s": 3.0},
    ("images", "torch", (128, 128, 256)): {"min_ratio": 3.0},
    ("images", "jax", (128, 128, 256)): {"min_ratio": 1.0},
    ("images", "bound", (128, 128, 256)): {"min_ratio": 0.5},
    ("images", "float32", (128, 128, 256)): {"min_ratio": 1.5},
    ("images", "top_eigenpairs", (128, 128, 256)): {"max_s": 10.0},
    ("images", "kernel", (64, 64, 1024)): {"max_s": 5.0},
    ("images", "memory", (128, 128, 256)): {"max_x_C": 3.0},
    ("sweep", "store", (10000,)): {"max_s": 0.005},
    ("sweep", "workers", (200,)): {"min_ratio": 1.7},
    ("deep", "spectrum", (64, 64, 64, 5)): {"max_s": 30.0, "min_ratio": 20.0},
    ("deep", "adam", (128, 128, 128, 5)): {"min_ratio": 1.0},
    ("startup", "import", ()): {"max_s": 1.0},
    # other activations: at most twice ReLU's time (ratio = ReLU time / ours), cached derivations, no sympy on import
    ("symbolic", "first_row:erf", (2**20,)): {"min_ratio": 0.5},
    ("symbolic", "first_row:tanh", (2**20,)): {"min_ratio": 0.5},
    ("symbolic", "first_row:softplus", (2**20,)): {"min_ratio": 0.5},
    ("symbolic", "spectrum:erf", (2**20,)): {"min_ratio": 0.5},
    ("symbolic", "spectrum:tanh", (2**20,)): {"min_ratio": 0.5},
    ("symbolic", "spectrum:softplus", (2**20,)): {"min_ratio": 0.5},
    ("symbolic", "dual", ()): {"max_s": 1e-3},
    ("symbolic", "import", ()): {"max_s": 0.5},
    ("dynamics", "diagnostics", (512, 2048)): {"min_ratio": 1 / 1.1},
    ("dynamics", "diagnostics-2d", (64, 64, 256)): {"min_ratio": 1 / 1.1},
    ("dynamics", "stability", (4096, 16384)): {"max_s": 1.0},
}
