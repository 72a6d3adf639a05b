"""Higher-order derivatives through convolutions and pooling, three ways:

1. LeNet-5's largest Hessian eigenvalue with respect to conv1's weights, by power iteration on
   Hessian-vector products (``autograd.functional.hvp``), checked against the full Hessian.
2. A gradient-penalty training step (WGAN-GP style): the critic's loss includes ‖∇ₓ D(x)‖, so
   its backward runs through the backward of conv and pooling.
3. The Jacobian of a conv layer's output with respect to its input, drawn as an image.

    python examples/higher_order.py [--batch 64] [--iters 20] [--out-dir .] [--data-dir DIR]

Uses the first MNIST images when the data is found ($TINYGRAD_CNN_DATA or --data-dir), random
images otherwise.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn
from tinygrad_cnn.autograd.functional import hessian, hvp, jacobian


def images(batch: int, data_dir: str | None) -> tuple[tc.Tensor, tc.Tensor]:
    """``batch`` normalised MNIST images and labels, or random ones when MNIST is not there."""
    root = data_dir or os.environ.get("TINYGRAD_CNN_DATA")
    if root and (Path(root) / "mnist").is_dir():
        from tinygrad_cnn.data import MNIST

        x, y = MNIST(root, train=True, transform=MNIST.normalization()).get_batch(np.arange(batch))
        return x, y
    rng = np.random.default_rng(0)
    return tc.from_numpy(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)), tc.from_numpy(
        rng.integers(0, 10, batch))


def top_hessian_eigenvalue(batch: int, iters: int, data_dir: str | None) -> None:
    tc.manual_seed(0)
    model = nn.LeNet5()
    x, y = images(batch, data_dir)

    def loss_of(w1: tc.Tensor) -> tc.Tensor:
        """The training loss as a function of conv1's weights, the other parameters held."""
        h = model.pool1(model.act1(F.conv2d(x, w1, model.conv1.bias, padding=2)))
        h = model.pool2(model.act2(model.conv2(h))).flatten(1)
        return F.cross_entropy(model.fc3(model.act4(model.fc2(model.act3(model.fc1(h))))), y)

    w1 = model.conv1.weight.detach()
    v = tc.randn(*w1.shape)
    v = v / v.norm()
    eigenvalue = 0.0
    for _ in range(iters):
        _, hv = hvp(loss_of, w1, v)
        eigenvalue = float((hv * v).sum())  # the Rayleigh quotient vᵀHv of the unit vector v
        v = hv / hv.norm()
    print(f"1. LeNet-5, batch {batch}: largest Hessian eigenvalue w.r.t. conv1's {w1.numel()} weights by "
          f"{iters} power iterations on hvp: {eigenvalue:.6g}")
    full = hessian(loss_of, w1).numpy().reshape(w1.numel(), w1.numel()).astype(np.float64)
    eigs = np.linalg.eigvalsh((full + full.T) / 2)
    print(f"   the full {w1.numel()}x{w1.numel()} Hessian's eigenvalue of largest magnitude: "
          f"{eigs[np.argmax(np.abs(eigs))]:.6g}")


def gradient_penalty_steps(batch: int, steps: int, data_dir: str | None, weight: float = 10.0) -> None:
    tc.manual_seed(0)
    critic = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.LeakyReLU(0.2), nn.MaxPool2d(2),
                           nn.Conv2d(8, 16, 3, padding=1), nn.LeakyReLU(0.2), nn.AvgPool2d(2), nn.Flatten(),
                           nn.Linear(16 * 7 * 7, 1))
    opt = tc.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    real, _ = images(batch, data_dir)
    for step in range(steps):
        fake = tc.randn(*real.shape)
        a = tc.rand(batch, 1, 1, 1)
        mixed = (a * real + (1 - a) * fake).detach().requires_grad_(True)
        # ∇ₓ D(x̂) with create_graph: the penalty on its norm is differentiated again in backward
        (g,) = tc.grad(critic(mixed).sum(), mixed, create_graph=True)
        penalty = ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
        loss = critic(fake).mean() - critic(real).mean() + weight * penalty
        opt.zero_grad()
        loss.backward()
        opt.step()
        print(f"2. gradient-penalty step {step + 1}: critic loss {loss.item():.4f}, penalty {penalty.item():.4f}, "
              f"mean ‖∇ₓD‖ {float(g.flatten(1).norm(2, dim=1).mean()):.4f}")


def conv_jacobian_picture(out_dir: Path, side: int = 8) -> None:
    tc.manual_seed(0)
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    x = tc.randn(1, 1, side, side)
    jac = jacobian(lambda t: conv(t).tanh(), x)  # (1, 1, s, s, 1, 1, s, s)
    matrix = jac.numpy().reshape(side * side, side * side)
    print(f"3. Jacobian of a 3x3 conv (+tanh) on a {side}x{side} image: {matrix.shape}, "
          f"{np.count_nonzero(matrix)} nonzeros (at most 9 per row: each output sees a 3x3 window)")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("   (matplotlib is not installed: no picture)")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.2))
    im = left.imshow(matrix, cmap="RdBu", vmin=-abs(matrix).max(), vmax=abs(matrix).max())
    left.set_title(f"∂out/∂in ({side * side}x{side * side}): a banded matrix")
    left.set_xlabel("input pixel")
    left.set_ylabel("output pixel")
    fig.colorbar(im, ax=left, shrink=0.8)
    centre = (side // 2) * side + side // 2
    right.imshow(matrix[centre].reshape(side, side), cmap="RdBu", vmin=-abs(matrix).max(), vmax=abs(matrix).max())
    right.set_title(f"row of output pixel {(side // 2, side // 2)}: its 3x3 receptive field")
    fig.tight_layout()
    path = out_dir / "conv_jacobian.png"
    fig.savefig(path, dpi=100)
    print(f"   wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=20, help="power iterations")
    ap.add_argument("--steps", type=int, default=3, help="gradient-penalty training steps")
    ap.add_argument("--out-dir", default=".")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    top_hessian_eigenvalue(args.batch, args.iters, args.data_dir)
    gradient_penalty_steps(args.batch, args.steps, args.data_dir)
    conv_jacobian_picture(Path(args.out_dir))


if __name__ == "__main__":
    main()
