"""ONNX models over a symbolic time axis become streaming models with cached convolutions.

A PyTorch conv stack (non-causal padded convs, dilation, groups, a strided conv and a transposed
conv back, a residual branch, BatchNorm, PReLU/LeakyReLU/Tanh/ELU, per-channel constants, a channel
concatenation) is exported with torch.onnx.export and a dynamic time axis, loaded by Rill
directly (C API, Python binding), streamed in several block-size patterns; the stream of x
followed by L zeros equals PyTorch's offline output for that input shifted by the reported
latency L (over the first len(x) frames: after the end, offline layers see zero padding where the
stream's intermediate layers still answer the zeros). Also `rill convert` of the same file.
Usage: test_time_axis.py RILL_CLI WORK_DIR"""
import pathlib
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "capi" / "python"))
import rill  # noqa: E402


class Stack(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = torch.nn.Conv1d(2, 8, 5, padding=2)
        self.act = torch.nn.PReLU(8)
        self.dil = torch.nn.Conv1d(8, 8, 3, padding=2, dilation=2, groups=2)
        self.bn = torch.nn.BatchNorm1d(8)
        self.down = torch.nn.Conv1d(8, 8, 4, stride=2, padding=1)
        self.up = torch.nn.ConvTranspose1d(8, 8, 4, stride=2, padding=1)
        self.side = torch.nn.Conv1d(8, 4, 1)
        self.out = torch.nn.Conv1d(12, 1, 3, padding=1)
        self.scale = torch.nn.Parameter(torch.randn(1, 8, 1))

    def forward(self, x):
        h = self.act(self.inp(x))
        h = h + torch.tanh(self.bn(self.dil(h)))
        d = torch.nn.functional.leaky_relu(self.down(h), 0.2)
        u = torch.nn.functional.elu(self.up(d)) * self.scale + 0.1
        return self.out(torch.cat([u, self.side(h)], dim=1))


def main():
    cli, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    net = Stack().eval()
    with torch.no_grad():
        net.bn.running_mean.normal_()
        net.bn.running_var.uniform_(0.5, 2)
    path = work / "stack.onnx"
    torch.onnx.export(net, torch.randn(1, 2, 64), str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {2: "time"}, "y": {2: "time"}}, opset_version=13)
    x = torch.randn(1, 2, 3000)
    m = rill.load(path, import_options={"sample_rate": 16000})
    lat = m.latency_frames
    with torch.no_grad():
        tail = lat + lat % 2  # an even total length for the stride-2 branch
        ref = net(torch.cat([x, torch.zeros(1, 2, tail)], dim=2))[0, :, :3000].numpy()
    print(f"time-axis model: {len(m.nodes)} nodes, latency {lat} frames")
    worst = 0.0
    for pattern in ([1], [7, 64, 1, 513], [256], [1000, 3]):
        s = rill.Stream(m, max_block_frames=1024)
        xin = np.concatenate([x[0].numpy(), np.zeros((2, lat), np.float32)], axis=1)
        out, pos, i = [], 0, 0
        while pos < xin.shape[1]:
            n = min(pattern[i % len(pattern)], xin.shape[1] - pos)
            out.append(s.process(xin[:, pos:pos + n]))
            pos, i = pos + n, i + 1
        y = np.concatenate(out, axis=1)[0, lat:]
        err = np.abs(y[:ref.shape[1]] - ref[0]).max() / np.abs(ref).max()
        print(f"  blocks {pattern}: max |stream - offline| / max |offline| = {err:.2e}")
        worst = max(worst, err)
    r = subprocess.run([cli, "convert", path, work / "stack.rill"], capture_output=True, text=True)
    print(r.stdout, r.stderr)
    assert r.returncode == 0 and f"latency {lat} frames" in r.stdout
    assert worst < 1e-5, worst
    bad = work / "shape_plumbing.onnx"

    class Bad(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.softmax(x, dim=2)

    torch.onnx.export(Bad(), torch.randn(1, 2, 8), str(bad), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {2: "time"}}, opset_version=13)
    try:
        rill.load(bad)
        raise AssertionError("softmax over time was accepted")
    except rill.RillError as e:
        assert "Softmax" in str(e), e
    print("time axis: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
