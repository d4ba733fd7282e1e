#!/usr/bin/env python3
"""Regenerates the MedModels parity fixtures from timm 1.0.31 / torchvision 0.29.

Usage:
  python3 Tests/Fixtures/make_model_fixtures.py            reduced variants -> Tests/Fixtures/models/ (committed, ~3.8 MB)
  python3 Tests/Fixtures/make_model_fixtures.py --full     full-size models -> Tests/Fixtures/models-full/ (not committed,
                                                            ~2.6 GB: VGG16, AlexNet and the ViT-Bs dominate); the Swift tests use
                                                            them when present and skip otherwise
  python3 Tests/Fixtures/make_model_fixtures.py --full --only resnet18,efficientnet_b0     a subset
  python3 Tests/Fixtures/make_model_fixtures.py --full --train-only                        training fixtures only
  python3 Tests/Fixtures/make_model_fixtures.py --vit                  only the ViT fixtures (reduced; with --full
                                                            the full-size ones, ~1.4 GB)
  python3 Tests/Fixtures/make_model_fixtures.py --eva-sam              only the EVA-02 and SAM fixtures (reduced, ~9 MB;
                                                            with --full the full-size ones, ~0.7 GB)
  python3 Tests/Fixtures/make_model_fixtures.py --verify DIR
                                                            loads DIR/swift_resnet18.safetensors into timm's
                                                            resnet18 and compares its logits with the Swift ones;
                                                            the Swift test `savedResNet18LoadsBack` leaves that
                                                            file in DIR only when asked to (tests write nowhere
                                                            but temporary directories otherwise):
      MEDMODELS_VERIFY_DIR=DIR swift test -c release -Xswiftc -enable-testing --filter savedResNet18LoadsBack

Weights are random (fixed seeds), not pretrained: every BatchNorm gets random affine parameters and running
statistics calibrated on random 224-pixel batches in training mode (so evaluation-mode BN is not the identity), then:

  <name>.safetensors        param.<key> (the state dict), logits.<res> and features.<res> (pre-logit features)
                            in eval mode for each input resolution the architecture accepts, computed by
                            PyTorch in float64 (PyTorch float32's own errors against them in the metadata)
  inputs.safetensors        input.<res>, N(0, 1) images shared by all models: 28, 64, 224, 72x56 (H x W)
  train_<name>.safetensors  one training step on a batch of 4 at 64 px (dropout and drop-path 0): param.<key>
                            before it, input, labels (int64), logits, loss (cross-entropy, mean), grad.<key>
                            for every parameter, after.<key> for BatchNorm buffers after the step; computed
                            by PyTorch in float64 (see write_train), PyTorch float32's errors in the metadata

Reduced variants use timm's/torchvision's own classes with smaller configurations (the Swift tests build
the same configurations):
  resnet18_reduced          timm ResNet(BasicBlock, layers=(1,1,1,1), channels=(8,16,24,32))
  resnet50_reduced          timm ResNet(Bottleneck, layers=(1,1,1,1), channels=(4,8,12,16))
  vgg16_reduced             timm VGG(cfg=[8,8,M,16,16,M,16,16,16,M,24,24,24,M,24,24,24,M]) with pre_logits
                            ConvMlp(24, 32, 7) and head ClassifierHead(32, 9)
  alexnet_reduced           torchvision AlexNet with conv widths (8,16,24,16,16) and hidden width 32
  densenet121_reduced       timm DenseNet(growth_rate=8, block_config=(2,3,4,2), bn_size=2)
  efficientnet_b0_reduced   timm _gen_efficientnet(channel_multiplier=0.125, depth_multiplier=0.5)
  efficientnet_b4_reduced   timm _gen_efficientnet(channel_multiplier=0.125, depth_multiplier=0.9)
  vit_tiny_reduced          timm VisionTransformer(embed_dim=192, depth=2, num_heads=3): vit_tiny's width and heads
  vit_small_reduced         embed_dim=96, depth=2, num_heads=6 (vit_small's head count)
  vit_base_reduced          embed_dim=96, depth=2, num_heads=12 (vit_base's head count)
  vit_base_dino_reduced     as vit_base_reduced with num_classes=0 (DINO: no head, the logits are the features)
  vit_base_clip_reduced     as vit_base_reduced with CLIP's pre_norm=True and LayerNorm eps 1e-5
  vit_base_clip_quickgelu_reduced   the same with act_layer='quick_gelu'
All with 9 classes (but DINO). Every ViT is built with dynamic_img_size=True, dynamic_img_pad=True, as the Swift
models are: inputs of 28 are zero-padded right/bottom to 32 (a 2x2 grid), and the position embedding is resampled
(bicubic, antialiased, class token kept) to every grid but 14x14. Their inputs are vit_inputs.safetensors (28, 64,
128, 224 and 72x56); their LayerNorm affine parameters, Linear biases and class token are randomised and the Linear
weights drawn N(0, 1/fan_in) so that no part is an identity and attention is not uniform. The ViT training fixtures
are a 2-block vit_small_reduced at 64 px (the resampled position embedding's gradient) and
vit_base_clip_quickgelu_reduced at 28 px (padding, pre-norm, QuickGELU). The float64 references resample the
position embedding in float64 (timm casts it to float32 for F.interpolate; the patch below keeps the dtype).
Full-size ViTs (models-full/): vit_tiny_patch16_224, vit_small_patch16_224, vit_base_patch16_224,
vit_base_patch16_224.dino (num_classes=0), vit_base_patch16_clip_224, vit_base_patch16_clip_quickgelu_224, with the
same randomisation and models-full/vit_inputs.safetensors.
EVA-02 and SAM (on the ViTs' inputs): eva02_base_reduced is timm's Eva with eva02_base_patch16_clip_224's flags
(EVA_FLAGS) at width 128 with 2 blocks of 2 heads (64 wide: the full model's 16 rotary bands per axis), built with
dynamic_img_size=True, dynamic_img_pad=True; samvit_base_reduced is VisionTransformerSAM for 1024 px at width 96
with 2 blocks (block 0 windowed, block 1 global) and a 32-wide neck. SAM's patch embedding is built with
dynamic_img_pad=True (SAM_EMBED): timm's samvit rejects sides that are not a multiple of 16 (28, 72x56); with
the flag it pads them as the Swift model does, and is unchanged at multiples of 16. Their relative-position
tables are randomised too (zero at timm's init). train_eva02_base_reduced is one step at 64 px. The float64
references resample both position embeddings in float64; timm builds the rotary table in float32 for every model
dtype, as the Swift model does. Full size (models-full/): eva02_base_patch16_clip_224, samvit_base_patch16.
"""
import argparse
import os
import sys
from functools import partial

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import timm
import torchvision
from safetensors.torch import load_file, save_file
from timm.layers import ClassifierHead
from timm.models.densenet import DenseNet
from timm.models.efficientnet import _gen_efficientnet
from timm.models.resnet import BasicBlock, Bottleneck, ResNet
from timm.models.vgg import VGG, ConvMlp
import timm.models.eva as eva
import timm.models.vision_transformer as vision_transformer
import timm.models.vision_transformer_sam as vision_transformer_sam
from timm.layers import Format, PatchEmbed
from timm.models.eva import Eva
from timm.models.vision_transformer import VisionTransformer
from timm.models.vision_transformer_sam import VisionTransformerSAM

