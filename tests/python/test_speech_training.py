"""The speech models' training scripts run as a user runs them: training/separation/train.py
(--task separate and --task enhance) and training/vocoder/train.py in their --smoke form (tiny
espeak-ng data, a tiny model, a few seconds of steps) each write a .rill that the C library loads
with the model's input and output ports, and a metrics JSON with the held-out figure; a bundled
separator grows (train.py --grow-from) into a larger look-ahead with the same output."""

import importlib.util
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

import rill
from rill import wavfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOLS = shutil.which("espeak-ng") and shutil.which("sox")


def separation_module(name):
    """training/separation/<name>.py by its path: the vocoder's and the effect's training folders
    have modules of the same names, which other tests import as `train` and `data`."""
    spec = importlib.util.spec_from_file_location(f"separation_{name}",
                                                  ROOT / "training" / "separation" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@unittest.skipUnless(TOOLS, "espeak-ng and sox are needed (scripts/install-deps.sh)")
class SpeechTrainingSmoke(unittest.TestCase):
    def run_smoke(self, script, *args):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        r = subprocess.run([sys.executable, str(ROOT / script), "--smoke", "--out", tmp, *args],
                           capture_output=True, text=True, env=dict(os.environ), timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr[-2000:])
        return pathlib.Path(tmp), r.stdout

    def test_separator_and_enhancer(self):
        for task, model_file, outputs in (("separate", "conv_tasnet_causal", 2),
                                          ("enhance", "conv_tasnet_enhancer", 1)):
            with self.subTest(task=task):
                out, log = self.run_smoke("training/separation/train.py", "--task", task)
                self.assertIn("held-out SI-SDR", log)
                m = rill.load(str(out / f"{model_file}.rill"))
                self.assertEqual((m.sample_rate, m.input_channels, m.output_channels),
                                 (8000, 1, outputs))
                metrics = json.loads((out / f"{model_file}.metrics.json").read_text())
                self.assertEqual(metrics["latency_samples"], 15)
                self.assertLess(metrics["max_abs_diff_block_37"], 1e-4)

    def test_random_voices_are_new_voices(self):
        """train-random speakers speak with variant files of their own: each one's speech differs
        from the plain language voice and from the others'; the split never uses a held-out
        language or variant, and a variant file is there only while its speaker speaks."""
        data = separation_module("data")
        spk = data.speakers("train-random", 3)
        self.assertEqual([v.split("+")[1] for v, _, _ in spk],
                         [f"{data.RANDOM_VARIANT}{i}" for i in range(3)])
        for voice, _, _ in spk:
            self.assertNotIn(voice.split("+")[0], data.HELDOUT_LANGUAGES)
        with tempfile.TemporaryDirectory() as t:
            t = pathlib.Path(t)
            voices = data.random_voice_data(t)
            said = []
            for i in range(3):
                with data.random_voice(voices, 5, i):
                    said.append(data.utterance(random.Random(0),
                                               (f"en+{data.RANDOM_VARIANT}{i}", 150, 50), t,
                                               espeak_path=voices))
            self.assertEqual(list((voices / "espeak-ng-data" / "voices" / "!v").glob("rill*")), [])
            plain = data.utterance(random.Random(0), ("en", 150, 50), t)
        for i, x in enumerate(said):
            self.assertGreater(len(x), 4000)
            others = said[:i] + said[i + 1:] + [plain]
            self.assertTrue(all(len(y) != len(x) or not np.array_equal(x, y) for y in others))

    def test_vocoder(self):
        out, log = self.run_smoke("training/vocoder/train.py")
        self.assertIn("held-out log-mel spectral distance", log)
        m = rill.load(str(out / "vocoder_16k.rill"))
        self.assertEqual((m.sample_rate, m.input_channels, m.output_channels), (16000, 81, 1))
        metrics = json.loads((out / "vocoder_16k.metrics.json").read_text())
        self.assertGreater(metrics["heldout_lsd_db"], 0.0)
        self.assertLess(metrics["max_abs_diff_block_1024"], 1e-4)


class GrowFromBundled(unittest.TestCase):
    def test_bundled_separator_grows_with_the_same_output(self):
        """--grow-from a bundled .rill: its weights load into the PyTorch model strictly and give
        the library's output; grown to every block looking ahead (kernel 5) they still do."""
        train = separation_module("train")
        from rill.nn.conv_tasnet import ConvTasNet
        bundled = ROOT / "assets" / "speech" / "separator_8k_lookahead.rill"
        x = wavfile.read(ROOT / "assets" / "speech" / "separator_8k_heldout.wav")[0][:1, :4000]
        state, lookahead = train.bundled_checkpoint(bundled)
        self.assertEqual(lookahead, 8)
        source = ConvTasNet(2, **dict(train.MODEL, conv_kernel_size=4, lookahead_dilation=8))
        source.load_state_dict(state["model"], strict=True)
        self.assertLess(rill.compare(source, str(bundled), x, block=128), 1e-5)
        grown = ConvTasNet(2, **dict(train.MODEL, conv_kernel_size=5, lookahead_dilation=32))
        opt = torch.optim.Adam(grown.parameters())
        with tempfile.TemporaryDirectory() as t:
            train.grow_checkpoint(bundled, 0, grown, opt, pathlib.Path(t) / "checkpoint.pt")
            saved = torch.load(pathlib.Path(t) / "checkpoint.pt")
        self.assertEqual(saved["step"], json.loads(bundled.with_suffix(".metrics.json")
                                                   .read_text())["steps"])
        self.assertEqual(grown.lookahead_frames(), 2 * 63)
        xt = torch.from_numpy(x)[None]
        with torch.no_grad():
            self.assertTrue(torch.equal(grown.eval()(xt), source.eval()(xt)))

    def test_bundled_separator_of_the_same_configuration_starts_as_it_is(self):
        """--grow-from a .rill of the model's own configuration continues it unchanged (another
        cosine from a bundled model); one with another look-ahead is refused."""
        train = separation_module("train")
        from rill.nn.conv_tasnet import ConvTasNet
        bundled = ROOT / "assets" / "speech" / "separator_8k_lookahead128.rill"
        state = train.bundled_checkpoint(bundled)[0]["model"]
        config = dict(train.MODEL, conv_kernel_size=5)
        same = ConvTasNet(2, **dict(config, lookahead_dilation=32))
        with tempfile.TemporaryDirectory() as t:
            target = pathlib.Path(t) / "checkpoint.pt"
            train.grow_checkpoint(bundled, 0, same, torch.optim.Adam(same.parameters()), target)
            self.assertTrue(all(torch.equal(v, state[k])
                                for k, v in torch.load(target)["model"].items()))
            other = ConvTasNet(2, **dict(config, lookahead_dilation=16))
            with self.assertRaisesRegex(ValueError, "look-ahead dilation 32, the model's is 16"):
                train.grow_checkpoint(bundled, 0, other, torch.optim.Adam(other.parameters()),
                                      target)


if __name__ == "__main__":
    unittest.main()
