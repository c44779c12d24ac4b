"""Writes small TFLite models (one operator and its tensors) with the flatbuffers Python runtime,
from the schema's field order: the operator tests build each supported operator on random inputs
and random weights with it."""
import flatbuffers
import numpy as np

TYPES = {np.float32: 0, np.float16: 1, np.int32: 2}


def _vector(b, values, prepend, elem_size):
    b.StartVector(elem_size, len(values), elem_size)
    for v in reversed(values):
        prepend(v)
    return b.EndVector()


def _offsets(b, offs):
    return _vector(b, offs, b.PrependUOffsetTRelative, 4)


def build(tensors, inputs, outputs, ops):
    """tensors: [{"shape", "dtype", "data" (array or None)}]; ops: one operator or a list, each
    {"builtin", "custom", "inputs", "outputs", "options_type", "options": [(slot, kind, value)],
    "custom_options"}."""
    ops = ops if isinstance(ops, list) else [ops]
    kinds = []
    for op in ops:
        if (op["builtin"], op.get("custom")) not in kinds:
            kinds.append((op["builtin"], op.get("custom")))
    b = flatbuffers.Builder(1024)
    buffer_index, buffers = [], [None]
    for t in tensors:
        if t.get("data") is None:
            buffer_index.append(0)
        else:
            buffer_index.append(len(buffers))
            buffers.append(np.ascontiguousarray(t["data"], dtype=t["dtype"]).view(np.uint8).reshape(-1))
    buffer_offs = []
    for data in buffers:
        d = b.CreateNumpyVector(data) if data is not None else None
        b.StartObject(3)
        if d is not None:
            b.PrependUOffsetTRelativeSlot(0, d, 0)
        buffer_offs.append(b.EndObject())
    tensor_offs = []
    for i, t in enumerate(tensors):
        shape = _vector(b, [int(s) for s in t["shape"]], b.PrependInt32, 4)
        name = b.CreateString(f"t{i}")
        b.StartObject(4)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependInt8Slot(1, TYPES[t["dtype"]], 0)
        b.PrependUint32Slot(2, buffer_index[i], 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        tensor_offs.append(b.EndObject())
    operators = []
    for op in ops:
        options = None
        if op.get("options") is not None:
            b.StartObject(8)
            for slot, kind, value in op["options"]:
                {"i8": b.PrependInt8Slot, "i32": b.PrependInt32Slot, "bool": b.PrependBoolSlot,
                 "f32": b.PrependFloat32Slot}[kind](slot, value, 0 if kind != "f32" else 0.0)
            options = b.EndObject()
        custom_options = (b.CreateNumpyVector(np.frombuffer(op["custom_options"], np.uint8))
                          if op.get("custom_options") else None)
        op_in = _vector(b, op["inputs"], b.PrependInt32, 4)
        op_out = _vector(b, op["outputs"], b.PrependInt32, 4)
        b.StartObject(7)
        b.PrependUint32Slot(0, kinds.index((op["builtin"], op.get("custom"))), 0)
        b.PrependUOffsetTRelativeSlot(1, op_in, 0)
        b.PrependUOffsetTRelativeSlot(2, op_out, 0)
        if options is not None:
            b.PrependUint8Slot(3, op["options_type"], 0)
            b.PrependUOffsetTRelativeSlot(4, options, 0)
        if custom_options is not None:
            b.PrependUOffsetTRelativeSlot(5, custom_options, 0)
        operators.append(b.EndObject())
    g_tensors, g_in = _offsets(b, tensor_offs), _vector(b, inputs, b.PrependInt32, 4)
    g_out, g_ops = _vector(b, outputs, b.PrependInt32, 4), _offsets(b, operators)
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, g_tensors, 0)
    b.PrependUOffsetTRelativeSlot(1, g_in, 0)
    b.PrependUOffsetTRelativeSlot(2, g_out, 0)
    b.PrependUOffsetTRelativeSlot(3, g_ops, 0)
    subgraph = b.EndObject()
    code_offs = []
    for builtin, custom_name in kinds:
        custom = b.CreateString(custom_name) if custom_name else None
        b.StartObject(4)
        b.PrependInt8Slot(0, min(builtin, 127), 0)
        if custom is not None:
            b.PrependUOffsetTRelativeSlot(1, custom, 0)
        b.PrependInt32Slot(2, 1, 1)
        b.PrependInt32Slot(3, builtin, 0)
        code_offs.append(b.EndObject())
    codes, subgraphs, bufs = _offsets(b, code_offs), _offsets(b, [subgraph]), _offsets(b, buffer_offs)
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, codes, 0)
    b.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
    b.PrependUOffsetTRelativeSlot(4, bufs, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())
