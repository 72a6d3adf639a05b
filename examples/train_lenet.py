"""Train LeNet-5 on MNIST in plain user code: model, loop, optimizer (what `tinygrad-cnn train` does).

    python examples/train_lenet.py            # data from $TINYGRAD_CNN_DATA or ~/.cache/tinygrad_cnn
"""
import time

import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim
from tinygrad_cnn.data import MNIST, DataLoader
from tinygrad_cnn.nn import functional as F

tc.manual_seed(0)
train = MNIST(train=True, transform=MNIST.normalization())  # float32 (1, 28, 28), mean 0 and std 1
test = MNIST(train=False, transform=MNIST.normalization())
model = nn.LeNet5()
opt = optim.Adam(model.parameters(), lr=2e-3)
epochs = 3
sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(DataLoader(train, 64)))

for epoch in range(1, epochs + 1):
    start = time.perf_counter()
    model.train()
    for images, labels in DataLoader(train, batch_size=64, shuffle=True, seed=epoch):
        loss = F.cross_entropy(model(images), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()  # cosine annealing, one step per batch

    model.eval()
    correct = 0
    with tc.no_grad():
        for images, labels in DataLoader(test, batch_size=1000):
            correct += (model(images).argmax(dim=1) == labels).numpy().sum()
    print(f"epoch {epoch}: last loss {loss.item():.4f}, test accuracy {correct / len(test):.2%}, "
          f"{time.perf_counter() - start:.1f}s")

tc.save(model.state_dict(), "lenet5.npz")
