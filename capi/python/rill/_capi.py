"""ctypes binding of rill.h: models and streams taking and returning numpy arrays.

    model = rill.load("model.rill")            # or rill.load(raw_bytes)
    s = model.stream(max_block_frames=512)     # one live signal
    y = s.process(x)                           # x [C, n] float32 -> y [Co, n], any n <= 512
    s.set_param("drive", 0.7); s.reset(); blob = s.get_state(); s.set_state(blob)
    y = model.process_offline(x)               # whole signal, output aligned (latency removed)
    masks = model.stream().process_image(rgb)  # image models: uint8 [H, W, 3] (or float) in,
                                               # one float32 [h, w, planes] per output port

The library is found through $RILL_LIBRARY, then the repository's build directories (build/capi
first; sanitizer builds are skipped, they cannot be loaded into a plain python), then the system
library path. Errors raise RillError with the status name and rill_last_error_detail()."""

import ctypes
import json
import ctypes.util
import os
import pathlib

import numpy as np

RILL_OK = 0
RILL_NONFINITE_REPLACED = 1
NONFINITE_ZERO, NONFINITE_REJECT, NONFINITE_PASS = 0, 1, 2
_POLICIES = {"zero": NONFINITE_ZERO, "reject": NONFINITE_REJECT, "pass": NONFINITE_PASS}
ERR_INVALID_ARGUMENT = -1

# rill_status values -> names (as in rill.h); rill_status_string gives the English sentence.
STATUS_NAMES = {0: "RILL_OK", 1: "RILL_NONFINITE_REPLACED", -1: "RILL_ERR_INVALID_ARGUMENT",
                -2: "RILL_ERR_IO", -3: "RILL_ERR_FORMAT", -4: "RILL_ERR_UNSUPPORTED",
                -5: "RILL_ERR_OUT_OF_MEMORY", -6: "RILL_ERR_BLOCK_TOO_LARGE",
                -7: "RILL_ERR_NONFINITE_INPUT", -8: "RILL_ERR_STATE_MISMATCH",
                -9: "RILL_ERR_INTERNAL"}


class RillError(RuntimeError):
    """A Rill call failed. `status` is the rill_status code, `status_name` its RILL_* name,
    `detail` the library's explanation (rill_last_error_detail, "" for real-time calls)."""

    def __init__(self, status, message, detail=""):
        super().__init__(message)
        self.status = status
        self.status_name = STATUS_NAMES.get(status, f"status {status}")
        self.detail = detail


class _PortInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("kind", ctypes.c_uint32),
                ("channels", ctypes.c_uint32), ("sample_rate", ctypes.c_double)]


class _ParamInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("unit", ctypes.c_char_p), ("min_value", ctypes.c_float),
                ("max_value", ctypes.c_float), ("default_value", ctypes.c_float)]


class _ModelInfo(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("num_inputs", ctypes.c_uint32),
                ("num_outputs", ctypes.c_uint32), ("num_params", ctypes.c_uint32),
                ("input_channels", ctypes.c_uint32), ("output_channels", ctypes.c_uint32),
                ("sample_rate", ctypes.c_double), ("latency_frames", ctypes.c_uint32),
                ("hop_frames", ctypes.c_uint32), ("num_weights", ctypes.c_uint64),
                ("description", ctypes.c_char_p), ("license", ctypes.c_char_p),
                ("source", ctypes.c_char_p)]


class _LoadOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("import_options", ctypes.c_char_p)]


class _NodeInfo(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("name", ctypes.c_char_p),
                ("op", ctypes.c_char_p),
                ("channels", ctypes.c_uint32), ("rate_num", ctypes.c_uint32),
                ("rate_den", ctypes.c_uint32), ("latency", ctypes.c_uint32)]


class _StreamConfig(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("sample_rate", ctypes.c_double),
                ("max_block_frames", ctypes.c_uint32), ("nonfinite_policy", ctypes.c_uint32),
                ("flags", ctypes.c_uint32)]


class _ImageInfo(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("width", ctypes.c_uint32),
                ("height", ctypes.c_uint32), ("planes", ctypes.c_uint32)]


