#!/usr/bin/env python3
"""Regenerates the transformer parity fixtures under Tests/Fixtures/transformer/ from PyTorch and timm.

Usage: python3 Tests/Fixtures/make_transformer_fixtures.py   (needs torch, timm, safetensors, numpy)

Each case is a directory transformer/<case>/ holding
  state.safetensors        the module's state dict, keys exactly as timm names them (absent when it has none)
  input.npy                the input x
  projection.npy           fixed random weights w of the output's shape
  output.npy               f(x)
  grad.input.npy           dL/dx for L = sum(f(x) * w)
  grad.param.<key>.npy     dL/d(parameter) for every trainable parameter, keyed as in the state dict
  <extra>.npy              case-specific tensors (rotary tables, the bias of the SDPA cases, ...)
All tensors are float32. Written with torch 2.15 / timm 1.0.31.
"""
import os
import shutil
from functools import partial

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

from timm.layers import Attention, GluMlp, LayerScale, Mlp, PatchEmbed, SwiGLU, resample_abs_pos_embed
from timm.layers import resample_abs_pos_embed_nhwc
from timm.layers.pos_embed_sincos import RotaryEmbeddingCat
from timm.models.eva import EvaAttention
from timm.models.vision_transformer_sam import Attention as SamAttention

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "transformer")
LN6 = partial(nn.LayerNorm, eps=1e-6)


def npy(directory, name, tensor):
    np.save(os.path.join(directory, f"{name}.npy"), tensor.detach().to(torch.float32).contiguous().numpy())


