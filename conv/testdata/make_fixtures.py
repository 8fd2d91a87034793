#!/usr/bin/python3
"""Writes torch_conv.json: PyTorch Conv2d forward and gradients for a few small
geometries, the oracle that conv's references and Plan are checked against.

Inputs are float32 values; PyTorch computes in float64 so the expected outputs
carry no float32 rounding. Run with Debian's python3-torch (1.13):

    /usr/bin/python3 conv/testdata/make_fixtures.py
"""
import json
import os

import torch

CASES = [
    # name, C, K, H, W, (R, S), stride, padding, dilation, n, bias
    ("3x3_s1_p1", 3, 4, 5, 7, (3, 3), (1, 1), (1, 1), (1, 1), 2, True),
    ("5x3_s21_p21_d12", 2, 3, 9, 8, (5, 3), (2, 1), (2, 1), (1, 2), 1, True),
    ("7x7_s2_p3", 3, 2, 11, 10, (7, 7), (2, 2), (3, 3), (1, 1), 1, True),
    ("1x1_nobias", 5, 3, 3, 4, (1, 1), (1, 1), (0, 0), (1, 1), 2, False),
    ("3x3_d2_p0", 2, 2, 7, 6, (3, 3), (1, 1), (0, 0), (2, 2), 1, True),
    ("3x3_s2_p2", 3, 2, 6, 5, (3, 3), (2, 2), (2, 2), (1, 1), 2, True),
]


def main():
    g = torch.Generator().manual_seed(20261129)
    out = []
    for name, c, k, h, w, (r, s), stride, pad, dil, n, bias in CASES:
        x = (torch.rand(n, c, h, w, generator=g) * 2 - 1).double().requires_grad_()
        wt = (torch.rand(k, c, r, s, generator=g) * 2 - 1).double().requires_grad_()
        b = (torch.rand(k, generator=g) * 2 - 1).double().requires_grad_() if bias else None
        y = torch.nn.functional.conv2d(x, wt, b, stride=stride, padding=pad, dilation=dil)
        dy = (torch.rand(y.shape, generator=g) * 2 - 1).double()
        y.backward(dy)
        flat = lambda t: [float(v) for v in t.detach().reshape(-1)]
        out.append({
            "name": name, "C": c, "K": k, "H": h, "W": w, "R": r, "S": s,
            "StrideH": stride[0], "StrideW": stride[1], "PadH": pad[0], "PadW": pad[1],
            "DilH": dil[0], "DilW": dil[1], "N": n,
            "x": flat(x), "w": flat(wt), "b": flat(b) if bias else None, "dy": flat(dy),
            "y": flat(y), "dx": flat(x.grad), "dw": flat(wt.grad),
            "db": flat(dy.sum(dim=(0, 2, 3))),
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_conv.json")
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "cases": out}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