HERE = os.path.dirname(os.path.abspath(__file__))
NUM_CLASSES = 9
torch.set_num_threads(2)

# Smallest input side each architecture accepts: AlexNet 63, VGG 32, DenseNet 29, ResNet/EfficientNet 1.
MIN_SIZE = {"alexnet": 63, "vgg16": 32, "densenet121": 29}


def family(name):
    return name.replace("_reduced", "")


def accepts(name, h, w):
    return min(h, w) >= MIN_SIZE.get(family(name), 1)


def is_vit(name):
    return name.startswith("vit_")


def is_eva(name):
    return name.startswith("eva02_")


def is_sam(name):
    return name.startswith("samvit_")


def is_transformer(name):
    return is_vit(name) or is_eva(name) or is_sam(name)


def resample_abs_pos_embed_keeping_dtype(posemb, new_size, old_size=None, num_prefix_tokens=1, interpolation="bicubic",
                                         antialias=True, verbose=False, align_corners=None):
    """timm's resample_abs_pos_embed without its cast to float32, so that the float64 reference stays float64
    (identical for float32 models)."""
    num_pos_tokens = posemb.shape[1]
    if new_size[0] * new_size[1] + num_prefix_tokens == num_pos_tokens and old_size is not None \
            and tuple(old_size) == tuple(new_size):
        return posemb
    if old_size is None:
        hw = int(round((num_pos_tokens - num_prefix_tokens) ** 0.5))
        old_size = hw, hw
    prefix, grid = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    dim = grid.shape[-1]
    grid = grid.reshape(1, old_size[0], old_size[1], -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_size, mode=interpolation, align_corners=align_corners, antialias=antialias)
    grid = grid.permute(0, 2, 3, 1).reshape(1, -1, dim)
    return torch.cat([prefix, grid], dim=1) if num_prefix_tokens else grid


