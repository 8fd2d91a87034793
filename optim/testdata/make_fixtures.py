#!/usr/bin/python3
"""Writes optim_fixtures.json: PyTorch reference runs for package optim's tests.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 make_fixtures.py
The Go tests only read the JSON; they do not need PyTorch.

Contents:
  params   a few parameters with torchvision-style names and odd sizes (so the
           kernels' vector tails are exercised), and their initial values;
  grads    the gradient of every parameter for each of 5 steps;
  cases    5 steps of torch.optim.SGD / AdamW under various settings, optionally
           with torch.nn.utils.clip_grad_norm_ before each step and a per-step
           learning rate; each case records the final values, the optimizer
           buffers and the clipped norms;
  schedules  MindCV's per-step learning-rate lists, rebuilt here by appending
           to Python lists the way mindcv/scheduler/scheduler_factory.py and
           dynamic_lr.py do, to check the closed forms in schedule.go.
"""
import json
import math
import os

import torch

torch.manual_seed(20261129)
STEPS = 5

# name, shape, is_norm (BatchNorm2d weight/bias)
PARAMS = [
    ("features.0.weight", (3, 2, 3, 3), False),
    ("features.0.bias", (3,), False),
    ("features.1.weight", (3,), True),
    ("features.1.bias", (3,), True),
    ("classifier.0.weight", (5, 7), False),
    ("classifier.0.bias", (67,), False),
]

