#!/usr/bin/python3
"""Writes train_vgg11_bn_w16_{init,final}.safetensors: ten SGD steps of a small VGG-11-BN in
PyTorch 1.13, for vgg's training-parity test.

    cd vgg/testdata && /usr/bin/python3 make_train_fixture.py

The model is torchvision's VGG-11-BN at 1/16 width with a 8-wide classifier and dropout
off; the batch (8×3×32×32, from make_fixtures.input_value) and labels (i mod 10) are fixed.
Loss: cross-entropy with label smoothing 0.1. Optimizer: torch.optim.SGD(lr 0.02,
momentum 0.9, weight_decay 1e-4) on every parameter (MindCV's weight_decay_filter
"disable"). The init file holds the starting state dict; the final file holds the state
dict after ten steps, with the ten losses in its metadata.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from make_fixtures import build_model, make_input, write_safetensors

STEPS, LR, MOMENTUM, WD, SMOOTH = 10, 0.02, 0.9, 1e-4, 0.1


def main():
    model = build_model("vgg11", True, "torchvision", 16, 8, 10, 3, 5)
    gen = torch.Generator().manual_seed(6)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            # A milder classifier than make_fixtures' perturbation: a steady descent, so
            # float32 rounding differences are not amplified from step to step.
            with torch.no_grad():
                m.weight.normal_(0, 0.05, generator=gen)
        if isinstance(m, nn.Dropout):
            m.p = 0.0
        if isinstance(m, nn.BatchNorm2d):
            m.num_batches_tracked.zero_()
    model.train()
    write_safetensors("train_vgg11_bn_w16_init.safetensors", model.state_dict(), {})
    x = make_input((8, 3, 32, 32))
    labels = torch.arange(8) % 10
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels, label_smoothing=SMOOTH)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    meta = {"losses": json.dumps(losses), "lr": str(LR), "momentum": str(MOMENTUM),
            "weight_decay": str(WD), "label_smoothing": str(SMOOTH), "torch": torch.__version__}
    write_safetensors("train_vgg11_bn_w16_final.safetensors", model.state_dict(), meta)
    print("losses", [round(l, 5) for l in losses])


if __name__ == "__main__":
    main()