def resample_abs_pos_embed_nhwc_keeping_dtype(posemb, new_size, interpolation="bicubic", antialias=True, verbose=False):
    """timm's resample_abs_pos_embed_nhwc (SAM) without its cast to float32 (identical for float32 models)."""
    if new_size[0] == posemb.shape[-3] and new_size[1] == posemb.shape[-2]:
        return posemb
    posemb = posemb.reshape(1, posemb.shape[-3], posemb.shape[-2], posemb.shape[-1]).permute(0, 3, 1, 2)
    posemb = F.interpolate(posemb, size=new_size, mode=interpolation, antialias=antialias)
    return posemb.permute(0, 2, 3, 1)


vision_transformer.resample_abs_pos_embed = resample_abs_pos_embed_keeping_dtype
eva.resample_abs_pos_embed = resample_abs_pos_embed_keeping_dtype
vision_transformer_sam.resample_abs_pos_embed_nhwc = resample_abs_pos_embed_nhwc_keeping_dtype

VIT_DYNAMIC = dict(dynamic_img_size=True, dynamic_img_pad=True)
VIT_REDUCED = {
    "vit_tiny_reduced": dict(embed_dim=192, depth=2, num_heads=3),
    "vit_small_reduced": dict(embed_dim=96, depth=2, num_heads=6),
    "vit_base_reduced": dict(embed_dim=96, depth=2, num_heads=12),
    "vit_base_dino_reduced": dict(embed_dim=96, depth=2, num_heads=12, num_classes=0),
    "vit_base_clip_reduced": dict(embed_dim=96, depth=2, num_heads=12, pre_norm=True,
                                  norm_layer=partial(nn.LayerNorm, eps=1e-5)),
    "vit_base_clip_quickgelu_reduced": dict(embed_dim=96, depth=2, num_heads=12, pre_norm=True,
                                            norm_layer=partial(nn.LayerNorm, eps=1e-5), act_layer="quick_gelu"),
}


# EVA-02 (eva02_base_patch16_clip_224's flags) and SAM (samvit_base_patch16's) at reduced depth and width. SAM's
# patch embedding gets dynamic_img_pad=True, which timm's samvit does not set (it rejects sides that are not a
# multiple of 16, such as 28); that is how the Swift model treats them.
EVA_FLAGS = dict(img_size=224, patch_size=16, qkv_fused=False, mlp_ratio=4 * 2 / 3, swiglu_mlp=True, scale_mlp=True,
                 scale_attn_inner=True, use_rot_pos_emb=True, ref_feat_shape=(16, 16), global_pool="token")