def randomize_norms(module):
    """LayerNorm weights default to 1 and biases to 0; random values make their gradients meaningful."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)


def save_case(name, module, x, forward=None, extras=None):
    """Runs `forward` (default: the module) on x and saves output and gradients of sum(output * w)."""
    directory = os.path.join(OUT, name)
    os.makedirs(directory, exist_ok=True)
    module.eval()
    x = x.clone().requires_grad_(True)
    out = (forward or module)(x)
    projection = torch.randn_like(out)
    (out * projection).sum().backward()
    state = {k: v.detach().clone().contiguous() for k, v in module.state_dict().items()}
    if state:
        save_file(state, os.path.join(directory, "state.safetensors"))
    npy(directory, "input", x)
    npy(directory, "projection", projection)
    npy(directory, "output", out)
    npy(directory, "grad.input", x.grad)
    for key, parameter in module.named_parameters():
        if not parameter.requires_grad:
            continue
        assert parameter.grad is not None, f"{name}: no gradient for {key}"
        npy(directory, f"grad.param.{key}", parameter.grad)
    for key, value in (extras or {}).items():
        npy(directory, key, value)


def attention_cases():
    save_case("attention_qkv_bias", Attention(dim=32, num_heads=4, qkv_bias=True), torch.randn(2, 7, 32))

    m = Attention(dim=24, num_heads=3, qkv_bias=True, qk_norm=True, scale_norm=True, norm_layer=LN6)
    randomize_norms(m)
    save_case("attention_qk_norm", m, torch.randn(2, 9, 24))

    # One head, one token (softmax over a single score).
    save_case("attention_one_token", Attention(dim=16, num_heads=1, qkv_bias=False), torch.randn(3, 1, 16))

    # EVA-02 CLIP layout: separate q/k/v projections (no k bias), sub-LN before proj, rotary embeddings
    # on the 6 patch tokens after one class token.
    m = EvaAttention(dim=24, num_heads=3, qkv_bias=True, qkv_fused=False, num_prefix_tokens=1,
                     norm_layer=LN6, scale_norm=True)
    randomize_norms(m)
    rope = RotaryEmbeddingCat(8, in_pixels=False, feat_shape=[2, 3]).get_embed()   # [6, 16]: sin | cos
    save_case("eva_attention_rope", m, torch.randn(2, 7, 24), forward=lambda x: m(x, rope=rope), extras={"rope": rope})

    # Fused bias-free qkv with q_bias / v_bias parameters.
    m = EvaAttention(dim=16, num_heads=2, qkv_bias=True, qkv_fused=True, num_prefix_tokens=1, scale_norm=False)
    with torch.no_grad():
        m.q_bias.normal_(0, 0.5)
        m.v_bias.normal_(0, 0.5)
    save_case("eva_attention_fused", m, torch.randn(2, 5, 16))

    # SAM: decomposed relative positions on a 3x4 grid, then a 4x4 table used on a 3x3 grid (resized).
    for name, table_grid, grid in [("sam_attention_relpos", (3, 4), (3, 4)), ("sam_attention_relpos_resized", (4, 4), (3, 3))]:
        m = SamAttention(dim=16, num_heads=2, qkv_bias=True, use_rel_pos=True, input_size=table_grid)
        with torch.no_grad():
            m.rel_pos_h.normal_(0, 0.5)
            m.rel_pos_w.normal_(0, 0.5)
        save_case(name, m, torch.randn(2, grid[0], grid[1], 16))


class SDPA(nn.Module):
    """F.scaled_dot_product_attention of q, k, v (the case input is q) with an optional float bias."""

    def __init__(self, k, v, bias=None, scale=None):
        super().__init__()
        self.k = nn.Parameter(k)
        self.v = nn.Parameter(v)
        self.bias = nn.Parameter(bias) if bias is not None else None
        self.scale = scale

    def forward(self, q):
        return F.scaled_dot_product_attention(q, self.k, self.v, attn_mask=self.bias, scale=self.scale)


def sdpa_cases():
    # Queries and keys of different lengths; the parameters are k, v and the bias.
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 6, 8), torch.randn(2, 3, 6, 4)
    save_case("sdpa", SDPA(k, v), q)
    save_case("sdpa_bias", SDPA(k, v, torch.randn(2, 3, 5, 6), scale=0.3), q)
    # A bias broadcast over the batch, with some -inf entries (a mask; no row fully masked).
    bias = torch.randn(3, 5, 6)
    bias[0, 1, 2] = bias[1, 3, 0] = bias[2, 4, 5] = bias[2, 4, 1] = float("-inf")
    m = SDPA(k, v, bias)
    m.bias.requires_grad_(False)
    save_case("sdpa_masked", m, q, extras={"mask": bias})


def mlp_cases():
    save_case("mlp", Mlp(24, 48), torch.randn(2, 5, 24))
    m = SwiGLU(16, 32, norm_layer=LN6)
    randomize_norms(m)
    save_case("swiglu", m, torch.randn(2, 5, 16))
    save_case("glu_mlp", GluMlp(16, 32), torch.randn(2, 5, 16))
    m = LayerScale(16, init_values=0.1)
    with torch.no_grad():
        m.gamma.normal_(0, 1)
    save_case("layer_scale", m, torch.randn(2, 5, 16))


def patch_embed_cases():
    save_case("patch_embed", PatchEmbed(img_size=32, patch_size=8, in_chans=3, embed_dim=48), torch.randn(1, 3, 32, 32))
    m = PatchEmbed(img_size=None, patch_size=8, in_chans=3, embed_dim=8, output_fmt="NHWC", dynamic_img_pad=True,
                   norm_layer=LN6)
    randomize_norms(m)
    save_case("patch_embed_nhwc_pad", m, torch.randn(1, 3, 20, 27))


class Resample(nn.Module):
    """The resampling as a module whose 'input' is the position embedding itself."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def resample_cases():
    posemb = torch.randn(1, 1 + 16, 8)
    for new in [2, 7]:
        for antialias in [False, True]:
            fn = partial(resample_abs_pos_embed, new_size=[new, new], num_prefix_tokens=1, antialias=antialias)
            save_case(f"resample_4to{new}{'_aa' if antialias else ''}", Resample(fn), posemb)
    fn = partial(resample_abs_pos_embed, new_size=[3, 6], old_size=[2, 4], num_prefix_tokens=2, antialias=False)
    save_case("resample_2x4to3x6_prefix2", Resample(fn), torch.randn(1, 2 + 8, 5))
    fn = partial(resample_abs_pos_embed_nhwc, new_size=[3, 5])
    save_case("resample_nhwc_4x4to3x5_aa", Resample(fn), torch.randn(1, 4, 4, 6))


def main():
    torch.manual_seed(0)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    attention_cases()
    sdpa_cases()
    mlp_cases()
    patch_embed_cases()
    resample_cases()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {len(os.listdir(OUT))} cases, {total / 1024:.0f} KB, to {OUT}")


if __name__ == "__main__":
    main()
