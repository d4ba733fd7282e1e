#!/usr/bin/env python3
"""Regenerates the PyTorch parity fixtures for MedTensor's convolution and pooling ops.

Writes small .npy files under Tests/Fixtures/conv/ (next to this script): for each configuration, float32
inputs, weights, outputs, the upstream gradient `gy` used for backward, the resulting gradients, and for
max pooling the int64 indices. ConvolutionTests.swift and PoolingTests.swift repeat each configuration's
arguments by name. Run:  python3 Tests/Fixtures/make_conv_fixtures.py   (torch, numpy)
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(20240501)


def save(name, **arrays):
    for key, value in arrays.items():
        array = value.detach().cpu().numpy()
        array = array.astype(np.int64 if array.dtype.kind in "iu" else np.float32)
        np.save(os.path.join(OUT, f"{name}_{key}.npy"), np.ascontiguousarray(array))


def distinct(shape):
    """Values without ties, spaced 0.05 apart: max-pool gradients stay put under finite differences."""
    count = int(np.prod(shape))
    return (torch.randperm(count).float() * 0.05 - count * 0.025).reshape(shape)


# name: (input shape, weight shape, bias?, conv kwargs)
CONVS = {
    "conv_pad1": ([2, 3, 9, 8], [4, 3, 3, 3], True, dict(stride=1, padding=1)),
    "conv_stride_dil_group": ([1, 4, 11, 10], [6, 2, 3, 2], True,
                              dict(stride=(2, 3), padding=(2, 1), dilation=(2, 1), groups=2)),
    "conv_depthwise_mult2": ([2, 3, 7, 7], [6, 1, 3, 3], True, dict(stride=2, padding=1, groups=3)),
    "conv_pointwise": ([2, 5, 6, 5], [3, 5, 1, 1], True, dict()),
    "conv_stem7": ([1, 3, 16, 16], [8, 3, 7, 7], False, dict(stride=2, padding=3)),
}

for name, (xs, ws, has_bias, kwargs) in CONVS.items():
    x = torch.randn(xs, requires_grad=True)
    w = (torch.randn(ws) * 0.3).requires_grad_()
    b = torch.randn(ws[0], requires_grad=True) if has_bias else None
    y = F.conv2d(x, w, b, **kwargs)
    gy = torch.randn(y.shape)
    y.backward(gy)
    arrays = dict(x=x, w=w, y=y, gy=gy, gx=x.grad, gw=w.grad)
    if has_bias:
        arrays.update(b=b, gb=b.grad)
    save(name, **arrays)

# name: (input shape, kwargs)
MAX_POOLS = {
    "maxpool_k3s2_ceil": ([1, 2, 7, 7], dict(kernel_size=3, stride=2, ceil_mode=True)),
    "maxpool_pad_dil_ceil": ([2, 2, 8, 9], dict(kernel_size=(3, 2), stride=2, padding=1, dilation=(2, 1), ceil_mode=True)),
    "maxpool_ceil_drops_last": ([1, 1, 5, 5], dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
    "maxpool_k3s2p1": ([2, 3, 8, 8], dict(kernel_size=3, stride=2, padding=1)),
}
for name, (xs, kwargs) in MAX_POOLS.items():
    x = distinct(xs).requires_grad_()
    y, idx = F.max_pool2d(x, return_indices=True, **kwargs)
    gy = torch.randn(y.shape)
    y.backward(gy)
    save(name, x=x, y=y, idx=idx, gy=gy, gx=x.grad)

AVG_POOLS = {
    "avgpool_ceil_pad_include": ([1, 2, 7, 6], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    "avgpool_ceil_pad_exclude": ([1, 2, 7, 6], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    "avgpool_divisor": ([1, 2, 7, 6], dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True, divisor_override=5)),
    "avgpool_ceil_nopad": ([1, 1, 6, 6], dict(kernel_size=4, stride=3, ceil_mode=True)),
    "avgpool_k2": ([2, 3, 6, 8], dict(kernel_size=2)),
}
for name, (xs, kwargs) in AVG_POOLS.items():
    x = torch.randn(xs, requires_grad=True)
    y = F.avg_pool2d(x, **kwargs)
    gy = torch.randn(y.shape)
    y.backward(gy)
    save(name, x=x, y=y, gy=gy, gx=x.grad)

ADAPTIVE = {
    "adaptive_avg_2to7": ([1, 3, 2, 2], (7, 7), False),
    "adaptive_avg_5to3": ([2, 2, 5, 5], (3, 3), False),
    "adaptive_avg_10x7to6": ([1, 2, 10, 7], (6, 6), False),
    "adaptive_avg_7x9to3x4": ([1, 2, 7, 9], (3, 4), False),
    "adaptive_max_5to3": ([1, 2, 5, 5], (3, 3), True),
    "adaptive_max_2x3to7": ([1, 2, 2, 3], (7, 7), True),
}
for name, (xs, size, is_max) in ADAPTIVE.items():
    if is_max:
        x = distinct(xs).requires_grad_()
        y, idx = F.adaptive_max_pool2d(x, size, return_indices=True)
    else:
        x = torch.randn(xs, requires_grad=True)
        y = F.adaptive_avg_pool2d(x, size)
    gy = torch.randn(y.shape)
    y.backward(gy)
    arrays = dict(x=x, y=y, gy=gy, gx=x.grad)
    if is_max:
        arrays["idx"] = idx
    save(name, **arrays)

print(f"wrote {len(os.listdir(OUT))} files to {OUT}")
