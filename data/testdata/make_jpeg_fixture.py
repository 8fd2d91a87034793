#!/usr/bin/python3
"""Writes JPEGs made by PIL from a smooth synthetic scene with hard colour edges, in
4:2:0 (even and odd sizes), 4:2:2 and 4:4:4, each with PIL's decoding as a PNG, so data's
tests can compare Go's decoding with libjpeg's (which PIL and torchvision use).

    /usr/bin/python3 data/testdata/make_jpeg_fixture.py data/testdata
"""
import sys

import numpy as np
from PIL import Image

out = sys.argv[1]


def scene(h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([
        128 + 100 * np.sin(x / 9.0) * np.cos(y / 13.0),
        60 + 2.5 * x,
        200 - 3.0 * y,
    ], axis=-1)
    img[10:30, 20:40] = [250, 30, 30]  # hard chroma edges
    img[35:45, 5:60] = [20, 20, 200]
    return np.clip(img, 0, 255).astype(np.uint8)


for name, (h, w), sub in [("photo420", (48, 64), 2), ("photo420odd", (47, 63), 2),
                          ("photo422", (47, 63), 1), ("photo444", (48, 64), 0)]:
    Image.fromarray(scene(h, w)).save(f"{out}/{name}.jpg", quality=90, subsampling=sub)
    Image.open(f"{out}/{name}.jpg").convert("RGB").save(f"{out}/{name}_pil.png")

# torchvision's ImageNet evaluation preset on a PIL image (PIL decoding, PIL's
# antialiased bilinear resize with uint8 rounding), scaled down: Resize(32) of the short
# side, CenterCrop(28), ToTensor, Normalize. Stored CHW.
import json  # noqa: E402

import torchvision.transforms as T  # noqa: E402

tf = T.Compose([T.Resize(32, interpolation=T.InterpolationMode.BILINEAR), T.CenterCrop(28), T.ToTensor(),
                T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
t = tf(Image.open(f"{out}/photo420.jpg").convert("RGB"))
with open(f"{out}/photo420_torchvision_eval.json", "w") as f:
    json.dump({"shape": list(t.shape), "chw": [round(float(v), 6) for v in t.reshape(-1)]}, f)
