#!/usr/bin/python3
"""Writes the PyTorch and safetensors fixtures of the weights package's tests.

Run with Debian's torch 1.13:  /usr/bin/python3 make_fixtures.py  (in this directory).

The state dict is a tiny VGG-11-BN-shaped network (2 conv stages, widths 4 and 8,
a 3-Linear classifier) plus entries that exercise the reader: a transposed
(non-contiguous) view, a narrowed view with a storage offset, two tensors sharing one
storage, float16 and bfloat16 tensors holding Inf, NaN and subnormals, a float64,
an int32 and a 0-d tensor. The expected values, converted to float32 by torch, go to
expected.json (name, shape, source dtype, element offset) and expected.f32 (raw
little-endian float32), which the tests compare against without needing torch.
"""
import json
import math
import struct

import torch
import torch.nn as nn

torch.manual_seed(0)


def tiny_vgg_bn():
    features = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(True), nn.MaxPool2d(2, 2),
        nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(True), nn.MaxPool2d(2, 2),
    )
    classifier = nn.Sequential(
        nn.Linear(8 * 2 * 2, 16), nn.ReLU(True), nn.Dropout(),
        nn.Linear(16, 16), nn.ReLU(True), nn.Dropout(),
        nn.Linear(16, 10),
    )
    m = nn.Module()
    m.features, m.classifier = features, classifier
    return m


model = tiny_vgg_bn()
for bn in (model.features[1], model.features[5]):
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.normal_()
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
    bn.num_batches_tracked.fill_(7)

# One SGD step so that the optimizer state holds momentum buffers.
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
x = torch.randn(2, 3, 8, 8)
h = model.features(x).flatten(1)
model.classifier(h).sum().backward()
opt.step()

sd = model.state_dict()
base = torch.randn(5, 3)
sd["extra.transposed"] = base.t()  # shape (3,5), strides (1,3)
sd["extra.narrow"] = torch.arange(20.0).reshape(4, 5)[1:3, 1:4]  # offset 6, strides (5,1)
shared = torch.randn(6)
sd["extra.shared_a"] = shared[:3]
sd["extra.shared_b"] = shared[3:].view(3, 1)
half = torch.randn(3, 4).half()
half.view(-1)[:7] = torch.tensor([math.inf, -math.inf, math.nan, 6e-8, -1e-6, 65504.0, 0.0], dtype=torch.half)
sd["extra.half"] = half
bf = torch.randn(2, 3).bfloat16()
bf.view(-1)[:3] = torch.tensor([math.inf, math.nan, 1e-40], dtype=torch.bfloat16)
sd["extra.bf16"] = bf
sd["extra.double"] = torch.randn(4, dtype=torch.float64)
sd["extra.int32"] = torch.tensor([1, -2, 300000], dtype=torch.int32)
sd["extra.scalar"] = torch.tensor(2.5)

# Expected values.
manifest, blob, off = [], bytearray(), 0
for name, t in sd.items():
    f = t.detach().to(torch.float32).contiguous().view(-1)
    manifest.append({"name": name, "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "offset": off})
    blob += struct.pack("<%df" % f.numel(), *f.tolist())
    off += f.numel()
with open("expected.json", "w") as fh:
    json.dump(manifest, fh, indent=0)
with open("expected.f32", "wb") as fh:
    fh.write(bytes(blob))

torch.save(sd, "tiny_zip.pth")
torch.save(sd, "tiny_legacy.pth", _use_new_zipfile_serialization=False)
torch.save({"epoch": 3, "best_acc1": 0.5, "state_dict": sd, "optimizer": opt.state_dict()}, "tiny_nested.pth")
torch.save(model.features[0], "tiny_module.pth")  # a pickled nn.Module: must be refused by name

# An independently written safetensors file (layout per the safetensors spec), with
# the F16/BF16/F64/I64 entries stored in their own dtype.
st_dtypes = {torch.float32: ("F32", "<f"), torch.float64: ("F64", "<d"), torch.int64: ("I64", "<q"), torch.int32: ("I32", "<i")}
header, data = {"__metadata__": {"format": "pt", "source": "make_fixtures.py"}}, bytearray()
for name, t in sd.items():
    t = t.contiguous()
    if t.dtype in (torch.float16, torch.bfloat16):
        raw = t.view(torch.int16).view(-1).tolist()
        b = struct.pack("<%dh" % len(raw), *raw)
        code = "F16" if t.dtype == torch.float16 else "BF16"
    else:
        code, fmt = st_dtypes[t.dtype]
        b = struct.pack("<%d%s" % (t.numel(), fmt[1]), *t.view(-1).tolist())
    header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(b)]}
    data += b
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * ((8 - (8 + len(h)) % 8) % 8)
with open("tiny.safetensors", "wb") as fh:
    fh.write(struct.pack("<Q", len(h)) + h + bytes(data))

# Protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL) for the pickle VM.
torch.save({k: sd[k] for k in ("features.0.weight", "extra.transposed", "extra.half")}, "tiny_p4.pth", pickle_protocol=4)

# A MindSpore-style .ckpt written with the protobuf library itself (checkpoint.proto
# built from descriptors, no protoc), the way mindspore/train/serialization.py's
# _exec_save does it: one serialized Checkpoint message per parameter, appended;
# a parameter split into slices that repeat the tag and full dims; training state
# beside the weights; and the crc_num trailer (zlib CRC-32 of all preceding bytes as
# 10 big-endian bytes). Names are MindCV's: no conv bias, BN gamma/beta/moving_*.
import binascii

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

fdp = descriptor_pb2.FileDescriptorProto(name="checkpoint.proto", package="mindspore.irpb", syntax="proto2")
F = descriptor_pb2.FieldDescriptorProto
tp = fdp.message_type.add(name="TensorProto")
tp.field.add(name="dims", number=1, label=F.LABEL_REPEATED, type=F.TYPE_INT64)
tp.field.add(name="tensor_type", number=2, label=F.LABEL_REQUIRED, type=F.TYPE_STRING)
tp.field.add(name="tensor_content", number=3, label=F.LABEL_REQUIRED, type=F.TYPE_BYTES)
ck = fdp.message_type.add(name="Checkpoint")
val = ck.nested_type.add(name="Value")
val.field.add(name="tag", number=1, label=F.LABEL_REQUIRED, type=F.TYPE_STRING)
val.field.add(name="tensor", number=2, label=F.LABEL_OPTIONAL, type=F.TYPE_MESSAGE, type_name=".mindspore.irpb.TensorProto")
ck.field.add(name="value", number=1, label=F.LABEL_REPEATED, type=F.TYPE_MESSAGE, type_name=".mindspore.irpb.Checkpoint.Value")
pool = descriptor_pool.DescriptorPool()
pool.Add(fdp)
Checkpoint = message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName("mindspore.irpb.Checkpoint"))

to_mindcv = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}
params = []
for name, t in sd.items():
    if not name.startswith(("features.", "classifier.")) or name.endswith("num_batches_tracked"):
        continue
    mod, leaf = name.rsplit(".", 1)
    if mod + ".running_mean" in sd:  # a BatchNorm
        name = mod + "." + to_mindcv[leaf]
    elif leaf == "bias" and name.startswith("features."):  # MindCV convs have no bias
        continue
    params.append((name, t.detach().contiguous().numpy().astype(np.float32)))
params.append(("moments.features.0.weight", np.zeros(sd["features.0.weight"].shape, np.float32)))
params.append(("learning_rate", np.array(0.01, np.float32)))
params.append(("global_step", np.array([42], np.int32)))
params.append(("momentum", np.array(0.9, np.float32)))

blob, crc = bytearray(), 0
for name, arr in params:
    slices = np.array_split(arr.reshape(-1), 3) if name == "classifier.0.weight" else [arr.reshape(-1)]
    for sl in slices:
        c = Checkpoint()
        v = c.value.add()
        v.tag = name
        v.tensor.dims.extend(list(arr.shape) if arr.shape != () else [0])
        v.tensor.tensor_type = {np.float32: "Float32", np.int32: "Int32"}[arr.dtype.type]
        v.tensor.tensor_content = sl.tobytes()
        out = c.SerializeToString()
        crc = binascii.crc32(out, crc)
        blob += out
blob += b"crc_num" + crc.to_bytes(10, byteorder="big")
with open("tiny_mindspore.ckpt", "wb") as fh:
    fh.write(bytes(blob))