SAM_EMBED = partial(PatchEmbed, output_fmt=Format.NHWC, strict_img_size=False, dynamic_img_pad=True)
EVA_REDUCED = {
    # Two heads of width 64, as the full model's: 16 rotary bands per axis.
    "eva02_base_reduced": dict(embed_dim=128, depth=2, num_heads=2),
}
SAM_REDUCED = {
    # Block 0 windowed (14 x 14 windows, 27-entry tables), block 1 global (127-entry tables for the 64 x 64 grid
    # of 1024 px); the neck 32 channels wide instead of 256.
    "samvit_base_reduced": dict(img_size=1024, patch_size=16, embed_dim=96, depth=2, num_heads=12, window_size=14,
                                global_attn_indexes=(1,), use_rel_pos=True, neck_chans=32),
}


def randomize_transformer(model, seed):
    """Random LayerNorm affine parameters, Linear biases and class token; Linear weights N(0, 1/fan_in) (qkv with
    twice that std, so that attention is far from uniform)."""
    generator = torch.Generator().manual_seed(seed + 2)
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=generator) + 0.5)
                m.bias.copy_((torch.rand(m.bias.shape, generator=generator) - 0.5) * 0.5)
            elif isinstance(m, nn.Linear):
                std = (2.0 if name.endswith(("qkv", "q_proj", "k_proj")) else 1.0) / m.in_features ** 0.5
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * std)
                if m.bias is not None:
                    m.bias.copy_((torch.rand(m.bias.shape, generator=generator) - 0.5) * 0.2)
        if getattr(model, "cls_token", None) is not None:
            model.cls_token.copy_(torch.randn(model.cls_token.shape, generator=generator) * 0.5)
        model.pos_embed.copy_(torch.randn(model.pos_embed.shape, generator=generator) * 0.5)
        for name, p in model.named_parameters():
            if "rel_pos_" in name:
                # SAM's tables start at zero. Std 0.5 for 8-wide heads (the reduced model), scaled by
                # sqrt(8 / head width) so that the bias q . R has the same spread at any head width: with 0.5 at
                # 64-wide heads the full model's softmaxes are so peaked that PyTorch's own float32 is off by
                # 1.3e-4 from float64 at 128 px.
                p.copy_(torch.randn(p.shape, generator=generator) * 0.5 * (8 / p.shape[1]) ** 0.5)


# ---------------------------------------------------------------- models

