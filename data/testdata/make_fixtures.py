#!/usr/bin/python3
"""Writes torchvision_fixtures.json: outputs of torchvision 0.14 / torch 1.13 tensor
transforms on a small random image, for data's transform tests (which do not need
PyTorch). Run with Debian's python3-torchvision:

    /usr/bin/python3 data/testdata/make_fixtures.py > data/testdata/torchvision_fixtures.json

Images are written HWC on the 0-255 scale, the layout and scale of data.Image.
"""
import json

import numpy as np
import torch
from PIL import Image
import torchvision
import torchvision.transforms.functional as F

torch.manual_seed(0)
H, W = 13, 17
img = torch.randint(0, 256, (3, H, W)).float()  # CHW, 0-255


def hwc(t):
    if t.dim() == 4:
        t = t[0]
    return {"h": t.shape[1], "w": t.shape[2], "c": t.shape[0],
            "pix": [round(float(v), 6) for v in t.permute(1, 2, 0).reshape(-1)]}


def interp(x, size, aa):
    return torch.nn.functional.interpolate(x.unsqueeze(0), size=size, mode="bilinear",
                                           align_corners=False, antialias=aa)


cases = []
for size in [(7, 9), (29, 40), (5, 30), (4, 4), (13, 8)]:
    for aa in [False, True]:
        cases.append(dict(op="resize", size=size, antialias=aa, out=hwc(interp(img, size, aa))))
for aa in [False, True]:
    crop = img[:, 2:2 + 8, 3:3 + 11]
    cases.append(dict(op="resized_crop", box=[2, 3, 8, 11], size=[6, 10], antialias=aa,
                      out=hwc(interp(crop, (6, 10), aa))))
# Resize of the short side (torchvision computes the long side), no antialias.
r = F.resize(img, 10, interpolation=F.InterpolationMode.BILINEAR, antialias=False)
cases.append(dict(op="resize_short", short=10, out=hwc(r)))
for size in [(8, 9), (16, 20), (4, 17)]:
    cases.append(dict(op="center_crop", size=size, out=hwc(F.center_crop(img, list(size)))))
x = img / 255
cases.append(dict(op="brightness", factor=1.3, out=hwc(F.adjust_brightness(x, 1.3) * 255)))
cases.append(dict(op="contrast", factor=0.7, out=hwc(F.adjust_contrast(x, 0.7) * 255)))
cases.append(dict(op="contrast", factor=1.6, out=hwc(F.adjust_contrast(x, 1.6) * 255)))
cases.append(dict(op="saturation", factor=1.4, out=hwc(F.adjust_saturation(x, 1.4) * 255)))
cases.append(dict(op="saturation", factor=0.3, out=hwc(F.adjust_saturation(x, 0.3) * 255)))
mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
cases.append(dict(op="normalize", mean=mean, std=std, out=hwc(F.normalize(x, mean, std))))
grey = img[:1]
cases.append(dict(op="contrast_grey", factor=1.5, input=hwc(grey),
                  out=hwc(F.adjust_contrast(grey / 255, 1.5) * 255)))
cases.append(dict(op="hflip", out=hwc(F.hflip(img))))
# PIL's own BILINEAR resize of the uint8 image (what torchvision does to PIL images):
# fixed-point weights and a rounding to uint8 after each pass.
pil = Image.fromarray(img.permute(1, 2, 0).numpy().astype(np.uint8))
for size in [(7, 9), (29, 40), (5, 30), (4, 4)]:
    r = torch.from_numpy(np.array(pil.resize((size[1], size[0]), Image.BILINEAR))).permute(2, 0, 1).float()
    cases.append(dict(op="pil_resize", size=size, antialias=True, out=hwc(r)))

json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__,
           "input": hwc(img), "cases": cases}, __import__("sys").stdout)