class _Image(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("width", ctypes.c_uint32),
                ("height", ctypes.c_uint32), ("stride", ctypes.c_uint32),
                ("pixel_format", ctypes.c_uint32), ("data", ctypes.c_void_p)]


PIXEL_RGB8, PIXEL_BGR8, PIXEL_RGBA8, PIXEL_BGRA8, PIXEL_GRAY8, PIXEL_GRAY_F32, PIXEL_RGB_F32 = range(7)
KIND_NAMES = {0: "audio", 1: "frames", 2: "image"}


def _sanitized(build):
    cache = build / "CMakeCache.txt"
    try:
        return "RILL_ENABLE_SANITIZERS:BOOL=ON" in cache.read_text(errors="replace")
    except OSError:
        return False


def _find_library():
    env = os.environ.get("RILL_LIBRARY")
    if env:
        return env
    repo = pathlib.Path(__file__).resolve().parents[3]
    found = []
    for build in repo.glob("build*"):
        lib_path = build / "capi" / "librill.so"
        if lib_path.exists() and not _sanitized(build):
            found.append((build.name != "build", -lib_path.stat().st_mtime, str(lib_path)))
    if found:
        return min(found)[2]  # build/ first, else the newest build
    name = ctypes.util.find_library("rill")
    if not name:
        raise RillError(ERR_INVALID_ARGUMENT, "librill.so not found: set RILL_LIBRARY to its path "
                        "or build the project (cmake -S . -B build && cmake --build build)")
    return name


_lib = None


def lib():
    """The loaded librill (ctypes.CDLL) with every rill.h signature declared."""
    global _lib
    if _lib is not None:
        return _lib
    path = _find_library()
    try:
        L = ctypes.CDLL(path)
    except OSError as e:
        raise RillError(ERR_INVALID_ARGUMENT, f"cannot load {path}: {e}") from None
    P, c_int32, c_uint32, c_size = ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint32, ctypes.c_size_t
    sig = {
        "rill_status_string": (ctypes.c_char_p, [c_int32]),
        "rill_last_error_detail": (ctypes.c_char_p, []),
        "rill_version_string": (ctypes.c_char_p, []),
        "rill_version_number": (c_uint32, []),
        "rill_model_load": (c_int32, [ctypes.c_char_p, P, ctypes.POINTER(P)]),
        "rill_model_load_memory": (c_int32, [ctypes.c_char_p, c_size, P, ctypes.POINTER(P)]),
        "rill_model_retain": (None, [P]),
        "rill_model_release": (None, [P]),
        "rill_load_options_init": (None, [ctypes.POINTER(_LoadOptions)]),
        "rill_model_info_init": (None, [ctypes.POINTER(_ModelInfo)]),
        "rill_model_info_get": (c_int32, [P, ctypes.POINTER(_ModelInfo)]),
        "rill_model_input": (c_int32, [P, c_uint32, ctypes.POINTER(_PortInfo)]),
        "rill_model_output": (c_int32, [P, c_uint32, ctypes.POINTER(_PortInfo)]),
        "rill_model_param": (c_int32, [P, c_uint32, ctypes.POINTER(_ParamInfo)]),
        "rill_model_find_param": (c_int32, [P, ctypes.c_char_p]),
        "rill_model_save": (c_int32, [P, ctypes.c_char_p]),
        "rill_node_info_init": (None, [ctypes.POINTER(_NodeInfo)]),
        "rill_model_node_count": (c_uint32, [P]),
        "rill_model_node": (c_int32, [P, c_uint32, ctypes.POINTER(_NodeInfo)]),
        "rill_stream_config_init": (None, [ctypes.POINTER(_StreamConfig)]),
        "rill_stream_create": (c_int32, [P, ctypes.POINTER(_StreamConfig), ctypes.POINTER(P)]),
        "rill_stream_destroy": (None, [P]),
        "rill_stream_process": (c_int32, [P, P, P, c_uint32]),
        "rill_stream_set_param": (c_int32, [P, c_uint32, ctypes.c_float]),
        "rill_stream_get_param": (c_int32, [P, c_uint32, ctypes.POINTER(ctypes.c_float)]),
        "rill_stream_reset": (c_int32, [P]),
        "rill_stream_latency_frames": (c_uint32, [P]),
        "rill_stream_memory_bytes": (c_size, [P]),
        "rill_stream_state_size": (c_size, [P]),
        "rill_stream_state_get": (c_int32, [P, ctypes.c_char_p, c_size]),
        "rill_stream_state_set": (c_int32, [P, ctypes.c_char_p, c_size]),
        "rill_image_info_init": (None, [ctypes.POINTER(_ImageInfo)]),
        "rill_image_init": (None, [ctypes.POINTER(_Image)]),
        "rill_model_input_image": (c_int32, [P, c_uint32, ctypes.POINTER(_ImageInfo)]),
        "rill_model_output_image": (c_int32, [P, c_uint32, ctypes.POINTER(_ImageInfo)]),
        "rill_stream_process_image": (c_int32, [P, P, P]),
    }
    for name, (res, args) in sig.items():
        try:
            f = getattr(L, name)
        except AttributeError:
            raise RillError(ERR_INVALID_ARGUMENT,
                            f"{path} lacks {name}: an older librill?") from None
        f.restype, f.argtypes = res, args
    _lib = L
    return L