def reduced_model(name):
    if name == "resnet18_reduced":
        return ResNet(BasicBlock, (1, 1, 1, 1), channels=(8, 16, 24, 32), num_classes=NUM_CLASSES)
    if name == "resnet50_reduced":
        return ResNet(Bottleneck, (1, 1, 1, 1), channels=(4, 8, 12, 16), num_classes=NUM_CLASSES)
    if name == "vgg16_reduced":
        cfg = [8, 8, "M", 16, 16, "M", 16, 16, 16, "M", 24, 24, 24, "M", 24, 24, 24, "M"]
        model = VGG(cfg, num_classes=NUM_CLASSES)
        model.pre_logits = ConvMlp(24, 32, 7)
        model.head = ClassifierHead(32, NUM_CLASSES)
        model.head_hidden_size = 32
        model._initialize_weights()
        return model
    if name == "alexnet_reduced":
        model = torchvision.models.AlexNet(num_classes=NUM_CLASSES)
        w = (8, 16, 24, 16, 16)
        model.features[0] = nn.Conv2d(3, w[0], kernel_size=11, stride=4, padding=2)
        model.features[3] = nn.Conv2d(w[0], w[1], kernel_size=5, padding=2)
        model.features[6] = nn.Conv2d(w[1], w[2], kernel_size=3, padding=1)
        model.features[8] = nn.Conv2d(w[2], w[3], kernel_size=3, padding=1)
        model.features[10] = nn.Conv2d(w[3], w[4], kernel_size=3, padding=1)
        model.classifier[1] = nn.Linear(w[4] * 36, 32)
        model.classifier[4] = nn.Linear(32, 32)
        model.classifier[6] = nn.Linear(32, NUM_CLASSES)
        return model
    if name == "densenet121_reduced":
        return DenseNet(growth_rate=8, block_config=(2, 3, 4, 2), bn_size=2, num_classes=NUM_CLASSES)
    if name == "efficientnet_b0_reduced":
        return _gen_efficientnet("efficientnet_b0", channel_multiplier=0.125, depth_multiplier=0.5, num_classes=NUM_CLASSES)
    if name == "efficientnet_b4_reduced":
        return _gen_efficientnet("efficientnet_b4", channel_multiplier=0.125, depth_multiplier=0.9, num_classes=NUM_CLASSES)
    if name in VIT_REDUCED:
        return VisionTransformer(**dict(dict(num_classes=NUM_CLASSES), **VIT_REDUCED[name], **VIT_DYNAMIC))
    if name in EVA_REDUCED:
        return Eva(**dict(EVA_FLAGS, num_classes=NUM_CLASSES, **EVA_REDUCED[name], **VIT_DYNAMIC))
    if name in SAM_REDUCED:
        return VisionTransformerSAM(**dict(SAM_REDUCED[name], num_classes=NUM_CLASSES, embed_layer=SAM_EMBED))
    raise ValueError(name)


def full_model(name):
    if name == "alexnet":
        return torchvision.models.alexnet(num_classes=NUM_CLASSES)
    if is_vit(name):
        # DINO checkpoints have no head (num_classes=0): the model's output is its pre-logit features.
        classes = 0 if name.endswith(".dino") else NUM_CLASSES
        return timm.create_model(name, pretrained=False, num_classes=classes, **VIT_DYNAMIC)
    if is_eva(name):
        return timm.create_model(name, pretrained=False, num_classes=NUM_CLASSES, **VIT_DYNAMIC)
    if is_sam(name):
        return timm.create_model(name, pretrained=False, num_classes=NUM_CLASSES, embed_layer=SAM_EMBED)
    return timm.create_model(name, pretrained=False, num_classes=NUM_CLASSES)


def make_model(name, seed):
    torch.manual_seed(seed)
    model = reduced_model(name) if name.endswith("_reduced") else full_model(name)
    randomize_batchnorm(model, seed)
    if is_transformer(name):
        randomize_transformer(model, seed)
    model.eval()
    return model


