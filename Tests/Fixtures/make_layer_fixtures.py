#!/usr/bin/env python3
"""Regenerates the MedLayers parity fixtures under Tests/Fixtures/layers/ from PyTorch and timm.

Usage: python3 Tests/Fixtures/make_layer_fixtures.py            (needs torch, timm, safetensors, numpy)
       python3 Tests/Fixtures/make_layer_fixtures.py --verify   (checks the checkpoint the Swift library
                                                                  wrote, layers/swift_cnn.safetensors, in PyTorch)

Each case is one safetensors file: `param.<key>` the module's state dict, `input`, `projection` (fixed
random weights w), `output`, and the gradients of L = sum(output * w): `grad.input`, `grad.param.<key>`.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "layers")
torch.manual_seed(0)


def save_case(name, module, inputs, forward=None, extra=None):
    """Runs module on inputs (a tensor), records output and gradients of sum(output * projection)."""
    x = inputs.clone().requires_grad_(True)
    out = (forward or module)(x)
    projection = torch.randn_like(out)
    (out * projection).sum().backward()
    tensors = {f"param.{k}": v.detach().clone().contiguous() for k, v in module.state_dict().items()}
    tensors["input"] = inputs.clone().contiguous()
    tensors["projection"] = projection.contiguous()
    tensors["output"] = out.detach().contiguous()
    tensors["grad.input"] = x.grad.contiguous()
    for k, p in module.named_parameters():
        if p.grad is not None:
            tensors[f"grad.param.{k}"] = p.grad.contiguous()
    tensors.update(extra or {})
    save_file(tensors, os.path.join(OUT, f"{name}.safetensors"))


def layer_cases():
    x4 = torch.randn(2, 6, 7, 9)
    save_case("linear", nn.Linear(10, 7), torch.randn(3, 5, 10))
    save_case("linear_nobias", nn.Linear(10, 4, bias=False), torch.randn(6, 10))
    save_case("conv2d", nn.Conv2d(6, 8, 3, stride=2, padding=1), x4)
    save_case("conv2d_grouped", nn.Conv2d(6, 9, (3, 2), stride=(1, 2), padding=(2, 0), dilation=(2, 1), groups=3), x4)
    save_case("conv2d_depthwise", nn.Conv2d(6, 12, 5, padding=2, groups=6, bias=False), x4)

    bn = nn.BatchNorm2d(6)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    bn.train()
    initial = {f"initial.{k}": v.clone() for k, v in bn.state_dict().items()}
    steps = [torch.randn(4, 6, 5, 5) * 2 + 1 for _ in range(3)]
    for s in steps[:-1]:
        bn(s)
    # The last training step is the recorded case; afterwards, eval mode on another input.
    eval_input = torch.randn(2, 6, 5, 5)
    x = steps[-1].clone().requires_grad_(True)
    out = bn(x)
    projection = torch.randn_like(out)
    (out * projection).sum().backward()
    bn.eval()
    eval_output = bn(eval_input).detach()
    tensors = dict(initial)
    tensors.update({f"step{i}": s for i, s in enumerate(steps)})
    tensors.update({f"param.{k}": v.clone() for k, v in bn.state_dict().items()})
    tensors.update({"input": steps[-1].clone(), "projection": projection, "output": out.detach(), "grad.input": x.grad,
                    "grad.param.weight": bn.weight.grad, "grad.param.bias": bn.bias.grad,
                    "eval_input": eval_input, "eval_output": eval_output})
    save_file({k: v.detach().clone().contiguous() for k, v in tensors.items()}, os.path.join(OUT, "batchnorm2d.safetensors"))

    ln = nn.LayerNorm(10, eps=1e-6)
    with torch.no_grad():
        ln.weight.uniform_(0.5, 1.5)
        ln.bias.uniform_(-0.5, 0.5)
    save_case("layernorm", ln, torch.randn(3, 4, 10) * 3 + 1)
    import timm.layers
    ln2 = timm.layers.LayerNorm2d(6)
    with torch.no_grad():
        ln2.weight.uniform_(0.5, 1.5)
        ln2.bias.uniform_(-0.5, 0.5)
    save_case("layernorm2d", ln2, x4)
    gn = nn.GroupNorm(3, 6)
    with torch.no_grad():
        gn.weight.uniform_(0.5, 1.5)
        gn.bias.uniform_(-0.5, 0.5)
    save_case("groupnorm", gn, x4)

    act_input = torch.randn(4, 33) * 4
    for name, module in [("relu", nn.ReLU()), ("relu6", nn.ReLU6()), ("gelu", nn.GELU()),
                         ("gelu_tanh", nn.GELU(approximate="tanh")), ("quick_gelu", timm.layers.QuickGELU()),
                         ("silu", nn.SiLU()), ("sigmoid", nn.Sigmoid()), ("tanh", nn.Tanh()),
                         ("hardswish", nn.Hardswish()), ("hardsigmoid", nn.Hardsigmoid()),
                         ("dropout0", nn.Dropout(0.0)), ("droppath0", timm.layers.DropPath(0.0)),
                         ("flatten", nn.Flatten())]:
        save_case(f"act_{name}", module, act_input if name != "flatten" else x4)

    pool_input = torch.randn(2, 3, 11, 13)
    save_case("maxpool_ceil", nn.MaxPool2d(3, stride=2, ceil_mode=True), pool_input)
    save_case("avgpool_pad", nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), pool_input)
    save_case("adaptive_avg_7", nn.AdaptiveAvgPool2d(7), torch.randn(2, 3, 5, 6))
    from timm.models._efficientnet_blocks import SqueezeExcite
    save_case("squeeze_excite", SqueezeExcite(8, rd_ratio=0.25), torch.randn(2, 8, 5, 5))


def loss_cases():
    logits = torch.randn(6, 5) * 3
    labels = torch.tensor([0, 4, 2, 2, 1, 3])
    tensors = {"logits": logits, "labels": labels}
    for name, kwargs in [("mean", {}), ("sum", {"reduction": "sum"}), ("smooth", {"label_smoothing": 0.1})]:
        z = logits.clone().requires_grad_(True)
        loss = F.cross_entropy(z, labels, **kwargs)
        loss.backward()
        tensors[f"ce_{name}"] = loss.detach().reshape([])
        tensors[f"ce_{name}_grad"] = z.grad
    targets = (torch.rand(6, 5) > 0.5).float()
    z = logits.clone().requires_grad_(True)
    loss = F.binary_cross_entropy_with_logits(z, targets)
    loss.backward()
    tensors.update({"bce_targets": targets, "bce": loss.detach().reshape([]), "bce_grad": z.grad})
    pred = logits.clone().requires_grad_(True)
    loss = F.mse_loss(pred, targets)
    loss.backward()
    tensors.update({"mse": loss.detach().reshape([]), "mse_grad": pred.grad})
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(OUT, "losses.safetensors"))


def optimizer_cases():
    """20 steps of each optimizer on L(p) = mean((p·a − b)²) + 0.01·Σp⁴ from a fixed start."""
    a = torch.randn(4, 3)
    b = torch.randn(4, 3)
    start = torch.randn(4, 3)
    tensors = {"a": a, "b": b, "start": start}
    configs = {
        "sgd_momentum": lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9),
        "sgd_nesterov_wd": lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        "sgd_dampening": lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.8, dampening=0.3),
        "adam": lambda p: torch.optim.Adam([p], lr=0.01),
        "adam_l2": lambda p: torch.optim.Adam([p], lr=0.01, weight_decay=0.1),
        "adamw": lambda p: torch.optim.AdamW([p], lr=0.01, weight_decay=0.01),
    }
    for name, make in configs.items():
        p = start.clone().requires_grad_(True)
        opt = make(p)
        trajectory = []
        for _ in range(20):
            opt.zero_grad()
            loss = ((p * a - b) ** 2).mean() + 0.01 * (p ** 4).sum()
            loss.backward()
            opt.step()
            trajectory.append(p.detach().clone())
        tensors[f"{name}_trajectory"] = torch.stack(trajectory)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(OUT, "optimizers.safetensors"))


def schedule_cases():
    from timm.scheduler import CosineLRScheduler
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.AdamW([p], lr=1e-4)
    scheduler = CosineLRScheduler(opt, t_initial=100, cycle_limit=1, t_in_epochs=True)
    # The paper's loop: train epoch e with the current lr, then scheduler.step(epoch=e).
    lrs = []
    for epoch in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        scheduler.step(epoch=epoch)
    warm = CosineLRScheduler(torch.optim.SGD([p], lr=0.1), t_initial=30, lr_min=1e-3, warmup_t=5, warmup_lr_init=1e-4)
    warm_values = [warm._get_lr(t)[0] for t in range(40)]
    save_file({"paper_epoch_lr": torch.tensor(lrs, dtype=torch.float64),
               "warmup_lr": torch.tensor(warm_values, dtype=torch.float64)},
              os.path.join(OUT, "schedules.safetensors"))


def small_cnn():
    """The CNN of MedLayersTests.swiftWrittenCheckpoint, as a torch nn.Sequential with the same keys."""
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 3))


def verify():
    path = os.path.join(OUT, "swift_cnn.safetensors")
    tensors = load_file(path)
    model = small_cnn()
    expected = model.state_dict()
    assert set(tensors) == set(expected), f"keys differ: {set(tensors) ^ set(expected)}"
    for key, value in expected.items():
        assert tensors[key].dtype == value.dtype, f"{key}: dtype {tensors[key].dtype}, torch has {value.dtype}"
        assert tensors[key].shape == value.shape, f"{key}: shape {tensors[key].shape} vs {value.shape}"
    model.load_state_dict(tensors, strict=True)
    reference = load_file(os.path.join(OUT, "swift_cnn_io.safetensors"))
    model.eval()
    with torch.no_grad():
        out = model(reference["input"])
    error = (out - reference["output"]).abs().max() / reference["output"].abs().max()
    assert error < 1e-5, f"eval output differs from the Swift library's by {error}"
    print(f"verified {path}: {len(tensors)} tensors, keys and dtypes as torch, "
          f"num_batches_tracked={tensors['1.num_batches_tracked'].item()} (int64), eval output rel. error {error:.2e}")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    if "--verify" in sys.argv:
        verify()
    else:
        layer_cases()
        loss_cases()
        optimizer_cases()
        schedule_cases()
        print("wrote", sorted(os.listdir(OUT)))
