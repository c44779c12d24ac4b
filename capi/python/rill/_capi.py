"""ctypes binding of rill.h: models and streams taking and returning numpy arrays.

The library is found through $RILL_LIBRARY, then the repository's build directories, then the
system library path."""

import ctypes
import ctypes.util
import os
import pathlib

import numpy as np

_STATUS_NONFINITE_REPLACED = 1
NONFINITE_ZERO, NONFINITE_REJECT, NONFINITE_PASS = 0, 1, 2


class RillError(RuntimeError):
    """A Rill call failed: `status` is the rill_status code."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


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


class _NodeInfo(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("name", ctypes.c_char_p), ("op", ctypes.c_char_p),
                ("channels", ctypes.c_uint32), ("rate_num", ctypes.c_uint32),
                ("rate_den", ctypes.c_uint32), ("latency", ctypes.c_uint32)]


class _StreamConfig(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("sample_rate", ctypes.c_double),
                ("max_block_frames", ctypes.c_uint32), ("nonfinite_policy", ctypes.c_uint32),
                ("flags", ctypes.c_uint32)]


def _find_library():
    env = os.environ.get("RILL_LIBRARY")
    if env:
        return env
    repo = pathlib.Path(__file__).resolve().parents[3]
    for build in sorted(repo.glob("build*")):
        for name in ("librill.so", "librill.so.0"):
            p = build / "capi" / name
            if p.exists():
                return str(p)
    found = ctypes.util.find_library("rill")
    if not found:
        raise RillError(-1, "librill.so not found: set RILL_LIBRARY or build the project")
    return found


_lib = None


def lib():
    global _lib
    if _lib is not None:
        return _lib
    L = ctypes.CDLL(_find_library())
    P, c_int32, c_uint32, c_size = ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint32, ctypes.c_size_t
    sig = {
        "rill_status_string": (ctypes.c_char_p, [c_int32]),
        "rill_last_error_detail": (ctypes.c_char_p, []),
        "rill_version_string": (ctypes.c_char_p, []),
        "rill_version_number": (c_uint32, []),
        "rill_model_load": (c_int32, [ctypes.c_char_p, P, ctypes.POINTER(P)]),
        "rill_model_load_memory": (c_int32, [ctypes.c_char_p, c_size, P, ctypes.POINTER(P)]),
        "rill_model_release": (None, [P]),
        "rill_model_info_init": (None, [ctypes.POINTER(_ModelInfo)]),
        "rill_model_info_get": (c_int32, [P, ctypes.POINTER(_ModelInfo)]),
        "rill_model_input": (c_int32, [P, c_uint32, ctypes.POINTER(_PortInfo)]),
        "rill_model_output": (c_int32, [P, c_uint32, ctypes.POINTER(_PortInfo)]),
        "rill_model_param": (c_int32, [P, c_uint32, ctypes.POINTER(_ParamInfo)]),
        "rill_model_find_param": (c_int32, [P, ctypes.c_char_p]),
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
    }
    for name, (res, args) in sig.items():
        f = getattr(L, name)
        f.restype, f.argtypes = res, args
    _lib = L
    return L


def _check(status, what):
    if status < 0:
        L = lib()
        detail = L.rill_last_error_detail().decode()
        name = L.rill_status_string(status).decode()
        raise RillError(status, f"{what}: {name}" + (f": {detail}" if detail else ""))
    return status


def version():
    return lib().rill_version_string().decode()


class Model:
    """An immutable loaded model; shared by any number of streams."""

    def __init__(self, source):
        L = lib()
        handle = ctypes.c_void_p()
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source)
            _check(L.rill_model_load_memory(data, len(data), None, ctypes.byref(handle)),
                   "rill_model_load_memory")
        else:
            _check(L.rill_model_load(os.fsencode(str(source)), None, ctypes.byref(handle)),
                   f"rill_model_load({source})")
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
        self.description = info.description.decode()
        self.license = info.license.decode()
        self.source = info.source.decode()
        self.inputs = [self._port(L.rill_model_input, i) for i in range(info.num_inputs)]
        self.outputs = [self._port(L.rill_model_output, i) for i in range(info.num_outputs)]
        self.params = []
        for i in range(info.num_params):
            p = _ParamInfo()
            _check(L.rill_model_param(self._h, i, ctypes.byref(p)), "rill_model_param")
            self.params.append({"name": p.name.decode(), "unit": p.unit.decode(),
                                "min": p.min_value, "max": p.max_value,
                                "default": p.default_value})
        self.nodes = []
        for i in range(L.rill_model_node_count(self._h)):
            n = _NodeInfo()
            L.rill_node_info_init(ctypes.byref(n))
            _check(L.rill_model_node(self._h, i, ctypes.byref(n)), "rill_model_node")
            self.nodes.append({"name": n.name.decode(), "op": n.op.decode(), "channels": n.channels,
                               "rate": (n.rate_num, n.rate_den), "latency": n.latency})

    def _port(self, fn, i):
        p = _PortInfo()
        _check(fn(self._h, i, ctypes.byref(p)), "rill_model_port")
        return {"name": p.name.decode(), "kind": "audio" if p.kind == 0 else "frames",
                "channels": p.channels, "sample_rate": p.sample_rate}

    def __del__(self):
        if getattr(self, "_h", None) and _lib is not None:
            _lib.rill_model_release(self._h)
            self._h = None

    def stream(self, max_block_frames=4096, nonfinite=NONFINITE_ZERO):
        return Stream(self, max_block_frames, nonfinite)

    def process_offline(self, x, params=None, block=1024):
        """Streams x [C, T] followed by latency zeros and returns the aligned output [Co, T]."""
        s = self.stream(max_block_frames=block)
        for name, value in (params or {}).items():
            s.set_param(name, value)
        x = np.asarray(x, dtype=np.float32)
        L = s.latency_frames
        padded = np.concatenate([x, np.zeros((x.shape[0], L), np.float32)], axis=1)
        out = np.concatenate([s.process(padded[:, i:i + block])
                              for i in range(0, padded.shape[1], block)], axis=1)
        return out[:, L:]


class Stream:
    """One live signal's state. process() takes [C, n] and returns [Co, n] (float32)."""

    def __init__(self, model, max_block_frames=4096, nonfinite=NONFINITE_ZERO):
        L = lib()
        self.model = model
        cfg = _StreamConfig()
        L.rill_stream_config_init(ctypes.byref(cfg))
        cfg.max_block_frames = max_block_frames
        cfg.nonfinite_policy = nonfinite
        handle = ctypes.c_void_p()
        _check(L.rill_stream_create(model._h, ctypes.byref(cfg), ctypes.byref(handle)),
               "rill_stream_create")
        self._h = handle
        self.max_block_frames = max_block_frames
        self.last_status = 0

    def __del__(self):
        if getattr(self, "_h", None) and _lib is not None:
            _lib.rill_stream_destroy(self._h)
            self._h = None

    @property
    def latency_frames(self):
        return lib().rill_stream_latency_frames(self._h)

    @property
    def memory_bytes(self):
        return lib().rill_stream_memory_bytes(self._h)

    def process(self, x):
        x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
        if x.ndim == 1:
            x = x[None]
        if x.shape[0] != self.model.input_channels:
            raise RillError(-1, f"process: input has {x.shape[0]} channels, the model expects "
                                f"{self.model.input_channels}")
        n = x.shape[1]
        out = np.zeros((self.model.output_channels, n), np.float32)
        in_ptrs = (ctypes.c_void_p * x.shape[0])(*[x[c].ctypes.data for c in range(x.shape[0])])
        out_ptrs = (ctypes.c_void_p * out.shape[0])(*[out[c].ctypes.data
                                                      for c in range(out.shape[0])])
        self.last_status = _check(lib().rill_stream_process(self._h, in_ptrs, out_ptrs, n),
                                  "rill_stream_process")
        return out

    def _param_index(self, name_or_index):
        if isinstance(name_or_index, int):
            return name_or_index
        i = lib().rill_model_find_param(self.model._h, name_or_index.encode())
        if i < 0:
            raise RillError(-1, f"the model has no parameter {name_or_index!r}")
        return i

    def set_param(self, name_or_index, value):
        _check(lib().rill_stream_set_param(self._h, self._param_index(name_or_index), value),
               "rill_stream_set_param")

    def get_param(self, name_or_index):
        v = ctypes.c_float()
        _check(lib().rill_stream_get_param(self._h, self._param_index(name_or_index),
                                           ctypes.byref(v)), "rill_stream_get_param")
        return v.value

    def reset(self):
        _check(lib().rill_stream_reset(self._h), "rill_stream_reset")

    def get_state(self):
        L = lib()
        buf = ctypes.create_string_buffer(L.rill_stream_state_size(self._h))
        _check(L.rill_stream_state_get(self._h, buf, len(buf)), "rill_stream_state_get")
        return buf.raw

    def set_state(self, blob):
        _check(lib().rill_stream_state_set(self._h, bytes(blob), len(blob)), "rill_stream_state_set")


def load(source):
    """Loads a .rill model from a path or from bytes."""
    return Model(source)