def randomize_batchnorm(model, seed):
    """Random BN affine parameters, then running statistics averaged over random batches in training mode."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not norms:
        return
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in norms:
            m.weight.copy_(torch.rand(m.weight.shape, generator=generator) + 0.5)
            m.bias.copy_((torch.rand(m.bias.shape, generator=generator) - 0.5) * 0.5)
            m.reset_running_stats()
            m.momentum = None  # cumulative average
        model.train()
        # Statistics from 224-pixel batches. (Statistics from small images, or a cumulative mix with them,
        # make deep random networks blow up at 224 px, where float32 rounding then decides the logits:
        # EfficientNet-B4 reached 1e4-1e7 with PyTorch's own float32 off by 5e-4 or more. Statistics from 224 px
        # keep every evaluated size, 28 to 224, well conditioned.)
        for batch, size in ((2, 224), (2, 224)):
            model(torch.randn(batch, 3, size, size, generator=generator))
        for m in norms:
            m.momentum = 0.1
    model.eval()


def pre_logits(name, model, x):
    if family(name) == "alexnet":
        h = torch.flatten(model.avgpool(model.features(x)), 1)
        return model.classifier[:6](h)
    return model.forward_head(model.forward_features(x), pre_logits=True)


def state_tensors(model, prefix="param."):
    return {prefix + k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


# ---------------------------------------------------------------- writers

def make_inputs(seed, sizes):
    generator = torch.Generator().manual_seed(seed)
    inputs = {}
    for key, (n, h, w) in sizes.items():
        inputs[f"input.{key}"] = torch.randn(n, 3, h, w, generator=generator)
    return inputs


def write_eval(name, seed, inputs, directory):
    """Logits and pre-logit features in eval mode, computed by PyTorch in float64 (stored as float32) so the
    reference is exact to float32 precision; PyTorch's own float32 errors against it go into the metadata."""
    model = make_model(name, seed)
    tensors = state_tensors(model)
    model.eval()
    model64 = make_model(name, seed).double().eval()
    metadata = {"reference": "float64"}
    with torch.no_grad():
        for key, x in inputs.items():
            res = key.split(".", 1)[1]
            if not accepts(name, x.shape[2], x.shape[3]):
                continue
            logits, features = model64(x.double()), pre_logits(name, model64, x.double())
            logits32, features32 = model(x), pre_logits(name, model, x)
            tensors[f"logits.{res}"] = logits.float().contiguous()
            tensors[f"features.{res}"] = features.float().contiguous()
            for what, a, b in (("logits", logits32, logits), ("features", features32, features)):
                metadata[f"torch_float32_{what}_error.{res}"] = "%.3e" % ((a.double() - b).abs().max() / b.abs().max()).item()
    save_file(tensors, os.path.join(directory, f"{name}.safetensors"), metadata=metadata)
    print(f"  {name}: {sum(v.numel() for k, v in tensors.items() if k.startswith('param.'))} values; PyTorch float32 "
          "vs float64 (logits, features): " + ", ".join(
              f"{k.split('.', 1)[1]} {metadata['torch_float32_logits_error.' + k.split('.', 1)[1]]} "
              f"{metadata['torch_float32_features_error.' + k.split('.', 1)[1]]}" for k in tensors if k.startswith("logits.")))


def train_step(name, seed, batch, size, dtype):
    model = make_model(name, seed)
    initial = state_tensors(model)
    model = model.to(dtype)
    generator = torch.Generator().manual_seed(seed + 7)
    x = torch.randn(batch, 3, size, size, generator=generator)
    labels = torch.randint(0, NUM_CLASSES, (batch,), generator=generator)
    model.train()
    logits = model(x.to(dtype))
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    grads = {k: p.grad.detach() for k, p in model.named_parameters()}
    buffers = {k: v.detach().clone() for k, v in model.state_dict().items() if "running_" in k or "num_batches" in k}
    return initial, x, labels, logits.detach(), loss.detach(), grads, buffers


def write_train(name, seed, batch, size, directory):
    """One training-mode forward/backward with dropout and drop-path 0 (timm's defaults).

    The reference is computed by PyTorch in float64 (stored as float32) so that it is exact to float32
    precision; PyTorch's own float32 run is compared with it too, and its worst gradient error is stored in
    the metadata. Gradients that are zero in exact arithmetic (BatchNorm biases whose per-channel constant the
    next training-mode BatchNorm removes) are float64 rounding noise (~1e-15) in the reference."""
    initial, x, labels, logits, loss, grads, buffers = train_step(name, seed, batch, size, torch.float64)
    _, _, _, logits32, loss32, grads32, _ = train_step(name, seed, batch, size, torch.float32)
    scale = max(g.abs().max().item() for g in grads.values())
    worst = max(((g32.double() - grads[k]).abs().max().item() / grads[k].abs().max().item(), k)
                for k, g32 in grads32.items() if grads[k].abs().max().item() > 1e-7 * scale)
    tensors = dict(initial)
    tensors.update({"input": x, "labels": labels.to(torch.int64), "logits": logits.float().contiguous(),
                    "loss": loss.float().reshape(())})
    tensors.update({f"grad.{k}": g.float().contiguous() for k, g in grads.items()})
    tensors.update({f"after.{k}": (v.float() if v.is_floating_point() else v).contiguous() for k, v in buffers.items()})
    loss_error = abs(loss32.item() - loss.item()) / abs(loss.item())
    logits_error = ((logits32.double() - logits).abs().max() / logits.abs().max()).item()
    metadata = {"reference": "float64", "torch_float32_loss_error": f"{loss_error:.3e}",
                "torch_float32_logits_error": f"{logits_error:.3e}",
                "torch_float32_worst_gradient_error": f"{worst[0]:.3e}", "torch_float32_worst_gradient": worst[1]}
    save_file(tensors, os.path.join(directory, f"train_{name}.safetensors"), metadata=metadata)
    print(f"  train_{name}: batch {batch} at {size}px, loss {loss.item():.5f}; PyTorch float32 vs float64: "
          f"loss {loss_error:.2e}, logits {logits_error:.2e}, worst gradient {worst[0]:.2e} ({worst[1]})")


