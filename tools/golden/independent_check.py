#!/usr/bin/env python
"""Independent re-implementation of the AutoencoderKL forward pass (torch.nn.functional only; no diffusers, no
st_io) that reads a fixture dir (config.json + diffusion_pytorch_model.safetensors + io.safetensors) and checks
the reference outputs. It doubles as an executable spec of what a Java port must do.

Usage: /tmp/venv/bin/python independent_check.py fixtures/vae_tiny_attn [more dirs...]
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

EPS = 1e-6  # every GroupNorm in the VAE (resnets, attention group_norm, conv_norm_out)


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items())
    pos = 0
    for s, e, k in spans:  # spec validation as done by the Rust reader: contiguous, covering the buffer
        assert s == pos, (k, s, pos)
        assert e - s == 4 * math.prod(header[k]["shape"]) and header[k]["dtype"] == "F32", k
        pos = e
    assert pos == len(data)
    return {k: torch.from_numpy(np.frombuffer(data, dtype="<f4", count=math.prod(v["shape"]),
                                              offset=v["data_offsets"][0]).reshape(v["shape"]).copy())
            for k, v in header.items()}


class VAE:
    def __init__(self, w, cfg):
        self.w, self.cfg, self.G = w, cfg, cfg["norm_num_groups"]

    def conv(self, p, x, stride=1, pad=None):
        wt = self.w[p + ".weight"]
        if pad is None:
            pad = wt.shape[-1] // 2  # 3x3 -> 1, 1x1 -> 0
        return F.conv2d(x, wt, self.w[p + ".bias"], stride=stride, padding=pad)

    def gn(self, p, x):
        return F.group_norm(x, self.G, self.w[p + ".weight"], self.w[p + ".bias"], EPS)

    def resnet(self, p, x):
        h = self.conv(p + ".conv1", F.silu(self.gn(p + ".norm1", x)))
        h = self.conv(p + ".conv2", F.silu(self.gn(p + ".norm2", h)))  # dropout p=0
        if p + ".conv_shortcut.weight" in self.w:  # only when in_ch != out_ch (1x1 conv)
            x = self.conv(p + ".conv_shortcut", x)
        return x + h  # output_scale_factor = 1

    def attn(self, p, x):
        B, C, H, W = x.shape
        h = self.gn(p + ".group_norm", x).reshape(B, C, H * W).transpose(1, 2)  # [B, HW, C]
        lin = lambda n, t: F.linear(t, self.w[f"{p}.{n}.weight"], self.w[f"{p}.{n}.bias"])  # noqa: E731
        q, k, v = lin("to_q", h), lin("to_k", h), lin("to_v", h)
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(C), dim=-1)  # ONE head, head_dim = C
        o = lin("to_out.0", a @ v).transpose(1, 2).reshape(B, C, H, W)
        return o + x  # residual_connection=True, rescale_output_factor=1

    def mid(self, p, x):
        x = self.resnet(p + ".resnets.0", x)
        if p + ".attentions.0.to_q.weight" in self.w:
            x = self.attn(p + ".attentions.0", x)
        return self.resnet(p + ".resnets.1", x)

    def encode(self, x):
        c, L = self.cfg, self.cfg["layers_per_block"]
        h = self.conv("encoder.conv_in", x)
        for i in range(len(c["block_out_channels"])):
            for j in range(L):
                h = self.resnet(f"encoder.down_blocks.{i}.resnets.{j}", h)
            if f"encoder.down_blocks.{i}.downsamplers.0.conv.weight" in self.w:
                h = F.pad(h, (0, 1, 0, 1))  # right/bottom zero pad only, then 3x3 stride-2 conv, padding 0
                h = self.conv(f"encoder.down_blocks.{i}.downsamplers.0.conv", h, stride=2, pad=0)
        h = self.mid("encoder.mid_block", h)
        h = self.conv("encoder.conv_out", F.silu(self.gn("encoder.conv_norm_out", h)))
        if "quant_conv.weight" in self.w:
            h = self.conv("quant_conv", h)
        mean, logvar = h.chunk(2, dim=1)
        return h, mean, logvar.clamp(-30.0, 20.0)

    def decode(self, z):
        c, L = self.cfg, self.cfg["layers_per_block"]
        if "post_quant_conv.weight" in self.w:
            z = self.conv("post_quant_conv", z)
        h = self.mid("decoder.mid_block", self.conv("decoder.conv_in", z))
        for i in range(len(c["block_out_channels"])):
            for j in range(L + 1):  # decoder blocks have layers_per_block + 1 resnets
                h = self.resnet(f"decoder.up_blocks.{i}.resnets.{j}", h)
            if f"decoder.up_blocks.{i}.upsamplers.0.conv.weight" in self.w:
                h = F.interpolate(h, scale_factor=2.0, mode="nearest")
                h = self.conv(f"decoder.up_blocks.{i}.upsamplers.0.conv", h)
        return self.conv("decoder.conv_out", F.silu(self.gn("decoder.conv_norm_out", h)))


def check(d):
    cfg = json.load(open(f"{d}/config.json"))
    vae = VAE(read_safetensors(f"{d}/diffusion_pytorch_model.safetensors"), cfg)
    io = read_safetensors(f"{d}/io.safetensors")
    worst = 0.0
    with torch.no_grad():
        for pre in ("", "rect_"):
            x = io[pre + "input"]
            mom, mean, logvar = vae.encode(x)
            got = {pre + "posterior_mean": mean, pre + "posterior_logvar": logvar,
                   pre + "forward_sample": vae.decode(mean)}
            if not pre:
                got.update(moments=mom, decoded_mean=vae.decode(io["posterior_mean"]))
            for k, v in got.items():
                diff = float((v - io[k]).abs().max())
                tol = 1e-4 * max(1.0, float(io[k].abs().max()))
                worst = max(worst, diff / tol)
                print(f"  {k:24s} shape={list(v.shape)} maxabs={float(io[k].abs().max()):9.4f} maxdiff={diff:.3e}")
                assert diff <= tol, (k, diff, tol)
    print(f"{d}: OK (worst diff/tol = {worst:.3f})")


if __name__ == "__main__":
    torch.set_num_threads(1)
    for d in sys.argv[1:]:
        check(d)
