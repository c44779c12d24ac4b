"""The MediaPipe selfie segmentation models (npm @mediapipe/selfie_segmentation@0.1.1675465747,
fetched with `npm pack`) through Rill's TFLite importer on the astronaut photo (Debian's
python3-skimage, public domain NASA image), resized to the model input with bilinear
anti-aliased resampling, RGB in [0, 1]:
  - the mask equals an independent PyTorch run of the network on the weights read from the
    .tflite (tflite_reference.py) within 1e-3, for the general (256x256) and landscape (144x256)
    models;
  - general model, regions in its 256x256 frame: mean person probability above 0.8 on the face
    (rows 40-85, columns 105-145) and on the torso (rows 120-200, columns 40-130), below 0.2 in the
    top-left and top-right 40x40 corners (background).
The same models as a user runs them (when the binding is importable: RILL_LIBRARY, PYTHONPATH):
the .tflite loaded directly through the C API and converted with `rill convert`, the 512x512
photo given as RGB8 pixels to rill_stream_process_image (the library resamples, half-pixel
bilinear) with temporal smoothing off: the mask equals the PyTorch reference on the same
resampled input within 1e-3, the .tflite and the converted .rill give identical masks, and the
regions above hold on the mask at the photo's size.
Usage: test_selfie.py RILL_TFLITE_RUN WORK_DIR [RILL_CLI]"""
import pathlib
import subprocess
import sys
import tarfile

import numpy as np
from skimage import data, transform

try:
    import rill
    from rill.images import resize_bilinear
except ImportError:
    rill = None

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import tflite_reference  # noqa: E402

PACKAGE = "@mediapipe/selfie_segmentation@0.1.1675465747"


def fetch(work):
    models = work / "selfie"
    if not (models / "selfie_segmentation_landscape.tflite").exists():
        models.mkdir(parents=True, exist_ok=True)
        name = subprocess.run(["npm", "pack", "--silent", PACKAGE], cwd=models, check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(models / name) as tar:
            for f in ("selfie_segmentation.tflite", "selfie_segmentation_landscape.tflite"):
                member = tar.getmember("package/" + f)
                member.name = f
                tar.extract(member, models)
        (models / name).unlink()
    return models


def check_c_api(models, work, cli):
    """The user's path: direct load and `rill convert`, pixels in, masks out."""
    pixels = data.astronaut()
    ok = True
    for file, (h, w) in [("selfie_segmentation.tflite", (256, 256)),
                         ("selfie_segmentation_landscape.tflite", (144, 256))]:
        converted = work / (file + ".rill")
        subprocess.run([cli, "convert", models / file, converted], check=True, capture_output=True)
        masks = []
        for path in (models / file, converted):
            stream = rill.load(str(path)).stream()
            stream.set_param("smoothing", 0.0)
            masks.append(stream.process_image(pixels)[0][..., 0])
        x = resize_bilinear(pixels.astype(np.float64) / 255, h, w).astype(np.float32)
        (ref,) = tflite_reference.run(tflite_reference.read_model(models / file), [x[None]])
        err = np.abs(masks[0] - ref.reshape(h, w)).max()
        same = np.array_equal(masks[0], masks[1])
        print(f"C API {file}: max |rill - pytorch reference| = {err:.2e}; .tflite and converted .rill "
              f"{'identical' if same else 'DIFFER'}")
        ok = ok and err <= 1e-3 and same
        if h == 256:
            stream = rill.load(str(converted)).stream()
            stream.set_param("smoothing", 0.0)
            full = stream.process_image(pixels, out_size=(512, 512))[0][..., 0]
            regions = {"face": full[80:170, 210:290].mean(), "torso": full[240:400, 80:260].mean(),
                       "top-left corner": full[:80, :80].mean(), "top-right corner": full[:80, -80:].mean()}
            print("  at 512x512: " + ", ".join(f"{k} {v:.3f}" for k, v in regions.items()))
            ok = ok and regions["face"] > 0.8 and regions["torso"] > 0.8
            ok = ok and regions["top-left corner"] < 0.2 and regions["top-right corner"] < 0.2
    return ok


def main():
    runner, work = sys.argv[1], pathlib.Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    models = fetch(work)
    photo = data.astronaut().astype(np.float32) / 255.0
    ok = True
    for file, (h, w) in [("selfie_segmentation.tflite", (256, 256)),
                         ("selfie_segmentation_landscape.tflite", (144, 256))]:
        x = transform.resize(photo, (h, w), order=1, anti_aliasing=True).astype(np.float32)
        x_path = work / f"input_{h}x{w}.f32"
        x.transpose(2, 0, 1)[None].copy().tofile(x_path)  # NCHW, as Rill's planar frames
        prefix = work / f"mask_{h}x{w}_"
        subprocess.run([runner, models / file, x_path, "-o", prefix], check=True)
        mask = np.fromfile(f"{prefix}0.f32", dtype=np.float32).reshape(h, w)
        (ref,) = tflite_reference.run(tflite_reference.read_model(models / file), [x[None]])
        err = np.abs(mask - ref.reshape(h, w)).max()
        print(f"{file}: max |rill - pytorch reference| = {err:.2e}")
        ok = ok and err <= 1e-3
        if h == 256:
            regions = {"face": mask[40:85, 105:145].mean(), "torso": mask[120:200, 40:130].mean(),
                       "top-left corner": mask[:40, :40].mean(), "top-right corner": mask[:40, -40:].mean()}
            print("  mean person probability: " + ", ".join(f"{k} {v:.3f}" for k, v in regions.items()))
            ok = ok and regions["face"] > 0.8 and regions["torso"] > 0.8
            ok = ok and regions["top-left corner"] < 0.2 and regions["top-right corner"] < 0.2
    if len(sys.argv) > 3 and rill is not None:
        ok = check_c_api(models, work, sys.argv[3]) and ok
    elif len(sys.argv) > 3:
        print("the rill binding is not importable: the C API checks cannot run")
        ok = False
    print("selfie models: " + ("all checks passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