REDUCED = ["resnet18_reduced", "resnet50_reduced", "vgg16_reduced", "alexnet_reduced", "densenet121_reduced",
           "efficientnet_b0_reduced", "efficientnet_b4_reduced"]
FULL = ["resnet18", "resnet50", "vgg16", "alexnet", "densenet121", "efficientnet_b0", "efficientnet_b4"]
SEEDS = {name: 1000 + i for i, name in enumerate(FULL)}
VIT_FULL = ["vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch16_224", "vit_base_patch16_224.dino",
            "vit_base_patch16_clip_224", "vit_base_patch16_clip_quickgelu_224"]
VIT_SEEDS = {name: 2000 + i for i, name in enumerate(list(VIT_REDUCED) + VIT_FULL)}
VIT_TRAIN = [("vit_small_reduced", 64), ("vit_base_clip_quickgelu_reduced", 28)]


EVA_SAM_FULL = ["eva02_base_patch16_clip_224", "samvit_base_patch16"]
EVA_SAM_SEEDS = {name: 3000 + i for i, name in enumerate(list(EVA_REDUCED) + list(SAM_REDUCED) + EVA_SAM_FULL)}
EVA_SAM_TRAIN = [("eva02_base_reduced", 64)]


def seed_of(name):
    if name in EVA_SAM_SEEDS:
        return EVA_SAM_SEEDS[name]
    if name in VIT_SEEDS:
        return VIT_SEEDS[name]
    return SEEDS[family(name)] + (0 if name.endswith("_reduced") else 100)


def vit_inputs(seed):
    return make_inputs(seed, {"28": (2, 28, 28), "64": (2, 64, 64), "128": (1, 128, 128), "224": (1, 224, 224),
                              "72x56": (1, 72, 56)})


def vit_reduced(directory):
    os.makedirs(directory, exist_ok=True)
    inputs = vit_inputs(13)
    save_file(inputs, os.path.join(directory, "vit_inputs.safetensors"))
    for name in VIT_REDUCED:
        write_eval(name, seed_of(name), inputs, directory)
    for name, size in VIT_TRAIN:
        write_train(name, seed_of(name), 4, size, directory)


def vit_full(directory, only):
    os.makedirs(directory, exist_ok=True)
    inputs = vit_inputs(17)
    del inputs["input.72x56"]
    save_file(inputs, os.path.join(directory, "vit_inputs.safetensors"))
    for name in VIT_FULL:
        if not only or name in only:
            write_eval(name, seed_of(name), inputs, directory)


def eva_sam_reduced(directory):
    """EVA-02 and SAM on the ViTs' inputs (vit_inputs.safetensors, written by vit_reduced with the same seed)."""
    os.makedirs(directory, exist_ok=True)
    inputs = vit_inputs(13)
    save_file(inputs, os.path.join(directory, "vit_inputs.safetensors"))
    for name in list(EVA_REDUCED) + list(SAM_REDUCED):
        write_eval(name, seed_of(name), inputs, directory)
    for name, size in EVA_SAM_TRAIN:
        write_train(name, seed_of(name), 4, size, directory)


