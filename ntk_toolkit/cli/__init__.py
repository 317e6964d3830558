"""The ``ntk-toolkit`` command (also ``python -m ntk_toolkit``).

A thin layer over the library: one module per command group, each importing only
:mod:`ntk_toolkit.cli._options` and the library, never another command module.

============  ==========================  ===============================================
module        commands                    library functions
============  ==========================  ===============================================
spectrum      ``spectrum``                :func:`ntk_toolkit.spectrum`
fit           ``fit``                     :func:`ntk_toolkit.gradient_descent`, :func:`ntk_toolkit.linearized`;
                                          with ``--image`` :func:`~ntk_toolkit.image_experiments.fit_image_vs_noise`
denoise       ``denoise``                 :func:`ntk_toolkit.image_experiments.denoise_image`
verify        ``verify``, ``checks``      :mod:`ntk_toolkit.checks`
bench         ``bench``                   :mod:`ntk_toolkit.bench`
cs            ``cs``, ``cs-curve``        :func:`ntk_toolkit.run_to_convergence`, :func:`ntk_toolkit.recovery_curve`;
                                          with ``--image`` :func:`~ntk_toolkit.image_experiments.inpaint_image`
sweep         ``sweep run|status|``       :func:`ntk_toolkit.sweep.run`, :func:`~ntk_toolkit.sweep.status`,
              ``export|plot``             :func:`~ntk_toolkit.sweep.export`, :func:`~ntk_toolkit.sweep.plot`
reproduce     ``reproduce``               :func:`ntk_toolkit.sweep.reproduce.reproduce`
deep          ``deep-spectrum``           :func:`ntk_toolkit.deep.experiments.spectrum_during_training`
============  ==========================  ===============================================

A command's module is imported when the command is looked up (running it, or
listing it in ``--help``), so ``ntk-toolkit cs`` does not import the verification
suite or the benchmarks.
"""

from __future__ import annotations

import importlib

import click

from .. import __version__

__all__ = ["main"]

#: command name -> (module in this package, function)
COMMANDS = {
    "bench": ("bench", "bench"),
    "checks": ("verify", "checks"),
    "cs": ("cs", "cs"),
    "cs-curve": ("cs", "cs_curve"),
    "deep-spectrum": ("deep", "deep_spectrum"),
    "denoise": ("denoise", "denoise"),
    "fit": ("fit", "fit"),
    "reproduce": ("reproduce", "reproduce"),
    "spectrum": ("spectrum", "spectrum"),
    "sweep": ("sweep", "sweep"),
    "verify": ("verify", "verify"),
}


class _CommandGroup(click.Group):
    """A group whose commands are imported from their modules on first use (the lazy-loading
    pattern of the click documentation)."""

    def __init__(self, *args, lazy_commands: dict[str, tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module, attr = self.lazy_commands[cmd_name]
            command = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_CommandGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ntk-toolkit")
def main() -> None:
    """Kernels, spectra and gradient-descent dynamics of two-layer convolutional
    generators G(C) = relu(U C) v with fixed interpolating filters.

    \b
    Examples:
      ntk-toolkit spectrum --filter triangle:4 --n 256
      ntk-toolkit spectrum --filter triangle2d:3 --shape 256x256
      ntk-toolkit fit --signal smooth --filter triangle:4 --n 128 --k 1024
      ntk-toolkit denoise --image camera --size 128 --sigma 0.1 --filter triangle2d:2 --k 256
      ntk-toolkit cs --image camera --size 32 --measurement mask --keep 0.33
      ntk-toolkit sweep run spec.toml --store runs.db --workers 2
      ntk-toolkit reproduce --list
      ntk-toolkit deep-spectrum --shape 64x64 --channels 64,64,64,64
    """
