#!/usr/bin/env python3
"""Writes the golden fixtures: for every case in cases_*.py (PyTorch references of each op and
network), OUTDIR/<name>/ gets model.rill, input.f32, expected.f32 and case.json.
Run: generate.py OUTDIR [name-filter]. Fixtures are regenerated on every test run, never edited."""

import importlib.util
import json
import os
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "capi" / "python"))

from rill.format import write_rill  # noqa: E402


def load_cases():
    for path in sorted(HERE.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for make in module.CASES:
            yield path.stem, make


def main():
    out = pathlib.Path(sys.argv[1])
    pattern = sys.argv[2] if len(sys.argv) > 2 else ""
    out.mkdir(parents=True, exist_ok=True)
    names = set()
    count = 0
    for module, make in load_cases():
        case = make()
        name = case["name"]
        if pattern and pattern not in name:
            continue
        if name in names:
            raise SystemExit(f"{module}: duplicate case name {name}")
        names.add(name)
        d = out / name
        d.mkdir(exist_ok=True)
        write_rill(d / "model.rill", case["graph"], case["tensors"])
        x = np.ascontiguousarray(np.asarray(case["input"], dtype=np.float32))
        y = np.ascontiguousarray(np.asarray(case["expected"], dtype=np.float32))
        assert x.ndim == 2 and y.ndim == 2, f"{name}: input/expected must be [C, T]"
        x.tofile(d / "input.f32")
        y.tofile(d / "expected.f32")
        meta = {"name": name, "module": module, "in_channels": x.shape[0], "in_frames": x.shape[1],
                "out_channels": y.shape[0], "out_frames": y.shape[1],
                "tol": float(case.get("tol", 1e-5)), "params": case.get("params", {})}
        (d / "case.json").write_text(json.dumps(meta, indent=1))
        count += 1
    print(f"wrote {count} golden cases to {out}")


if __name__ == "__main__":
    main()
