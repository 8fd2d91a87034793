#!/usr/bin/python3
"""Writes fixtures.json: PyTorch's forward outputs and autograd gradients for each
govgg layer type, and for cross-entropy with label smoothing, on small shapes.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 make_fixtures.py
The Go tests read the JSON and need no PyTorch. Tensors are stored as their shape
and the float32 bit patterns of their elements (exact, NaN-safe).
"""
import json
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(20261129)


def enc(t):
    """A tensor as its shape and the float32 bit patterns of its elements."""
    flat = t.detach().to(torch.float32).contiguous().reshape(-1).tolist()
    return {"shape": list(t.shape), "bits": [struct.unpack("<I", struct.pack("<f", v))[0] for v in flat]}


cases = []


def layer_case(name, module, x, training, nan_ok=False, **args):
    module.train(training)
    params = {k: enc(v) for k, v in module.named_parameters()}
    buffers = {k: enc(v.float()) for k, v in module.named_buffers()}
    x = x.clone().requires_grad_(True)
    y = module(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    case = {
        "name": name, "args": args, "training": training,
        "x": enc(x), "params": params, "buffers": buffers,
        "y": enc(y), "dy": enc(dy), "dx": enc(x.grad),
        "grads": {k: enc(v.grad) for k, v in module.named_parameters()},
        "buffers_after": {k: enc(v.float()) for k, v in module.named_buffers()},
    }
    cases.append(case)


# Conv2d
layer_case("conv2d", nn.Conv2d(3, 4, 3, 1, 1, bias=True), torch.randn(2, 3, 6, 5), True,
           kind="conv2d", inC=3, outC=4, kernel=3, stride=1, padding=1, bias=True)
layer_case("conv2d_s2_nobias", nn.Conv2d(2, 3, 3, 2, 0, bias=False), torch.randn(2, 2, 7, 6), True,
           kind="conv2d", inC=2, outC=3, kernel=3, stride=2, padding=0, bias=False)
layer_case("conv2d_1x1", nn.Conv2d(5, 2, 1, 1, 0, bias=True), torch.randn(1, 5, 3, 4), True,
           kind="conv2d", inC=5, outC=2, kernel=1, stride=1, padding=0, bias=True)

# BatchNorm2d: training (batch stats, running update) and evaluation.
bn = nn.BatchNorm2d(3)
with torch.no_grad():
    bn.weight.copy_(torch.tensor([1.5, -0.5, 0.8]))
    bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    bn.running_mean.copy_(torch.tensor([0.2, -0.1, 0.05]))
    bn.running_var.copy_(torch.tensor([0.9, 1.2, 2.0]))
layer_case("batchnorm2d_train", bn, torch.randn(4, 3, 5, 3) * 2 + 1, True, kind="batchnorm2d", c=3)
bn = nn.BatchNorm2d(3)
with torch.no_grad():
    bn.weight.copy_(torch.tensor([1.5, -0.5, 0.8]))
    bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    bn.running_mean.copy_(torch.tensor([0.2, -0.1, 0.05]))
    bn.running_var.copy_(torch.tensor([0.9, 1.2, 2.0]))
layer_case("batchnorm2d_eval", bn, torch.randn(2, 3, 4, 4), False, kind="batchnorm2d", c=3)

# ReLU, with NaN in the input.
x = torch.randn(3, 41)
x[0, 3] = float("nan")
x[2, 40] = float("nan")
layer_case("relu_nan", nn.ReLU(), x, True, kind="relu")

# MaxPool2d: 2x2/2 on odd sizes, with ties and NaN; 3x3/2 overlapping windows.
x = torch.randn(2, 3, 7, 37)
x[0, 0, 0, 1] = x[0, 0, 0, 0]            # a tie: the first wins
x[1, 2, 3, 8] = float("nan")
x[1, 2, 2, 9] = float("nan")             # two NaNs in one window: the later wins
layer_case("maxpool2d_2x2", nn.MaxPool2d(2, 2), x, True, kind="maxpool2d", kernel=2, stride=2)
layer_case("maxpool2d_3x3s2", nn.MaxPool2d(3, 2), torch.randn(2, 2, 9, 8), True, kind="maxpool2d", kernel=3, stride=2)

# AdaptiveAvgPool2d: down (5x7 -> 3x2), up (3x2 -> 7x7), identity.
layer_case("adaptiveavg_down", nn.AdaptiveAvgPool2d((3, 2)), torch.randn(2, 2, 5, 7), True, kind="adaptiveavgpool2d", h=3, w=2)
layer_case("adaptiveavg_up", nn.AdaptiveAvgPool2d((7, 7)), torch.randn(1, 2, 3, 2), True, kind="adaptiveavgpool2d", h=7, w=7)
layer_case("adaptiveavg_identity", nn.AdaptiveAvgPool2d((7, 7)), torch.randn(1, 3, 7, 7), True, kind="adaptiveavgpool2d", h=7, w=7)

# Linear, Softmax.
layer_case("linear", nn.Linear(11, 6), torch.randn(5, 11), True, kind="linear", inF=11, outF=6, bias=True)
layer_case("linear_nobias", nn.Linear(4, 3, bias=False), torch.randn(2, 4), True, kind="linear", inF=4, outF=3, bias=False)
layer_case("softmax", nn.Softmax(dim=1), torch.randn(4, 9) * 3, True, kind="softmax")
layer_case("softmax_4d", nn.Softmax(dim=1), torch.randn(2, 5, 2, 3), True, kind="softmax")

# Cross-entropy with label smoothing 0.1: integer and probability targets.
ce_cases = []
for name, smoothing, soft in [("ce_ls0.1", 0.1, False), ("ce_plain", 0.0, False), ("ce_soft_ls0.1", 0.1, True)]:
    z = (torch.randn(6, 10) * 4).requires_grad_(True)
    if soft:
        target = torch.softmax(torch.randn(6, 10), dim=1)
        tgt = enc(target)
        labels = None
    else:
        target = torch.randint(0, 10, (6,))
        tgt = None
        labels = target.tolist()
    loss = F.cross_entropy(z, target, label_smoothing=smoothing)
    loss.backward()
    ce_cases.append({"name": name, "smoothing": smoothing, "logits": enc(z), "labels": labels,
                     "target": tgt, "loss": enc(loss.reshape(1)), "dlogits": enc(z.grad)})

# A VGG-shaped network, one training step: conv-bn-relu-pool-conv-bn-relu-pool,
# adaptive pool, flatten, linear-relu-linear, CE with label smoothing 0.1.
net = nn.Sequential(
    nn.Conv2d(3, 8, 3, 1, 1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2, 2),
    nn.Conv2d(8, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2, 2),
    nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
net.train()
x = torch.randn(4, 3, 12, 10)
labels = [3, 0, 9, 3]
state = {k: enc(v.float()) for k, v in net.state_dict().items()}
logits = net(x)
loss = F.cross_entropy(logits, torch.tensor(labels), label_smoothing=0.1)
loss.backward()
# Evaluation mode with the updated running statistics (govgg folds each batch norm
# into its conv and fuses the ReLUs there).
net.eval()
with torch.no_grad():
    logits_eval = net(x)
network = {"x": enc(x), "labels": labels, "state": state, "logits": enc(logits), "loss": enc(loss.reshape(1)),
           "grads": {k: enc(v.grad) for k, v in net.named_parameters()},
           "state_after": {k: enc(v.float()) for k, v in net.state_dict().items()},
           "logits_eval": enc(logits_eval)}

with open("fixtures.json", "w") as f:
    json.dump({"torch": torch.__version__, "layers": cases, "cross_entropy": ce_cases, "network": network}, f)
