"""The paper's slim backbone + represented global context (RGC) classifier, and the baselines.

Choices where the paper is silent or ambiguous (also in training/README.md):
- Input 1x48x48 grey: the paper states 128x128 RGB, but its 0.019 GFLOPs only fit ~48x48, its
  M-KDEF crops are 48x48, and FER2013 is 48x48 grey. `--input-size` allows larger inputs.
- Eq. 2 uses two 3x3 branches: one (B) is multiplied with the single 7x7 map A and pooled to a
  c/2 vector, which then weights the second branch (V) channel-wise before the 3x3 back to c.
- Stage widths/strides were chosen so that the backbone has ~376K and the full model ~756K
  parameters (the paper's counts), see `python -m masked_fer_train.model`.
"""
import torch
from torch import nn

# (expansion t, out channels c, repeats n, first stride s): six inverted-residual stages,
# expansion 1 in the first stage and 6 elsewhere, as in the paper.
SLIM_STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2), (6, 64, 3, 2), (6, 88, 1, 1), (6, 160, 1, 1)]
STEM_CHANNELS = 32


class InvertedResidual(nn.Module):
    """Eq. 1: y = C1+BN(ReLU(CDW+BN(C1(x)))), with a skip when shapes allow (MobileNetV2)."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True)]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout),
        ]
        self.block = nn.Sequential(*layers)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = self.block(x)
        return x + y if self.skip else y


class SlimBackbone(nn.Module):
    def __init__(self, in_ch: int = 1, stages=SLIM_STAGES, stem: int = STEM_CHANNELS):
        super().__init__()
        layers = [nn.Conv2d(in_ch, stem, 3, 2, 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU(inplace=True)]
        cin = stem
        for t, c, n, s in stages:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        self.features = nn.Sequential(*layers)
        self.out_channels = cin

    def forward(self, x):
        return self.features(x)


class GlobalContext(nn.Module):
    """Eq. 2: GC = C3(GAP(C7(x) * C3(x)) * C3'(x)) + x."""

    def __init__(self, c: int):
        super().__init__()
        half = c // 2
        self.single = nn.Conv2d(c, 1, 7, padding=3)
        self.half_a = nn.Conv2d(c, half, 3, padding=1)
        self.half_v = nn.Conv2d(c, half, 3, padding=1)
        self.restore = nn.Conv2d(half, c, 3, padding=1)

    def forward(self, x):
        a = self.single(x)  # [B,1,H,W]
        context = (a * self.half_a(x)).mean(dim=(2, 3), keepdim=True)  # [B,c/2,1,1]
        return self.restore(context * self.half_v(x)) + x


class Reconstruction(nn.Module):
    """Eq. 3: RC = ReLU(C1+BN(ReLU(C1*+BN(x)))) + x, with C1* reducing channels by `reduce`."""

    def __init__(self, c: int, reduce: int = 2):
        super().__init__()
        mid = c // reduce
        self.body = nn.Sequential(
            nn.Conv2d(c, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.body(x) + x


class ExpressionNet(nn.Module):
    """Backbone -> optional RGC -> GAP -> dense. Outputs logits (softmax is applied at runtime)."""

    def __init__(self, num_classes: int = 7, in_ch: int = 1, rgc: bool = True, dropout: float = 0.2):
        super().__init__()
        self.backbone = SlimBackbone(in_ch)
        c = self.backbone.out_channels
        self.rgc = nn.Sequential(GlobalContext(c), Reconstruction(c)) if rgc else nn.Identity()
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(c, num_classes))

    def forward(self, x):
        return self.head(self.rgc(self.backbone(x)))


def mobilenet_v2(num_classes: int = 7, in_ch: int = 1) -> nn.Module:
    """torchvision MobileNetV2 (width 1.0, its strides unchanged) with a one-channel grey stem. At
    the shipped 64x64 input it ends on a 2x2 map and costs 1.2x the slim + RGC model's MACs: the
    paper's comparison at the same input. (A stride-1 stem would cost 4x that and ~2.5 h per
    10 epochs here.)"""
    from torchvision.models import mobilenet_v2 as tv_mnv2

    net = tv_mnv2(num_classes=num_classes)
    net.features[0][0] = nn.Conv2d(in_ch, 32, 3, 2, 1, bias=False)
    return net


ARCHS = {
    "slim_rgc": lambda in_ch: ExpressionNet(in_ch=in_ch, rgc=True),
    "slim": lambda in_ch: ExpressionNet(in_ch=in_ch, rgc=False),
    "mobilenetv2": lambda in_ch: mobilenet_v2(in_ch=in_ch),
}


def build(arch: str, in_ch: int = 1) -> nn.Module:
    if arch not in ARCHS:
        raise SystemExit(f"unknown arch {arch!r}; choose from {sorted(ARCHS)}")
    return ARCHS[arch](in_ch)


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


if __name__ == "__main__":
    for name in ARCHS:
        m = build(name)
        extra = ""
        if isinstance(m, ExpressionNet):
            extra = f"  backbone {count_params(m.backbone):,}"
        print(f"{name:12s} params {count_params(m):,}{extra}")
