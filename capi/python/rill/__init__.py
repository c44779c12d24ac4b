"""Rill for Python: load and stream .rill models (ctypes binding of rill.h), PyTorch reference
modules of every op (rill.nn), and the exporter from PyTorch module trees (rill.export)."""

from ._capi import (NONFINITE_PASS, NONFINITE_REJECT, NONFINITE_ZERO, Model, RillError, Stream,
                    load, version)
from .format import read_rill, write_rill


def export(*args, **kwargs):
    """rill.exporter.export (imported on first use: it needs torch)."""
    from .exporter import export as _export
    return _export(*args, **kwargs)


def compare(*args, **kwargs):
    """rill.exporter.compare (imported on first use: it needs torch)."""
    from .exporter import compare as _compare
    return _compare(*args, **kwargs)


__all__ = ["Model", "Stream", "RillError", "load", "version", "export", "compare", "read_rill",
           "write_rill", "NONFINITE_ZERO", "NONFINITE_REJECT", "NONFINITE_PASS"]
