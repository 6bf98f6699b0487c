"""Start training from an exported ONNX classifier (the shipped model), when its PyTorch
checkpoint is gone: checkpoints live in git-ignored runs/, the ONNX files in git.

The exporter folds each BatchNorm into the convolution before it (W' = W * g / s, b' = ...).
Unfolding restores a trainable network with the same function: the convolution gets W', and
its BatchNorm gets running statistics (mu, var) measured on training faces at its input, with
gamma = sqrt(var + eps) and beta = b' + mu. In eval mode that is exactly W'x + b'; in training
mode batch statistics are close to (mu, var), so the first steps do not jolt the network.
"""
import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn


def _conv_weights(path) -> list:
    """(weight, bias) of every Conv / Gemm node in graph order."""
    m = onnx.load(str(path))
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    out = []
    for node in m.graph.node:
        if node.op_type in ("Conv", "Gemm"):
            w = init[node.input[1]]
            b = init[node.input[2]] if len(node.input) > 2 else np.zeros(w.shape[0], np.float32)
            out.append((node.input[1], np.array(w), np.array(b)))
    return out


def _layers(net: nn.Module) -> list:
    """(conv or linear, the BatchNorm right after it or None), in forward order."""
    mods = list(net.modules())
    pairs = []
    for k, mod in enumerate(mods):
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            nxt = mods[k + 1] if k + 1 < len(mods) else None
            pairs.append((mod, nxt if isinstance(nxt, nn.BatchNorm2d) else None))
    return pairs


@torch.no_grad()
def load_onnx(net: nn.Module, path, calib: torch.Tensor) -> None:
    """Load the folded weights of `path` into `net` (same architecture), BatchNorm statistics
    measured on `calib` (normalised inputs [B,1,H,W]). Raises ValueError on a shape mismatch."""
    named = {n: p for n, p in net.named_parameters()}
    src = _conv_weights(path)
    by_name = {name: (w, b) for name, w, b in src if name in named}
    anon = [(w, b) for name, w, b in src if name not in named]
    pairs = _layers(net)
    names = {id(m): n for n, m in net.named_modules()}
    k = 0
    for mod, bn in pairs:
        key = names[id(mod)] + ".weight"
        if key in by_name:
            w, b = by_name[key]
        else:
            if k >= len(anon):
                raise ValueError(f"{path}: fewer convolutions than the network has")
            w, b = anon[k]
            k += 1
        if tuple(w.shape) != tuple(mod.weight.shape):
            raise ValueError(f"{path}: {key} has shape {w.shape}, the network {tuple(mod.weight.shape)}")
        mod.weight.copy_(torch.from_numpy(w))
        if bn is None:
            mod.bias.copy_(torch.from_numpy(b))
        else:  # identity BatchNorm for now: eval output = W'x + b'
            bn.running_mean.zero_(), bn.running_var.fill_(1 - bn.eps)
            bn.weight.fill_(1.0), bn.bias.copy_(torch.from_numpy(b))
    if k != len(anon):
        raise ValueError(f"{path}: {len(anon) - k} convolutions left over")
    # Measure each BatchNorm's input statistics with the folded network, then fold them in.
    stats, hooks = {}, []
    for _, bn in pairs:
        if bn is not None:
            hooks.append(bn.register_forward_pre_hook(
                lambda m, inp: stats.setdefault(id(m), []).append(
                    (inp[0].mean((0, 2, 3)), inp[0].var((0, 2, 3), unbiased=False)))))
    net.eval()
    for s in range(0, len(calib), 256):
        net(calib[s:s + 256])
    for h in hooks:
        h.remove()
    for _, bn in pairs:
        if bn is not None:
            mu = torch.stack([m for m, _ in stats[id(bn)]]).mean(0)
            var = torch.stack([v for _, v in stats[id(bn)]]).mean(0)
            bn.running_mean.copy_(mu), bn.running_var.copy_(var)
            bn.bias.add_(mu)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