def _check(status, what, realtime=False):
    """Raises RillError for a negative status. Real-time calls never write the detail message
    (rill.h), so theirs is not read: it would be a stale one from an earlier call."""
    if status < 0:
        L = lib()
        detail = "" if realtime else (L.rill_last_error_detail() or b"").decode(errors="replace")
        text = L.rill_status_string(status).decode(errors="replace")
        name = STATUS_NAMES.get(status, f"status {status}")
        raise RillError(status, f"{what}: {name} ({text})" + (f": {detail}" if detail else ""),
                        detail)
    return status


def _text(p):
    return p.decode(errors="replace") if p else ""


def version():
    """The loaded library's version string, e.g. "0.1.0"."""
    return lib().rill_version_string().decode()


def version_number():
    return lib().rill_version_number()


class _Handle:
    """Owns one library handle: close() (or leaving a `with` block, or garbage collection)
    frees it once, through the function named by _FREE."""

    _FREE = None

    def close(self):
        """Frees the handle now (a model's streams keep their own reference)."""
        if getattr(self, "_h", None) and _lib is not None:
            getattr(_lib, self._FREE)(self._h)
        self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Model(_Handle):
    """An immutable loaded model, shared by any number of streams.

    Attributes: sample_rate, latency_frames (default stream config), hop_frames, input_channels,
    output_channels, num_weights, description, license, source, inputs / outputs (lists of
    {name, kind, channels, sample_rate}), params ({name, unit, min, max, default}) and nodes (the
    planned graph: {name, op, channels, rate, latency})."""

    _FREE = "rill_model_release"

    def __init__(self, source, import_options=None):
        """source: path or bytes of a .rill file or of a file imported on load (ONNX, rwkv.cpp);
        import_options: dict (or JSON text) of import options for ONNX files (docs/onnx.md)."""
        L = lib()
        handle = ctypes.c_void_p()
        opts = None
        if import_options is not None:
            text = import_options if isinstance(import_options, str) else json.dumps(import_options)
            opts = _LoadOptions()
            L.rill_load_options_init(ctypes.byref(opts))
            opts.import_options = text.encode()
            opts = ctypes.byref(opts)
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            _check(L.rill_model_load_memory(data, len(data), opts, ctypes.byref(handle)),
                   "rill_model_load_memory")
            self.path = None
        else:
            path = os.fspath(source)
            _check(L.rill_model_load(os.fsencode(path), opts, ctypes.byref(handle)),
                   f"rill_model_load({path})")
            self.path = str(path)
        self._h = handle
        info = _ModelInfo()
        L.rill_model_info_init(ctypes.byref(info))
        _check(L.rill_model_info_get(self._h, ctypes.byref(info)), "rill_model_info_get")
        self.sample_rate = info.sample_rate
        self.latency_frames = info.latency_frames
        self.hop_frames = info.hop_frames
        self.input_channels = info.input_channels
        self.output_channels = info.output_channels
        self.num_weights = info.num_weights
        self.description = _text(info.description)
        self.license = _text(info.license)
        self.source = _text(info.source)
        self.inputs = [self._port(L.rill_model_input, i) for i in range(info.num_inputs)]
        self.outputs = [self._port(L.rill_model_output, i) for i in range(info.num_outputs)]
        self.params = []
        for i in range(info.num_params):
            p = _ParamInfo()
            _check(L.rill_model_param(self._h, i, ctypes.byref(p)), "rill_model_param")
            self.params.append({"name": _text(p.name), "unit": _text(p.unit),
                                "min": p.min_value, "max": p.max_value,
                                "default": p.default_value})
        self.nodes = []
        for i in range(L.rill_model_node_count(self._h)):
            n = _NodeInfo()
            L.rill_node_info_init(ctypes.byref(n))
            _check(L.rill_model_node(self._h, i, ctypes.byref(n)), "rill_model_node")
            self.nodes.append({"name": _text(n.name), "op": _text(n.op), "channels": n.channels,
                               "rate": (n.rate_num, n.rate_den), "latency": n.latency})

    def _port(self, fn, i):
        L = lib()
        p = _PortInfo()
        _check(fn(self._h, i, ctypes.byref(p)), "rill_model_port")
        port = {"name": _text(p.name), "kind": KIND_NAMES.get(p.kind, "frames"),
                "channels": p.channels, "sample_rate": p.sample_rate}
        if port["kind"] == "image":
            g = _ImageInfo()
            L.rill_image_info_init(ctypes.byref(g))
            image_fn = L.rill_model_input_image if fn == L.rill_model_input else L.rill_model_output_image
            _check(image_fn(self._h, i, ctypes.byref(g)), "rill_model_port_image")
            port.update(width=g.width, height=g.height, planes=g.planes)
        return port

    @property
    def info(self):
        """Everything rill_model_info_get and the port/param queries say, as one dict."""
        return {"sample_rate": self.sample_rate, "latency_frames": self.latency_frames,
                "hop_frames": self.hop_frames, "input_channels": self.input_channels,
                "output_channels": self.output_channels, "num_weights": self.num_weights,
                "inputs": self.inputs, "outputs": self.outputs, "params": self.params,
                "description": self.description, "license": self.license, "source": self.source}

    def param_index(self, name_or_index):
        if isinstance(name_or_index, (int, np.integer)):
            if not 0 <= name_or_index < len(self.params):
                raise RillError(ERR_INVALID_ARGUMENT, f"parameter index {name_or_index} out of "
                                f"range (the model has {len(self.params)})")
            return int(name_or_index)
        i = lib().rill_model_find_param(self._h, str(name_or_index).encode())
        if i < 0:
            names = [p["name"] for p in self.params]
            raise RillError(ERR_INVALID_ARGUMENT,
                            f"the model has no parameter {name_or_index!r} (it has {names})")
        return i

    def __repr__(self):
        return (f"<rill.Model {self.path or 'from memory'}: {self.input_channels} -> "
                f"{self.output_channels} channels at {self.sample_rate:g} Hz, latency "
                f"{self.latency_frames} frames, params {[p['name'] for p in self.params]}>")

    def save(self, path):
        """Writes the model as a .rill file (converts a model imported on load, e.g. ONNX)."""
        path = os.fspath(path)
        _check(lib().rill_model_save(self._h, os.fsencode(path)), f"rill_model_save({path})")

    def stream(self, max_block_frames=4096, nonfinite=NONFINITE_ZERO, sample_rate=0.0):
        """A new Stream. nonfinite: NONFINITE_ZERO/REJECT/PASS or "zero"/"reject"/"pass"."""
        return Stream(self, max_block_frames, nonfinite, sample_rate)

    def process_offline(self, x, params=None, block=1024):
        """Streams x [C, T] (or [T] for one channel) followed by latency zeros, in blocks of
        `block` frames, and returns the output aligned with x: [Co, T]. params: {name: value}."""
        s = self.stream(max_block_frames=block)
        for name, value in (params or {}).items():
            s.set_param(name, value)
        x = _as_planar(x, self.input_channels)
        L = s.latency_frames
        padded = np.concatenate([x, np.zeros((x.shape[0], L), np.float32)], axis=1)
        out = [s.process(padded[:, i:i + block]) for i in range(0, padded.shape[1], block)]
        if not out:
            return np.zeros((self.output_channels, 0), np.float32)
        out = np.concatenate(out, axis=1)
        return out[:, L:]


