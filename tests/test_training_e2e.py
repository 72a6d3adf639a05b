"""End to end: LeNet-5 learns real MNIST in a few hundred steps (skipped without the data)."""
import os
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim
from tinygrad_cnn.data import MNIST, DataLoader, Subset
from tinygrad_cnn.nn import functional as F

DATA = os.environ.get("TINYGRAD_CNN_DATA")


@pytest.mark.skipif(not DATA or not (Path(DATA) / "mnist").is_dir(),
                    reason="real MNIST not found: set TINYGRAD_CNN_DATA to a folder holding mnist/")
def test_lenet5_reaches_95_percent_in_a_few_hundred_steps():
    tc.manual_seed(0)
    train = MNIST(DATA, transform=MNIST.normalization())
    test = Subset(MNIST(DATA, train=False, transform=MNIST.normalization()), range(2000))
    model = nn.LeNet5()
    opt = optim.Adam(model.parameters(), lr=2e-3)
    for step, (x, y) in enumerate(DataLoader(train, 64, shuffle=True, seed=0)):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step == 400:
            break
    model.eval()
    with tc.no_grad():
        correct = sum(int((model(x).numpy().argmax(1) == y.numpy()).sum()) for x, y in DataLoader(test, 500))
    assert correct / 2000 > 0.95
    assert np.isfinite(loss.item())