def eva_sam_full(directory, only):
    os.makedirs(directory, exist_ok=True)
    inputs = vit_inputs(17)
    del inputs["input.72x56"]
    save_file(inputs, os.path.join(directory, "vit_inputs.safetensors"))
    for name in EVA_SAM_FULL:
        if not only or name in only:
            write_eval(name, seed_of(name), inputs, directory)


def reduced(directory):
    os.makedirs(directory, exist_ok=True)
    inputs = make_inputs(7, {"28": (2, 28, 28), "64": (2, 64, 64), "224": (1, 224, 224), "72x56": (1, 72, 56)})
    save_file(inputs, os.path.join(directory, "inputs.safetensors"))
    for name in REDUCED:
        write_eval(name, seed_of(name), inputs, directory)
    write_train("resnet18_reduced", seed_of("resnet18_reduced"), 4, 64, directory)
    write_train("efficientnet_b0_reduced", seed_of("efficientnet_b0_reduced"), 4, 64, directory)
    vit_reduced(directory)
    eva_sam_reduced(directory)


def full(directory, only, train_only=False):
    os.makedirs(directory, exist_ok=True)
    inputs = make_inputs(11, {"28": (2, 28, 28), "64": (2, 64, 64), "224": (1, 224, 224)})
    save_file(inputs, os.path.join(directory, "inputs.safetensors"))
    for name in FULL:
        if (only and name not in only) or train_only:
            continue
        write_eval(name, seed_of(name), inputs, directory)
    for name in ("resnet18", "efficientnet_b0"):
        if not only or name in only:
            write_train(name, seed_of(name), 4, 64, directory)
    if not train_only:
        vit_full(directory, only)
        eva_sam_full(directory, only)


def verify(directory):
    path = os.path.join(directory, "swift_resnet18.safetensors")
    tensors = load_file(path)
    model = timm.create_model("resnet18", pretrained=False, num_classes=NUM_CLASSES)
    state = {k[len("param."):]: v for k, v in tensors.items() if k.startswith("param.")}
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(tensors["input"])
    reference = tensors["swift_logits"]
    error = (logits - reference).abs().max() / reference.abs().max()
    print(f"timm resnet18 with the Swift checkpoint: relative error of logits {error.item():.3e}")
    sys.exit(0 if error <= 1e-4 else 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="write full-size fixtures into models-full/")
    parser.add_argument("--only", default="", help="comma-separated full-size model names")
    parser.add_argument("--train-only", action="store_true", help="with --full: only the training fixtures")
    parser.add_argument("--vit", action="store_true", help="only the ViT fixtures (reduced, or full-size with --full)")
    parser.add_argument("--eva-sam", action="store_true",
                        help="only the EVA-02 and SAM fixtures (reduced, or full-size with --full)")
    parser.add_argument("--verify", metavar="DIR",
                        help="check DIR/swift_resnet18.safetensors (written by the Swift tests with MEDMODELS_VERIFY_DIR=DIR) in timm")
    args = parser.parse_args()
    if args.verify:
        verify(args.verify)
    elif args.eva_sam:
        if args.full:
            eva_sam_full(os.path.join(HERE, "models-full"), [s for s in args.only.split(",") if s])
        else:
            eva_sam_reduced(os.path.join(HERE, "models"))
    elif args.vit:
        if args.full:
            vit_full(os.path.join(HERE, "models-full"), [s for s in args.only.split(",") if s])
        else:
            vit_reduced(os.path.join(HERE, "models"))
    elif args.full:
        full(os.path.join(HERE, "models-full"), [s for s in args.only.split(",") if s], args.train_only)
    else:
        reduced(os.path.join(HERE, "models"))
