"""Outside PyTorch programs re-written from their structure (not copied): micrograd's engine tests,
the 60-minute blitz's network section and d2l's LeNet chapter. Each is run unchanged with
``torch`` being PyTorch or tinygrad_cnn and leaves what it computed in ``out``; ``W`` gives seeded
float32 arrays so that both libraries start from the same weights."""

PORTED = {
# micrograd's test_engine.py checks its scalar engine against PyTorch on two expressions; here the
# PyTorch side itself runs on tinygrad_cnn, in float64 as there.
"micrograd_sanity_check": """
import torch
x = torch.Tensor([-4.0]).double()
x.requires_grad = True
z = 2 * x + 2 + x
q = z.relu() + z * x
h = (z * z).relu()
y = h + q + q * x
y.backward()
out = [y.data.item(), x.grad.item()]
""",
"micrograd_more_ops": """
import torch
a = torch.Tensor([-4.0]).double()
b = torch.Tensor([2.0]).double()
a.requires_grad = True
b.requires_grad = True
c = a + b
d = a * b + b**3
c = c + c + 1
c = c + 1 + c + (-a)
d = d + d * 2 + (b + a).relu()
d = d + 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g = g + 10.0 / f
g.backward()
out = [g.data.item(), a.grad.item(), b.grad.item()]
""",
# The blitz's "Neural Networks" section: define the LeNet-like net, inspect parameters, backprop a
# random gradient, an MSE loss and its grad_fn chain, a manual SGD update, then torch.optim.
"blitz_network": """
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


net = Net()
params = list(net.parameters())
with torch.no_grad():
    for p in params:
        p.copy_(torch.tensor(W(*p.size())) * 0.1)
shapes = [len(params), params[0].size()]
input = torch.tensor(W(1, 1, 32, 32))
out0 = net(input)
net.zero_grad()
out0.backward(torch.tensor(W(1, 10)))
output = net(input)
target = torch.tensor(W(10)).view(1, -1)
criterion = nn.MSELoss()
loss = criterion(output, target)
chain = [loss.grad_fn is not None, len(loss.grad_fn.next_functions) >= 1]
net.zero_grad()
before = net.conv1.bias.grad
loss.backward()
after = net.conv1.bias.grad.clone()
learning_rate = 0.01
for f in net.parameters():
    f.data.sub_(f.grad.data * learning_rate)
optimizer = optim.SGD(net.parameters(), lr=0.01)
optimizer.zero_grad()
output = net(input)
loss2 = criterion(output, target)
loss2.backward()
optimizer.step()
out = [shapes, out0, chain, before is None, after, loss2, net.fc3.weight]
""",
# d2l's LeNet chapter: the sigmoid/avg-pool LeNet as a Sequential, the layer-by-layer shape walk,
# Xavier init through apply, then a few SGD steps with its accuracy helper, on fixed random data.
"d2l_lenet": """
import torch
from torch import nn

net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10))

X = torch.rand(size=(1, 1, 28, 28), dtype=torch.float32)
walk = []
for layer in net:
    X = layer(X)
    walk.append((layer.__class__.__name__, tuple(X.shape)))


def init_weights(m):
    if type(m) == nn.Linear or type(m) == nn.Conv2d:
        nn.init.xavier_uniform_(m.weight)


net.apply(init_weights)
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.tensor(W(*p.shape)) * 0.2)


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


device = torch.device("cpu")
net.to(device)
optimizer = torch.optim.SGD(net.parameters(), lr=0.9)
loss = nn.CrossEntropyLoss()
Xs, ys = torch.tensor(W(16, 1, 28, 28)), torch.tensor([i % 10 for i in range(16)])
losses, accs = [], []
for epoch in range(3):
    net.train()
    for i in range(2):
        X, y = Xs[8 * i:8 * i + 8].to(device), ys[8 * i:8 * i + 8].to(device)
        optimizer.zero_grad()
        y_hat = net(X)
        l = loss(y_hat, y)
        l.backward()
        optimizer.step()
        with torch.no_grad():
            losses.append(l * X.shape[0])
            accs.append(accuracy(y_hat, y))
net.eval()
with torch.no_grad():
    test_acc = accuracy(net(Xs), ys) / ys.numel()
out = [walk, losses, accs, test_acc]
""",
}
