#!/usr/bin/python3
"""PyTorch (Debian python3-torch 1.13) side of scripts/compare/run.sh.

Prints one line per case:
    RESULT engine=pytorch mode=forward model=vgg16 batch=1 threads=1 ms=352.1
forward: torchvision VGG, random init, eval, no_grad, 224×224, median of --iters after 2 warm-ups.
train:   one step = forward, cross-entropy (label smoothing 0.1), backward, SGD momentum 0.9:
         vgg16 at 224 batch 8, and the CIFAR-style VGG-16 (features + Linear(512, 10)) at 32 batch 64.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torchvision


def median_ms(fn, iters, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def forward(args):
    for name in args.models.split(","):
        model = getattr(torchvision.models, name)(weights=None).eval()
        for bs in map(int, args.batch.split(",")):
            x = torch.randn(bs, 3, 224, 224)
            with torch.no_grad():
                ms = median_ms(lambda: model(x), args.iters)
            print(f"RESULT engine=pytorch mode=forward model={name} batch={bs} threads={args.threads} ms={ms:.2f}", flush=True)


def train(args):
    cases = [
        ("vgg16", 8, 224, lambda: torchvision.models.vgg16(weights=None)),
        ("vgg16_cifar", 64, 32, lambda: nn.Sequential(torchvision.models.vgg16(weights=None).features, nn.Flatten(), nn.Linear(512, 10))),
    ]
    for name, bs, hw, ctor in cases:
        model = ctor().train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        x = torch.randn(bs, 3, hw, hw)
        y = torch.randint(0, 10, (bs,))

        def step():
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(x), y, label_smoothing=0.1).backward()
            opt.step()

        ms = median_ms(step, args.iters)
        print(f"RESULT engine=pytorch mode=train model={name} batch={bs} threads={args.threads} ms={ms:.2f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["forward", "train"])
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--models", default="vgg16")
    ap.add_argument("--batch", default="1,8")
    ap.add_argument("--iters", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    forward(args) if args.mode == "forward" else train(args)


if __name__ == "__main__":
    main()
