"""Rill for Python: load and stream .rill models (ctypes binding of rill.h), PyTorch reference
modules of every op (rill.nn), and the exporter from PyTorch module trees (rill.export).

    import rill
    model = rill.load("model.rill")
    y = model.stream(max_block_frames=512).process(x)     # x [C, n] float32
    report = rill.export(module, "model.rill", example_input=x, sample_rate=16000)

rill.nn and rill.export need torch; the binding needs only numpy."""

from ._capi import (NONFINITE_PASS, NONFINITE_REJECT, NONFINITE_ZERO, RILL_NONFINITE_REPLACED,
                    RILL_OK, STATUS_NAMES, Model, RillError, Stream, load, version, version_number)
from .format import read_rill, to_bytes, write_rill


def export(*args, **kwargs):
    """rill.exporter.export (imported on first use: it needs torch)."""
    from .exporter import export as _export
    return _export(*args, **kwargs)


def export_windows(*args, **kwargs):
    """rill.offline_windows.export_windows (imported on first use: it needs torch): a module
    that cannot stream, in the offline windows mode (docs/offline.md)."""
    from .offline_windows import export_windows as _export_windows
    return _export_windows(*args, **kwargs)


def compare(*args, **kwargs):
    """rill.exporter.compare (imported on first use: it needs torch)."""
    from .exporter import compare as _compare
    return _compare(*args, **kwargs)


__all__ = ["Model", "Stream", "RillError", "load", "version", "version_number", "export",
           "export_windows", "compare", "read_rill", "write_rill", "to_bytes", "NONFINITE_ZERO",
           "NONFINITE_REJECT", "NONFINITE_PASS", "RILL_OK", "RILL_NONFINITE_REPLACED", "STATUS_NAMES"]