init = {n: torch.randn(s) for n, s, _ in PARAMS}
grads = [{n: torch.randn(s) * 0.5 for n, s, _ in PARAMS} for _ in range(STEPS)]
grads[3]["classifier.0.weight"] *= 40  # a spike, so clipping bites on that step


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def run(name, opt, kwargs, clip=None, lrs=None, groups="disable"):
    ps = {n: torch.nn.Parameter(init[n].clone()) for n, _, _ in PARAMS}
    norm = {n for n, _, is_norm in PARAMS if is_norm}
    if groups == "disable":
        param_groups = [{"params": [ps[n] for n, _, _ in PARAMS]}]
    elif groups == "norm_and_bias":
        dec = [ps[n] for n, s, _ in PARAMS if not (n in norm or n.endswith("bias") or len(s) == 1)]
        nodec = [ps[n] for n, s, _ in PARAMS if n in norm or n.endswith("bias") or len(s) == 1]
        param_groups = [{"params": dec}, {"params": nodec, "weight_decay": 0.0}]
    elif groups == "auto":
        param_groups = [{"params": [ps[n] for n, _, _ in PARAMS if n not in norm]},
                        {"params": [ps[n] for n, _, _ in PARAMS if n in norm], "weight_decay": 0.0}]
    o = {"sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}[opt](param_groups, **kwargs)
    norms = []
    for step in range(STEPS):
        if lrs is not None:
            for g in o.param_groups:
                g["lr"] = lrs[step]
        for n, _, _ in PARAMS:
            ps[n].grad = grads[step][n].clone()
        if clip is not None:
            norms.append(float(torch.nn.utils.clip_grad_norm_([ps[n] for n, _, _ in PARAMS], clip)))
        o.step()
    state = {}
    for n, _, _ in PARAMS:
        st = o.state[ps[n]]
        if "momentum_buffer" in st and st["momentum_buffer"] is not None:
            state["moments." + n] = flat(st["momentum_buffer"])
        if "exp_avg" in st:
            state["adam_m." + n] = flat(st["exp_avg"])
            state["adam_v." + n] = flat(st["exp_avg_sq"])
    return {
        "name": name, "opt": opt, "kwargs": kwargs, "clip": clip, "lrs": lrs, "filter": groups,
        "final": {n: flat(ps[n]) for n, _, _ in PARAMS}, "state": state, "norms": norms,
    }


cases = [
    run("sgd_plain_wd", "sgd", {"lr": 0.1, "weight_decay": 1e-2}),
    run("sgd_momentum_wd", "sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 4e-5}),
    run("sgd_momentum_dampening", "sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    run("sgd_nesterov_wd", "sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    run("sgd_momentum_schedule", "sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-2},
        lrs=[0.0, 0.05, 0.1, 0.075, 0.01]),
    run("sgd_momentum_clip", "sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4}, clip=2.0),
    run("sgd_norm_and_bias", "sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05}, groups="norm_and_bias"),
    run("sgd_auto", "sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05}, groups="auto"),
    run("adamw_default", "adamw", {"lr": 1e-2}),
    run("adamw_betas_wd", "adamw", {"lr": 3e-3, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    run("adamw_clip_norm_and_bias", "adamw", {"lr": 1e-2, "weight_decay": 0.05}, clip=1.0, groups="norm_and_bias"),
]


# --- MindCV learning-rate lists, built element by element -------------------

def mindcv_list(name, lr, min_lr, warmup_epochs, warmup_factor, decay_epochs, decay_rate,
                milestones, num_epochs, spe, num_cycles=1, cycle_decay=1.0, stair=False):
    def epoch_of(i):
        return math.floor(i / spe) if stair else i / spe

    lrs = []
    start = lr * warmup_factor
    for i in range(warmup_epochs * spe):  # linear warmup towards lr
        e = epoch_of(i)
        lrs.append(start + min(e, warmup_epochs) / warmup_epochs * (lr - start))
    main_epochs = num_epochs - warmup_epochs
    main_steps = main_epochs * spe
    main = []
    if name in ("cosine_decay", "warmup_cosine_decay"):
        for c in range(num_cycles):
            peak = lr * cycle_decay ** c
            for i in range(decay_epochs * spe):
                if len(main) >= main_steps:
                    break
                t = min(epoch_of(i), decay_epochs)
                main.append(min_lr + 0.5 * (peak - min_lr) * (1.0 + math.cos(math.pi * t / decay_epochs)))
        while len(main) < main_steps:
            main.append(min_lr)
    else:
        for i in range(main_steps):
            e = epoch_of(i)
            whole = math.floor(i / spe)
            if name == "exponential_decay":
                main.append(lr * decay_rate ** e)
            elif name == "polynomial_decay":
                main.append(lr * (1 - min(e, main_epochs) / main_epochs) ** decay_rate)
            elif name == "step_decay":
                main.append(lr * decay_rate ** math.floor(whole / decay_epochs))
            elif name == "multi_step_decay":
                main.append(lr * decay_rate ** sum(1 for m in milestones if m <= whole))
            elif name == "constant":
                main.append(lr)
    return lrs + main


SCHEDULES = [
    # the VGG16 recipe (configs/vgg/vgg16_ascend.yaml), probed at a few steps
    dict(name="warmup_cosine_decay", lr=0.01, min_lr=1e-4, warmup_epochs=2, warmup_factor=0.0,
         decay_epochs=198, decay_rate=0.9, milestones=[], num_epochs=200, spe=5004,
         probe=[0, 1, 5004, 10007, 10008, 500000, 1000799]),
    dict(name="warmup_cosine_decay", lr=0.01, min_lr=1e-4, warmup_epochs=2, warmup_factor=0.0,
         decay_epochs=198, decay_rate=0.9, milestones=[], num_epochs=200, spe=5004, stair=True,
         probe=[0, 5003, 5004, 10008, 15012, 500000, 1000799]),
    # small ones, compared in full
    dict(name="cosine_decay", lr=0.5, min_lr=0.01, warmup_epochs=0, warmup_factor=0.0,
         decay_epochs=4, decay_rate=0.9, milestones=[], num_epochs=7, spe=3),
    dict(name="cosine_decay", lr=0.5, min_lr=0.01, warmup_epochs=1, warmup_factor=0.1,
         decay_epochs=2, decay_rate=0.9, milestones=[], num_epochs=8, spe=3, num_cycles=2, cycle_decay=0.5),
    dict(name="cosine_decay", lr=0.5, min_lr=0.01, warmup_epochs=2, warmup_factor=0.01,
         decay_epochs=2, decay_rate=0.9, milestones=[], num_epochs=6, spe=4, stair=True),
    dict(name="exponential_decay", lr=0.1, min_lr=0.0, warmup_epochs=1, warmup_factor=0.0,
         decay_epochs=0, decay_rate=0.8, milestones=[], num_epochs=5, spe=3),
    dict(name="exponential_decay", lr=0.1, min_lr=0.0, warmup_epochs=0, warmup_factor=0.0,
         decay_epochs=0, decay_rate=0.8, milestones=[], num_epochs=5, spe=3, stair=True),
    dict(name="polynomial_decay", lr=0.1, min_lr=0.0, warmup_epochs=1, warmup_factor=0.0,
         decay_epochs=0, decay_rate=2.0, milestones=[], num_epochs=5, spe=3),
    dict(name="step_decay", lr=0.1, min_lr=0.0, warmup_epochs=1, warmup_factor=0.0,
         decay_epochs=2, decay_rate=0.5, milestones=[], num_epochs=7, spe=2),
    dict(name="multi_step_decay", lr=0.1, min_lr=0.0, warmup_epochs=0, warmup_factor=0.0,
         decay_epochs=0, decay_rate=0.1, milestones=[4, 2], num_epochs=6, spe=2),
    dict(name="constant", lr=0.1, min_lr=0.0, warmup_epochs=2, warmup_factor=0.5,
         decay_epochs=0, decay_rate=0.9, milestones=[], num_epochs=4, spe=3),
]

schedules = []
for s in SCHEDULES:
    args = {k: v for k, v in s.items() if k != "probe"}
    lst = mindcv_list(**args)
    probe = s.get("probe", list(range(len(lst))))
    schedules.append({**args, "len": len(lst), "steps": probe, "lrs": [lst[i] for i in probe]})

out = {
    "torch": torch.__version__,
    "params": [{"name": n, "shape": list(s), "norm": is_norm, "init": flat(init[n])} for n, s, is_norm in PARAMS],
    "grads": [{n: flat(g[n]) for n, _, _ in PARAMS} for g in grads],
    "cases": cases,
    "schedules": schedules,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_fixtures.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", path, os.path.getsize(path), "bytes")