def _as_planar(x, channels):
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1 and channels == 1:
        x = x[None]
    if x.ndim != 2:
        raise RillError(ERR_INVALID_ARGUMENT, f"expected a [channels, frames] array, got shape "
                        f"{x.shape}")
    if x.shape[0] != channels:
        raise RillError(ERR_INVALID_ARGUMENT, f"input has {x.shape[0]} channels, the model "
                        f"expects {channels}")
    return np.ascontiguousarray(x)


class Stream(_Handle):
    """One live signal's state (not thread-safe: one thread at a time).

    process(x [C, n]) -> [Co, n] float32, output delayed by latency_frames. last_status holds the
    status of the last process call (RILL_NONFINITE_REPLACED = 1 when NaN/Inf input was zeroed)."""

    _FREE = "rill_stream_destroy"

    def __init__(self, model, max_block_frames=4096, nonfinite=NONFINITE_ZERO, sample_rate=0.0):
        L = lib()
        if model._h is None:
            raise RillError(ERR_INVALID_ARGUMENT, "the model was closed")
        self.model = model
        if isinstance(nonfinite, str):
            if nonfinite not in _POLICIES:
                raise RillError(ERR_INVALID_ARGUMENT, f"nonfinite must be one of {list(_POLICIES)}")
            nonfinite = _POLICIES[nonfinite]
        cfg = _StreamConfig()
        L.rill_stream_config_init(ctypes.byref(cfg))
        cfg.max_block_frames = int(max_block_frames)
        cfg.nonfinite_policy = int(nonfinite)
        cfg.sample_rate = float(sample_rate)
        handle = ctypes.c_void_p()
        _check(L.rill_stream_create(model._h, ctypes.byref(cfg), ctypes.byref(handle)),
               "rill_stream_create")
        self._h = handle
        self.max_block_frames = cfg.max_block_frames or 4096
        self.last_status = RILL_OK
        self._out = None

    def _handle(self):
        if self._h is None:
            raise RillError(ERR_INVALID_ARGUMENT, "the stream was closed")
        return self._h

    @property
    def latency_frames(self):
        return lib().rill_stream_latency_frames(self._handle())

    @property
    def memory_bytes(self):
        return lib().rill_stream_memory_bytes(self._handle())

    @property
    def state_size(self):
        return lib().rill_stream_state_size(self._handle())

    def process(self, x):
        """x: [C, n] (or [n] for a mono model), 1 <= n <= max_block_frames. Returns [Co, n]."""
        h = self._handle()
        x = _as_planar(x, self.model.input_channels)
        n = x.shape[1]
        out = np.zeros((self.model.output_channels, n), np.float32)
        if n == 0:
            return out
        if n > self.max_block_frames:
            raise RillError(-6, f"rill_stream_process: RILL_ERR_BLOCK_TOO_LARGE: {n} frames > "
                            f"max_block_frames {self.max_block_frames}")
        in_ptrs = (ctypes.c_void_p * max(1, x.shape[0]))(*[x[c].ctypes.data
                                                          for c in range(x.shape[0])])
        out_ptrs = (ctypes.c_void_p * max(1, out.shape[0]))(*[out[c].ctypes.data
                                                             for c in range(out.shape[0])])
        self.last_status = _check(lib().rill_stream_process(h, in_ptrs, out_ptrs, n),
                                  "rill_stream_process", realtime=True)
        return out

    def process_image(self, *images, out_size=None):
        """One video frame through an image model: one image per input port, each uint8 or
        float32 [H, W, 3] (RGB) or [H, W] (gray), any size (the library resamples). Returns one
        float32 [h, w, planes] array per output port, at out_size (w, h) or the port's size."""
        L, h = lib(), self._handle()
        inputs = [p for p in self.model.inputs]
        if len(images) != len(inputs):
            raise RillError(ERR_INVALID_ARGUMENT, f"process_image takes {len(inputs)} image(s)")
        keep, descs = [], []
        for img in images:
            img = np.ascontiguousarray(img)
            gray = img.ndim == 2
            if img.dtype == np.uint8:
                fmt = PIXEL_GRAY8 if gray else PIXEL_RGB8
            else:
                img = np.ascontiguousarray(img, np.float32)
                fmt = PIXEL_GRAY_F32 if gray else PIXEL_RGB_F32
            if not gray and (img.ndim != 3 or img.shape[2] != 3):
                raise RillError(ERR_INVALID_ARGUMENT, f"an image must be [H, W, 3] or [H, W], got {img.shape}")
            d = _Image()
            L.rill_image_init(ctypes.byref(d))
            d.width, d.height, d.pixel_format, d.data = img.shape[1], img.shape[0], fmt, img.ctypes.data
            keep.append(img)
            descs.append(d)
        results, out_descs = [], []
        for port in self.model.outputs:
            if port["kind"] != "image":
                results.append(None)
                out_descs.append(None)
                continue
            w, hh = out_size if out_size else (port["width"], port["height"])
            arr = np.zeros((hh, w, 1 if port["planes"] == 1 else 3), np.float32)
            d = _Image()
            L.rill_image_init(ctypes.byref(d))
            d.width, d.height, d.data = w, hh, arr.ctypes.data
            d.pixel_format = PIXEL_GRAY_F32 if port["planes"] == 1 else PIXEL_RGB_F32
            results.append(arr)
            out_descs.append(d)
        in_ptrs = (ctypes.c_void_p * len(descs))(*[ctypes.addressof(d) for d in descs])
        out_ptrs = (ctypes.c_void_p * max(1, len(out_descs)))(
            *[ctypes.addressof(d) if d is not None else None for d in out_descs])
        self.last_status = _check(L.rill_stream_process_image(h, in_ptrs, out_ptrs),
                                  "rill_stream_process_image", realtime=True)
        return results

    def set_param(self, name_or_index, value):
        """Sets a model parameter (clamped by the library to [min, max]); NaN/Inf is an error."""
        i = self.model.param_index(name_or_index)
        _check(lib().rill_stream_set_param(self._handle(), i, float(value)),
               f"rill_stream_set_param({name_or_index!r}, {value})", realtime=True)

    def get_param(self, name_or_index):
        v = ctypes.c_float()
        _check(lib().rill_stream_get_param(self._handle(), self.model.param_index(name_or_index),
                                           ctypes.byref(v)), "rill_stream_get_param", True)
        return v.value

    def reset(self):
        """Back to the state right after creation; parameters keep their values."""
        _check(lib().rill_stream_reset(self._handle()), "rill_stream_reset", realtime=True)

    def get_state(self):
        """An opaque snapshot (bytes) for set_state on a stream of the same model and config."""
        L = lib()
        buf = ctypes.create_string_buffer(L.rill_stream_state_size(self._handle()))
        _check(L.rill_stream_state_get(self._h, buf, len(buf)), "rill_stream_state_get", True)
        return buf.raw

    def set_state(self, blob):
        blob = bytes(blob)
        _check(lib().rill_stream_state_set(self._handle(), blob, len(blob)),
               "rill_stream_state_set", realtime=True)


def load(source, import_options=None):
    """Loads a model from a path (str / os.PathLike) or from bytes: .rill, or ONNX / rwkv.cpp
    files imported on load (import_options: dict of ONNX import options)."""
    return Model(source, import_options)
