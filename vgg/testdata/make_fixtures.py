#!/usr/bin/python3
"""Writes the VGG forward fixtures used by vgg's tests.

Run with Debian's PyTorch 1.13 (python3-torch, python3-torchvision):

    /usr/bin/python3 vgg/testdata/make_fixtures.py

Each fixture is a small-width torchvision (or MindCV-shaped) VGG in eval mode, written as a
safetensors file holding its state dict; the metadata holds the model options, the input
shape and the expected logits. Inputs are not stored: both sides compute them from
input_value(), so the files stay small.
"""
import json
import math
import struct

import torch
import torch.nn as nn
from torchvision.models import vgg as tv

CFGS = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}


def input_value(i):
    # The same formula is in vgg's fixture test; evaluated in float64, rounded to float32.
    return math.sin(0.0137 * i) * math.cos(0.0021 * i + 0.5) * 1.5


def make_input(shape):
    n = math.prod(shape)
    return torch.tensor([input_value(i) for i in range(n)], dtype=torch.float64).float().reshape(shape)


def small_cfg(name, div):
    return [v if v == "M" else v // div for v in tv.cfgs[CFGS[name]]]


class MindCVVGG(nn.Module):
    """MindCV's layout: convs without bias, no adaptive pool, flatten at 7×7."""

    def __init__(self, cfg, bn, classes, hidden, in_ch):
        super().__init__()
        layers, c = [], in_ch
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers.append(nn.Conv2d(c, v, 3, padding=1, bias=False))
            if bn:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            c = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(c * 49, hidden), nn.ReLU(True), nn.Dropout(),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
            nn.Linear(hidden, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def perturb(model, gen):
    """Gives biases and batch-norm state non-trivial values, so the test sees them."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d) and m.bias is not None:
                m.bias.normal_(0, 0.05, generator=gen)
            if isinstance(m, nn.Linear):
                m.weight.normal_(0, 0.2, generator=gen)
                m.bias.normal_(0, 0.05, generator=gen)
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.normal_(0, 0.1, generator=gen)
                m.running_mean.normal_(0, 0.1, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
                m.num_batches_tracked.fill_(7)


def write_safetensors(path, tensors, metadata):
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def build_model(name, bn, flavour, div, hidden, classes, in_ch, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    cfg = small_cfg(name, div)
    if flavour == "torchvision":
        model = tv.VGG(tv.make_layers(cfg, batch_norm=bn), num_classes=classes)
        # torchvision fixes the classifier at 512·7·7 → 4096; rebuild it at our width.
        c = cfg[-2]
        model.classifier = nn.Sequential(
            nn.Linear(c * 49, hidden), nn.ReLU(True), nn.Dropout(),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
            nn.Linear(hidden, classes))
        if in_ch != 3:
            model.features[0] = nn.Conv2d(in_ch, cfg[0], 3, padding=1)
    else:
        model = MindCVVGG(cfg, bn, classes, hidden, in_ch)
    perturb(model, gen)
    return model.eval()


def fixture(fname, name, bn, flavour, div, hidden, classes, in_ch, shape, seed):
    model = build_model(name, bn, flavour, div, hidden, classes, in_ch, seed)
    x = make_input(shape)
    with torch.no_grad():
        logits = model(x)
    meta = {
        "model": name, "batch_norm": str(bn).lower(), "flavour": flavour,
        "width_divisor": str(div), "hidden": str(hidden), "num_classes": str(classes),
        "in_channels": str(in_ch), "input_shape": json.dumps(list(shape)),
        "logits": json.dumps([float(v) for v in logits.flatten()]),
        "torch": torch.__version__,
    }
    write_safetensors(fname, model.state_dict(), meta)
    if fname == "vgg11_w16.safetensors":  # the same weights as torchvision users have them
        torch.save(model.state_dict(), "vgg11_w16.pth")
    print(fname, sum(p.numel() for p in model.parameters()), "params, logits", tuple(logits.shape))


def predict_fixture():
    """A synthetic 301×233 RGB photo, torchvision's eval transform of it (the 224×224
    crop, as 8-bit PNG), and the logits of vgg11_w16 on it."""
    import numpy as np
    from PIL import Image

    h, w = 233, 301
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 127 + 100 * np.sin(xx / 17.0) * np.cos(yy / 23.0)
    g = 127 + 120 * np.sin((xx + yy) / 31.0)
    b = np.where(((xx // 40) + (yy // 40)) % 2 == 0, 230.0, 25.0)
    img = Image.fromarray(np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8), "RGB")
    img.save("photo.png")

    tf = tv.VGG11_Weights.IMAGENET1K_V1.transforms()  # ImageClassification(crop_size=224)
    x = tf(img)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    crop = ((x * std + mean) * 255).round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
    Image.fromarray(crop, "RGB").save("photo_crop224.png")

    model = build_model("vgg11", False, "torchvision", 16, 16, 10, 3, 11)
    with torch.no_grad():
        logits = model(x.unsqueeze(0))[0]
    json.dump({"model": "vgg11_w16.safetensors", "transform": repr(tf),
               "logits": [float(v) for v in logits]}, open("photo_vgg11_w16.json", "w"), indent=1)
    print("photo:", img.size, "->", tuple(x.shape), "top:", int(logits.argmax()))


if __name__ == "__main__":
    fixture("vgg11_w16.safetensors", "vgg11", False, "torchvision", 16, 16, 10, 3, (2, 3, 64, 96), 11)
    fixture("vgg13_bn_w16.safetensors", "vgg13", True, "torchvision", 16, 16, 7, 3, (2, 3, 40, 33), 13)
    fixture("vgg16_w16_gray.safetensors", "vgg16", False, "torchvision", 16, 12, 5, 1, (1, 1, 32, 32), 16)
    fixture("vgg19_bn_w16.safetensors", "vgg19", True, "torchvision", 16, 16, 10, 3, (1, 3, 71, 45), 19)
    fixture("vgg11_bn_mindcv_w16.safetensors", "vgg11", True, "mindcv", 16, 16, 10, 3, (1, 3, 224, 224), 21)
    predict_fixture()
