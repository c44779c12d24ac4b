"""Tests of the webcam demo (apps/webcam) on a generated clip, run by ctest:
  setup     makes the clip: the astronaut photo (Debian's python3-skimage, public domain NASA image)
            cropped 480x480 with the crop moving 32 pixels right over 1 s (30 frames, H.264), a
            copy of it cut to 40 % of its bytes, a green background image; fetches the MediaPipe
            selfie models from npm as tests/tflite/test_selfie.py does (its cache is reused).
  headless  --headless runs on the clip with the general model: PNG frames, masks and summary.json
            written; the mask is high on the face and torso and low on the backdrop; with a green
            replacement background the output equals the input on the person and is green on the
            backdrop; with blur the output differs from the input on the flag and not on the face.
            A few frames with the landscape model.
  window    under Xvfb: the window opens (xwininfo finds it), a screenshot is saved, SIGTERM stops
            the program cleanly (exit 0, summary printed).
  vanished  a missing camera, a missing file, a truncated file and a GStreamer source that stops
            mid-run: a message naming the source, exit status 3, no crash.
Exit 77 (ctest skip) only when the models are absent and cannot be fetched.
Usage: test_webcam.py {setup|headless|window|vanished} WEBCAM WORK_DIR [ARTIFACTS_DIR]"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
from PIL import Image

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SKIP = 77
FRAMES = 30
SHIFT = 32  # pixels the crop moves over the clip

# Regions in the astronaut photo's 512x512 coordinates: (row0, row1, col0, col1).
FACE = (100, 160, 195, 255)  # below the read-out panel (rows 8-96)
TORSO = (240, 400, 80, 260)
BACKDROP = (0, 60, 440, 512)  # grey backdrop, top right
FLAG = (120, 220, 0, 60)      # flag stripes, left (below the read-out panel)


def frame_region(region, n):
    """The part of an astronaut region inside frame n (crop x offset grows with n), in frame
    coordinates."""
    r0, r1, c0, c1 = region
    dx = round(SHIFT * n / FRAMES)
    return r0, r1, max(c0 - dx, 0), min(c1 - dx, 480)


def mean_in(img, region, n):
    r0, r1, c0, c1 = frame_region(region, n)
    return float(np.asarray(img, dtype=np.float64)[r0:r1, c0:c1].mean())


def png(path):
    return np.asarray(Image.open(path), dtype=np.float64)


def run(cmd, **kw):
    print("$ " + " ".join(map(str, cmd)), flush=True)
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def find_models(work, fetch_ok=True):
    """The selfie models: ours, else the TFLite test's cache, else models/ (scripts/fetch-models.sh),
    else fetched from npm (as tests/tflite/test_selfie.py does). None when they are absent and
    cannot be fetched."""
    names = ("selfie_segmentation.tflite", "selfie_segmentation_landscape.tflite")
    build = work.parents[2]  # <build>/apps/webcam/work
    for d in (work / "selfie", build / "tests" / "tflite" / "work" / "selfie", ROOT / "models"):
        if all((d / n).exists() for n in names):
            return d
    if not fetch_ok:
        return None
    sys.path.insert(0, str(ROOT / "tests" / "tflite"))
    from test_selfie import fetch
    try:
        return fetch(work)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"selfie models could not be fetched from npm: {e}")
        return None


def setup(work):
    work.mkdir(parents=True, exist_ok=True)
    from skimage import data
    Image.fromarray(data.astronaut()).save(work / "astronaut.png")
    Image.new("RGB", (64, 48), (0, 255, 0)).save(work / "green.png")
    clip = work / "clip.mp4"
    r = run(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-framerate", "30", "-i",
             work / "astronaut.png", "-vf", f"crop=480:480:'min({SHIFT},t*{SHIFT})':0",
             "-frames:v", FRAMES, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12",
             "-pix_fmt", "yuv420p", "-movflags", "+faststart", clip])
    if r.returncode != 0:
        print(r.stderr)
        return 1
    data_bytes = clip.read_bytes()
    (work / "truncated.mp4").write_bytes(data_bytes[: len(data_bytes) * 4 // 10])
    # The frames as decoded by ffmpeg itself: the reference the outputs are compared with.
    (work / "input").mkdir(exist_ok=True)
    r = run(["ffmpeg", "-v", "error", "-y", "-i", clip, work / "input" / "%05d.png"])
    if r.returncode != 0:
        print(r.stderr)
        return 1
    models = find_models(work)
    print(f"models: {models}" if models else "models: absent")
    return 0


def models_or_skip(work):
    d = find_models(work, fetch_ok=False)  # the setup test fetched them if it could
    if d is None:
        print("SKIP: the selfie models are absent and the npm registry is out of reach "
              "(scripts/fetch-models.sh fetches them into models/)")
        sys.exit(SKIP)
    return d


def headless(webcam, work):
    models = models_or_skip(work)
    ok = True

    def check(cond, what):
        nonlocal ok
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        ok = ok and cond

    def input_frame(n):
        return png(work / "input" / f"{n + 1:05d}.png")  # ffmpeg counts from 1

    # 1. Blur, read-out drawn, masks written.
    out = work / "out_blur"
    shutil.rmtree(out, ignore_errors=True)
    r = run([webcam, "--headless", "--video", work / "clip.mp4", "--model",
             models / "selfie_segmentation.tflite", "--blur", 16, "--out", out, "--write-mask",
             "--frames", FRAMES])
    print(r.stdout + r.stderr)
    check(r.returncode == 0, f"blur run exits 0 (got {r.returncode})")
    frames = sorted(out.glob("frame_*.png"))
    masks = sorted(out.glob("mask_*.png"))
    check(len(frames) == FRAMES and len(masks) == FRAMES, f"{len(frames)} frames, {len(masks)} masks")
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    check(summary.get("frames") == FRAMES and summary.get("fps", 0) > 0, "summary.json: frames, fps")
    for key in ("model_ms", "end_to_end_ms"):
        t = summary.get(key, {})
        check(0 < t.get("p50", 0) <= t.get("p99", 0), f"summary.json: {key} p50 {t.get('p50')} "
              f"p99 {t.get('p99')}")
    if not ok:
        return 1
    for n in (0, FRAMES // 2, FRAMES - 1):
        m = png(masks[n]) / 255
        face, torso = mean_in(m, FACE, n), mean_in(m, TORSO, n)
        backdrop, flag = mean_in(m, BACKDROP, n), mean_in(m, FLAG, n)
        check(face > 0.8 and torso > 0.8 and backdrop < 0.2 and flag < 0.2,
              f"frame {n} mask: face {face:.2f} torso {torso:.2f} backdrop {backdrop:.2f} "
              f"flag {flag:.2f}")
        diff = np.abs(png(frames[n]) - input_frame(n)).mean(axis=2)
        d_face, d_flag = mean_in(diff, FACE, n), mean_in(diff, FLAG, n)
        check(d_face < 4 and d_flag > 10,
              f"frame {n} blur: |out - in| face {d_face:.1f}, flag {d_flag:.1f}")

    # 2. Green replacement background, no read-out.
    out = work / "out_green"
    shutil.rmtree(out, ignore_errors=True)
    r = run([webcam, "--headless", "--video", work / "clip.mp4", "--model",
             models / "selfie_segmentation.tflite", "--background", work / "green.png",
             "--no-overlay", "--smoothing", "0.5", "--out", out])
    print(r.stdout + r.stderr)
    check(r.returncode == 0, f"background run exits 0 (got {r.returncode})")
    frames = sorted(out.glob("frame_*.png"))
    check(len(frames) == FRAMES, f"the whole clip without --frames: {len(frames)} frames")
    for n in (0, FRAMES - 1) if len(frames) == FRAMES else ():
        img, ref = png(frames[n]), input_frame(n)
        d_face = mean_in(np.abs(img - ref).mean(axis=2), FACE, n)
        d_torso = mean_in(np.abs(img - ref).mean(axis=2), TORSO, n)
        green = np.abs(img - np.array([0, 255, 0])).mean(axis=2)
        g_backdrop, g_flag = mean_in(green, BACKDROP, n), mean_in(green, FLAG, n)
        check(d_face < 4 and d_torso < 8 and g_backdrop < 30 and g_flag < 30,
              f"frame {n} green: |out - in| face {d_face:.1f} torso {d_torso:.1f}; "
              f"|out - green| backdrop {g_backdrop:.1f} flag {g_flag:.1f}")

    # 3. The landscape model (144x256 input) on the same frames: runs, writes its summary.
    out = work / "out_landscape"
    shutil.rmtree(out, ignore_errors=True)
    r = run([webcam, "--headless", "--video", work / "clip.mp4", "--model",
             models / "selfie_segmentation_landscape.tflite", "--out", out, "--frames", 5])
    print(r.stdout + r.stderr)
    check(r.returncode == 0 and len(list(out.glob("frame_*.png"))) == 5, "landscape model, 5 frames")
    print("webcam headless: " + ("all checks passed" if ok else "FAILED"))
    return 0 if ok else 1


def window(webcam, work, artifacts):
    """Run inside xvfb-run (see CMakeLists.txt): DISPLAY is set."""
    models = find_models(work, fetch_ok=False)
    cmd = [webcam, "--video", work / "clip.mp4", "--loop", "--blur", 16]
    if models:
        cmd += ["--model", models / "selfie_segmentation.tflite", "--smoothing", "0.3"]
    print("$ " + " ".join(map(str, cmd)), flush=True)
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wid = None
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            r = subprocess.run(["xwininfo", "-name", "rill webcam"], capture_output=True, text=True)
            if r.returncode == 0:
                wid = next(line.split()[3] for line in r.stdout.splitlines() if "Window id" in line)
                break
            time.sleep(0.2)
        if wid is None:
            print("FAIL: no window named 'rill webcam' (program exit status "
                  f"{proc.poll()})")
            return 1
        print(f"ok   window {wid} is open")
        time.sleep(3)  # a few seconds of frames, the read-out settles
        artifacts.mkdir(parents=True, exist_ok=True)
        shot = artifacts / "webcam-window.png"
        r = run(["import", "-window", wid, shot])
        if r.returncode != 0 or not shot.exists():
            print(f"FAIL: screenshot: {r.stderr}")
            return 1
        img = png(shot)
        print(f"ok   screenshot {shot} ({img.shape[1]}x{img.shape[0]}, std {img.std():.1f})")
        if img.std() < 10:
            print("FAIL: the screenshot is blank")
            return 1
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            print("FAIL: the program did not stop within 20 s of SIGTERM")
            return 1
    print(out + err)
    if proc.returncode != 0 or "frames" not in out:
        print(f"FAIL: exit status {proc.returncode} after SIGTERM (expected 0 and a summary)")
        return 1
    print("ok   stopped cleanly by SIGTERM\nwebcam window: all checks passed")
    return 0


def vanished(webcam, work):
    gst = ("videotestsrc num-buffers=15 ! video/x-raw,width=320,height=240 ! videoconvert ! "
           "video/x-raw,format=BGR ! appsink")
    cases = [
        ("missing camera", ["--camera", "9"], "/dev/video9"),
        ("missing file", ["--video", work / "no-such-clip.mp4"], "no such file"),
        ("truncated file", ["--video", work / "truncated.mp4"], "truncated"),
        ("source stops mid-run", ["--pipeline", gst], "stopped delivering frames after 15"),
    ]
    ok = True
    for name, args, expected in cases:
        r = run([webcam, "--headless", "--frames", 100, "--out", work / "out_vanished", *args],
                timeout=60)
        print(r.stdout + r.stderr)
        good = r.returncode == 3 and expected in r.stderr
        print(("ok   " if good else "FAIL ") + f"{name}: exit status {r.returncode}, "
              f"message {'names' if expected in r.stderr else 'lacks'} '{expected}'")
        ok = ok and good
    print("webcam vanished sources: " + ("all checks passed" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    what, webcam, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    if what == "setup":
        return setup(work)
    if what == "headless":
        return headless(webcam, work)
    if what == "window":
        return window(webcam, work, pathlib.Path(sys.argv[4]))
    if what == "vanished":
        return vanished(webcam, work)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
