"""Typical PyTorch snippets, written from PyTorch's docs and tutorials. Each runs unchanged with
``torch`` being PyTorch or tinygrad_cnn, and leaves what it computed in ``out`` (numbers, lists
and tensors), which the test compares. ``np`` (numpy) and ``W`` (a function giving seeded random
float32 arrays, so that both libraries start from the same weights) are provided."""

SNIPPETS = {
"tensor_basics": """
import torch
x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
out = [x.size(), x.size(0), x.dim(), x.numel(), x.shape[1], len(x), x.dtype == torch.float32]
""",
"dtypes_of_constructors": """
import torch
out = [torch.tensor([1, 2]).dtype == torch.int64, torch.tensor([1.0]).dtype == torch.float32,
       torch.Tensor([1, 2]).dtype == torch.float32, torch.tensor([True]).dtype == torch.bool,
       torch.zeros(2, dtype=torch.float64).dtype == torch.double, torch.ones(2).long().dtype == torch.long]
""",
"view_with_size": """
import torch
x = torch.arange(24.0).reshape(2, 3, 4)
y = x.view(x.size(0), -1)
out = [y.shape == (2, 12), y, x.view_as(torch.zeros(4, 6)).shape == (4, 6), torch.flatten(x, 1).shape == (2, 12)]
""",
"accuracy_count": """
import torch
logits = torch.tensor(W(8, 3))
target = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
pred = logits.argmax(dim=1)
correct = pred.eq(target).sum().item()
out = [correct, (pred == target).float().mean().item(), torch.argmax(logits, 1)]
""",
"max_with_dim": """
import torch
x = torch.tensor(W(4, 5))
values, indices = torch.max(x, 1)
out = [values, indices, x.max(dim=0).values, torch.max(x), x.min(1)[1]]
""",
"device_idiom": """
import torch
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
x = torch.ones(3).to(device)
out = [str(device), x.device.type, x.cpu(), x.to(torch.float64).dtype == torch.float64]
""",
"format_loss": """
import torch
loss = torch.tensor(0.123456)
out = [f"{loss:.4f}", f"{loss.item():.2f}", "{:.3f}".format(loss)]
""",
"inplace_parameter_update": """
import torch
w = torch.tensor(W(3), requires_grad=True)
loss = (w * w).sum()
loss.backward()
with torch.no_grad():
    w -= 0.1 * w.grad
    w.grad.zero_()
out = [w, w.grad, w.is_leaf]
""",
"manual_linear_regression": """
import torch
x = torch.tensor(W(16, 3)); y = torch.tensor(W(16, 1))
w = torch.zeros(3, 1, requires_grad=True); b = torch.zeros(1, requires_grad=True)
for _ in range(5):
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        b -= 0.1 * b.grad
        w.grad.zero_(); b.grad.zero_()
out = [w, b, loss.item()]
""",
"mlp_sgd_training": """
import torch
import torch.nn as nn
import torch.optim as optim
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor(W(8, 4))); model[0].bias.zero_()
    model[2].weight.copy_(torch.tensor(W(3, 8))); model[2].bias.fill_(0.1)
criterion = nn.CrossEntropyLoss()
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
x = torch.tensor(W(10, 4)); y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
for _ in range(3):
    opt.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    opt.step()
out = [loss.item(), model[0].weight, model[2].bias]
""",
"adam_with_mse": """
import torch
import torch.nn as nn
lin = nn.Linear(3, 2)
with torch.no_grad():
    lin.weight.copy_(torch.tensor(W(2, 3))); lin.bias.copy_(torch.tensor(W(2)))
opt = torch.optim.Adam(lin.parameters(), lr=0.01)
loss_fn = nn.MSELoss()
x, y = torch.tensor(W(5, 3)), torch.tensor(W(5, 2))
for _ in range(4):
    opt.zero_grad(); loss = loss_fn(lin(x), y); loss.backward(); opt.step()
out = [loss.item(), lin.weight]
""",
"loss_modules": """
import torch
import torch.nn as nn
x = torch.tensor(W(4, 3)); t = torch.tensor(W(4, 3))
p = torch.sigmoid(x); tb = (t > 0).float()
out = [nn.MSELoss()(x, t), nn.L1Loss()(x, t), nn.SmoothL1Loss()(x, t), nn.SmoothL1Loss(beta=0.5)(x, t),
       nn.BCELoss()(p, tb), nn.BCEWithLogitsLoss()(x, tb), nn.MSELoss(reduction="sum")(x, t),
       nn.L1Loss(reduction="none")(x, t), nn.NLLLoss()(torch.log_softmax(x, 1), torch.tensor([0, 1, 2, 1])),
       nn.CrossEntropyLoss(label_smoothing=0.1)(x, torch.tensor([2, 1, 0, 1]))]
""",
"functional_ops": """
import torch
import torch.nn.functional as F
x = torch.tensor(W(2, 5))
out = [F.relu(x), F.softmax(x, dim=1), F.log_softmax(x, dim=-1), torch.tanh(x), torch.sigmoid(x),
       torch.exp(x).sum(), torch.mean(x, 1), torch.sum(x, dim=0), F.l1_loss(x, x * 0.5),
       F.smooth_l1_loss(x, x * 2), torch.clamp(x, -0.5, 0.5), torch.abs(x)]
""",
"comparisons_as_methods": """
import torch
a, b = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([3.0, 2.0, 1.0])
out = [a.eq(b), a.ne(b), a.lt(b), a.le(b), a.gt(b), a.ge(b), (a > 1).sum().item()]
""",
"matrix_products": """
import torch
a, b = torch.tensor(W(3, 4)), torch.tensor(W(4, 2))
c, d = torch.tensor(W(2, 3, 4)), torch.tensor(W(2, 4, 5))
out = [a.mm(b), a.t(), c.bmm(d), torch.matmul(a, b), a.T]
""",
"norm_and_masked_fill": """
import torch
x = torch.tensor(W(3, 4))
out = [x.norm(), x.norm(p=1), x.norm(dim=1), x.norm(2, dim=0, keepdim=True), x.masked_fill(x > 0, 0.0)]
""",
"grad_of_norm": """
import torch
x = torch.tensor(W(5), requires_grad=True)
x.norm().backward()
out = [x.grad]
""",
"expand_as_and_reshape_as": """
import torch
a = torch.tensor([[1.0], [2.0]]); b = torch.zeros(2, 3)
out = [a.expand_as(b), torch.arange(6.0).reshape_as(b), a.expand(2, 4).shape == (2, 4)]
""",
"set_grad_enabled": """
import torch
x = torch.ones(2, requires_grad=True)
with torch.set_grad_enabled(False):
    y = x * 2
z = x * 2
out = [y.requires_grad, z.requires_grad, torch.is_grad_enabled()]
""",
"clip_grad_norm": """
import torch
import torch.nn as nn
lin = nn.Linear(3, 2)
with torch.no_grad():
    lin.weight.copy_(torch.tensor(W(2, 3))); lin.bias.copy_(torch.tensor(W(2)))
(lin(torch.tensor(W(4, 3))) ** 2).sum().backward()
total = nn.utils.clip_grad_norm_(lin.parameters(), max_norm=0.5)
out = [total, lin.weight.grad, lin.bias.grad]
""",
"clip_grad_value": """
import torch
p = torch.tensor(W(4), requires_grad=True)
(p * 3).sum().backward()
torch.nn.utils.clip_grad_value_([p], 1.0)
out = [p.grad]
""",
"parameters_vector": """
import torch
import torch.nn as nn
lin = nn.Linear(2, 2)
with torch.no_grad():
    lin.weight.copy_(torch.tensor(W(2, 2))); lin.bias.copy_(torch.tensor(W(2)))
v = nn.utils.parameters_to_vector(lin.parameters())
nn.utils.vector_to_parameters(v * 2, lin.parameters())
out = [v, lin.weight, lin.bias]
""",
"init_constant_and_apply": """
import torch
import torch.nn as nn
def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.constant_(m.weight, 0.5)
        nn.init.zeros_(m.bias)
model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
model.apply(init_weights)
out = [model(torch.ones(1, 3)), model[0].bias]
""",
"init_statistics": """
import torch
import torch.nn as nn
w = torch.empty(256, 128) if hasattr(torch, "empty") else torch.zeros(256, 128)
nn.init.kaiming_uniform_(w, nonlinearity="relu")
bound = (6 / 128) ** 0.5
out = [bool(w.abs().max().item() <= bound), round(nn.init.calculate_gain("relu"), 6),
       round(nn.init.calculate_gain("leaky_relu", 0.2), 6)]
""",
"module_to_device_and_dtype": """
import torch
import torch.nn as nn
model = nn.Linear(2, 2).to("cpu")
model.to(torch.float64)
out = [model.weight.dtype == torch.float64, model(torch.ones(1, 2, dtype=torch.float64)).dtype == torch.float64]
""",
"forward_hook_handle": """
import torch
import torch.nn as nn
seen = []
lin = nn.Linear(2, 2)
handle = lin.register_forward_hook(lambda m, inp, outp: seen.append(outp.shape))
lin(torch.ones(3, 2))
handle.remove()
lin(torch.ones(3, 2))
out = [len(seen), tuple(seen[0])]
""",
"requires_grad_freeze": """
import torch
import torch.nn as nn
model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
model[0].requires_grad_(False)
out = [[p.requires_grad for p in model.parameters()]]
""",
"state_dict_roundtrip": """
import torch
import torch.nn as nn
a, b = nn.Linear(3, 2), nn.Linear(3, 2)
with torch.no_grad():
    a.weight.copy_(torch.tensor(W(2, 3)))
b.load_state_dict(a.state_dict())
out = [b.weight, sorted(a.state_dict().keys())]
""",
"tensor_dataset_loader": """
import torch
from torch.utils.data import DataLoader, TensorDataset
x = torch.tensor(W(10, 3)); y = torch.arange(10)
loader = DataLoader(TensorDataset(x, y), batch_size=4)
batches = [(xb.shape, yb.tolist()) for xb, yb in loader]
out = [len(batches), batches[0][0] == (4, 3), batches[-1][1]]
""",
"custom_dataset": """
import torch
from torch.utils.data import Dataset, DataLoader
class Squares(Dataset):
    def __len__(self):
        return 6
    def __getitem__(self, i):
        return torch.tensor([float(i)]), i * i
xs, ys = next(iter(DataLoader(Squares(), batch_size=6)))
out = [xs.shape == (6, 1), ys.tolist(), ys.dtype == torch.int64]
""",
"detach_and_clone": """
import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x.detach()
z = x.clone()
out = [y.requires_grad, z.requires_grad, z.grad_fn is not None, y]
""",
"zero_grad_and_accumulate": """
import torch
w = torch.tensor([1.0, 2.0], requires_grad=True)
(w * 3).sum().backward()
(w * 3).sum().backward()
acc = w.grad.clone()
w.grad = None
(w * w).sum().backward()
out = [acc, w.grad]
""",
"no_grad_decorator": """
import torch
@torch.no_grad()
def evaluate(x):
    return x * 2
x = torch.ones(2, requires_grad=True)
out = [evaluate(x).requires_grad]
""",
"conv_net_forward_backward": """
import torch
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.fc = nn.Linear(4 * 13 * 13, 10)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = torch.flatten(x, 1)
        return F.log_softmax(self.fc(x), dim=1)
net = Net()
with torch.no_grad():
    net.conv1.weight.copy_(torch.tensor(W(4, 1, 3, 3))); net.conv1.bias.copy_(torch.tensor(W(4)))
    net.fc.weight.copy_(torch.tensor(W(10, 676)) * 0.1); net.fc.bias.zero_()
x = torch.tensor(W(2, 1, 28, 28))
loss = F.nll_loss(net(x), torch.tensor([3, 7]))
loss.backward()
out = [loss.item(), net.conv1.weight.grad, net.fc.bias.grad]
""",
"step_lr_schedule": """
import torch
p = torch.tensor([1.0], requires_grad=True)
opt = torch.optim.SGD([p], lr=1.0)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
lrs = []
for _ in range(5):
    opt.step(); sched.step(); lrs.append(sched.get_last_lr()[0])
out = [lrs]
""",
"where_and_maximum": """
import torch
a, b = torch.tensor(W(5)), torch.tensor(W(5))
out = [torch.where(a > b, a, b), torch.maximum(a, b), torch.max(a, b)]
""",
"cat_and_stack": """
import torch
a, b = torch.tensor(W(2, 3)), torch.tensor(W(2, 3))
out = [torch.cat([a, b], dim=0).shape == (4, 3), torch.stack([a, b], 1).shape == (2, 2, 3), torch.cat((a, b), 1)]
""",
"type_conversions": """
import torch
x = torch.tensor([1.7, -2.3])
out = [x.long().tolist(), x.int().dtype == torch.int32, x.double().dtype == torch.float64,
       x.bool().tolist(), x.type(torch.float64).dtype == torch.float64, x.is_floating_point()]
""",
"adadelta_training": """
import torch
import torch.nn as nn
import torch.optim as optim
model = nn.Linear(3, 2)
with torch.no_grad():
    model.weight.copy_(torch.tensor(W(2, 3))); model.bias.copy_(torch.tensor(W(2)))
optimizer = optim.Adadelta(model.parameters(), lr=1.0)
x, y = torch.tensor(W(6, 3)), torch.tensor([0, 1, 0, 1, 1, 0])
for _ in range(3):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
out = [loss.item(), model.weight]
""",
"adagrad_rmsprop_adamw": """
import torch
ws = [torch.tensor(W(3), requires_grad=True) for _ in range(3)]
opts = [torch.optim.Adagrad([ws[0]], lr=0.1), torch.optim.RMSprop([ws[1]], lr=0.01),
        torch.optim.AdamW([ws[2]], lr=0.01, weight_decay=0.1)]
for _ in range(3):
    for w, opt in zip(ws, opts):
        opt.zero_grad()
        ((w - 1) ** 2).sum().backward()
        opt.step()
out = ws
""",
"multistep_and_exponential_lr": """
import torch
p = torch.tensor([1.0], requires_grad=True)
o1, o2 = torch.optim.SGD([p], lr=1.0), torch.optim.SGD([p], lr=1.0)
s1 = torch.optim.lr_scheduler.MultiStepLR(o1, milestones=[2, 4], gamma=0.1)
s2 = torch.optim.lr_scheduler.ExponentialLR(o2, gamma=0.9)
a, b = [], []
for _ in range(5):
    o1.step(); o2.step(); s1.step(); s2.step()
    a.append(s1.get_last_lr()[0]); b.append(o2.param_groups[0]["lr"])
out = [a, b]
""",
"lambda_lr_warmup": """
import torch
p = torch.tensor([1.0], requires_grad=True)
opt = torch.optim.SGD([p], lr=0.5)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lambda epoch: min(1.0, (epoch + 1) / 3))
lrs = [opt.param_groups[0]["lr"]]
for _ in range(4):
    opt.step(); sched.step(); lrs.append(opt.param_groups[0]["lr"])
out = [lrs]
""",
"cosine_annealing": """
import torch
p = torch.tensor([1.0], requires_grad=True)
opt = torch.optim.SGD([p], lr=0.1)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
lrs = []
for _ in range(4):
    opt.step(); sched.step(); lrs.append(sched.get_last_lr()[0])
out = [lrs]
""",
"module_list": """
import torch
import torch.nn as nn
class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])
    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x
net = Stack()
with torch.no_grad():
    for i, layer in enumerate(net.layers):
        layer.weight.copy_(torch.tensor(W(3, 3))); layer.bias.fill_(0.1 * i)
out = [net(torch.tensor(W(2, 3))), len(list(net.parameters())), [n for n, _ in net.named_parameters()]]
""",
"module_dict": """
import torch
import torch.nn as nn
acts = nn.ModuleDict({"relu": nn.ReLU(), "tanh": nn.Tanh()})
x = torch.tensor([-1.0, 0.5])
out = [acts["relu"](x), acts["tanh"](x), sorted(acts.keys()), "relu" in acts]
""",
"sequential_ordered_dict_and_slice": """
import torch
import torch.nn as nn
from collections import OrderedDict
model = nn.Sequential(OrderedDict([("fc1", nn.Linear(2, 3)), ("act", nn.ReLU()), ("fc2", nn.Linear(3, 1))]))
with torch.no_grad():
    model.fc1.weight.copy_(torch.tensor(W(3, 2))); model.fc1.bias.zero_()
features = model[:2]
out = [features(torch.ones(1, 2)), len(model), isinstance(features, nn.Sequential), sorted(model.state_dict().keys())]
""",
"identity_placeholder": """
import torch
import torch.nn as nn
model = nn.Sequential(nn.Linear(2, 2), nn.Identity())
with torch.no_grad():
    model[0].weight.copy_(torch.eye(2)); model[0].bias.zero_()
out = [model(torch.tensor([[1.0, 2.0]]))]
""",
"relu_inplace": """
import torch
import torch.nn as nn
import torch.nn.functional as F
x = torch.tensor(W(2, 3), requires_grad=True)
h = x * 2
y = nn.ReLU(inplace=True)(h)
z = F.relu(x * 3, inplace=True)
(y.sum() + z.sum()).backward()
out = [y is h, y, x.grad]
""",
"leaky_relu_inplace_and_dropout_eval": """
import torch
import torch.nn as nn
x = torch.tensor(W(2, 3), requires_grad=True)
h = x + 0
y = nn.LeakyReLU(0.2, inplace=True)(h)
y.sum().backward()
drop = nn.Dropout(0.5)
drop.eval()
out = [y, x.grad, drop(torch.ones(3))]
""",
"one_hot": """
import torch
import torch.nn.functional as F
labels = torch.tensor([0, 2, 1, 2])
out = [F.one_hot(labels), F.one_hot(labels, num_classes=4).shape == (4, 4), F.one_hot(labels).dtype == torch.int64]
""",
"gradient_accumulation": """
import torch
import torch.nn as nn
lin = nn.Linear(2, 1)
with torch.no_grad():
    lin.weight.copy_(torch.tensor(W(1, 2))); lin.bias.zero_()
opt = torch.optim.SGD(lin.parameters(), lr=0.1)
opt.zero_grad()
for i in range(3):
    loss = lin(torch.tensor(W(4, 2))).pow(2).mean() / 3
    loss.backward()
opt.step()
out = [lin.weight, lin.bias]
""",
"named_parameters_and_buffers": """
import torch
import torch.nn as nn
model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2))
out = [[n for n, _ in model.named_parameters()], sorted(n for n, _ in model.named_buffers() if "tracked" not in n),
       sum(p.numel() for p in model.parameters())]
""",
"eval_loop_no_grad": """
import torch
import torch.nn as nn
model = nn.Linear(3, 4)
with torch.no_grad():
    model.weight.copy_(torch.tensor(W(4, 3))); model.bias.zero_()
model.eval()
x, y = torch.tensor(W(10, 3)), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
correct, total_loss = 0, 0.0
with torch.no_grad():
    output = model(x)
    total_loss += nn.functional.cross_entropy(output, y, reduction="sum").item()
    pred = output.argmax(dim=1, keepdim=True)
    correct += pred.eq(y.view_as(pred)).sum().item()
out = [correct, round(total_loss, 4), pred.shape == (10, 1)]
""",
"conv_transpose_and_pooling": """
import torch
import torch.nn as nn
import torch.nn.functional as F
x = torch.tensor(W(1, 2, 6, 6), requires_grad=True)
up = nn.ConvTranspose2d(2, 1, 2, stride=2)
with torch.no_grad():
    up.weight.copy_(torch.tensor(W(2, 1, 2, 2))); up.bias.zero_()
y = up(F.avg_pool2d(x, 2)) + F.max_pool2d(x, 3, stride=1, padding=1).sum(1, keepdim=True)[..., :6, :6]
y.sum().backward()
out = [y.shape == (1, 1, 6, 6), x.grad]
""",
"batchnorm_train_then_eval": """
import torch
import torch.nn as nn
bn = nn.BatchNorm2d(2)
x = torch.tensor(W(4, 2, 3, 3))
y_train = bn(x)
bn.eval()
y_eval = bn(x)
out = [y_train, y_eval, bn.running_mean, bn.running_var]
""",
"register_buffer": """
import torch
import torch.nn as nn
class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("factor", torch.tensor([2.0, 3.0]))
    def forward(self, x):
        return x * self.factor
m = Scale()
out = [m(torch.ones(2)), list(m.state_dict().keys()), len(list(m.parameters()))]
""",
"zero_grad_set_to_none": """
import torch
import torch.nn as nn
lin = nn.Linear(2, 1)
lin(torch.ones(1, 2)).sum().backward()
opt = torch.optim.SGD(lin.parameters(), lr=0.1)
opt.zero_grad()
none_after = lin.weight.grad is None
lin(torch.ones(1, 2)).sum().backward()
opt.zero_grad(set_to_none=False)
out = [none_after, lin.weight.grad]
""",
"bce_with_logits_training": """
import torch
import torch.nn as nn
lin = nn.Linear(2, 1)
with torch.no_grad():
    lin.weight.copy_(torch.tensor(W(1, 2))); lin.bias.zero_()
x, y = torch.tensor(W(8, 2)), torch.tensor([[1.0], [0.0]] * 4)
opt = torch.optim.SGD(lin.parameters(), lr=0.5)
for _ in range(5):
    opt.zero_grad(); loss = nn.BCEWithLogitsLoss()(lin(x), y); loss.backward(); opt.step()
out = [loss.item(), (torch.sigmoid(lin(x)) > 0.5).float()]
""",
"unsqueeze_squeeze_transpose": """
import torch
x = torch.tensor(W(2, 3))
out = [x.unsqueeze(0).shape == (1, 2, 3), torch.unsqueeze(x, -1).shape == (2, 3, 1),
       x.unsqueeze(1).squeeze(1).shape == (2, 3), torch.transpose(x, 0, 1), x.permute(1, 0)]
""",
"softmax_probabilities": """
import torch
import torch.nn.functional as F
logits = torch.tensor(W(3, 4))
probs = F.softmax(logits, dim=1)
top_p, top_class = probs.max(dim=1)
out = [probs.sum(1), top_p, top_class, torch.exp(F.log_softmax(logits, 1))]
""",
"custom_optimizer_the_torch_way": """
import torch
class MomentumSGD(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))
    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = p.grad.clone()
                else:
                    buf.mul_(group["momentum"]).add_(p.grad)
                p.add_(buf, alpha=-group["lr"])
w = torch.tensor(W(3), requires_grad=True)
opt = MomentumSGD([w])
for _ in range(3):
    opt.zero_grad()
    ((w - 2) ** 2).sum().backward()
    opt.step()
out = [w, opt.state[w]["momentum_buffer"]]
""",
"add_param_group": """
import torch
a, b = torch.tensor(W(2), requires_grad=True), torch.tensor(W(2), requires_grad=True)
opt = torch.optim.SGD([a], lr=0.1)
opt.add_param_group({"params": [b], "lr": 0.01})
(a.sum() + b.sum()).backward()
opt.step()
out = [a, b, [g["lr"] for g in opt.param_groups]]
""",
"pad_constant": """
import torch
import torch.nn.functional as F
x = torch.tensor(W(1, 2, 3))
out = [F.pad(x, (1, 2)), F.pad(x, (1, 1, 2, 0), "constant", 0.5), F.pad(x, (0, 1), value=-1.0)]
""",
"class_weighted_losses": """
import torch
import torch.nn as nn
import torch.nn.functional as F
x = torch.tensor(W(6, 3), requires_grad=True)
y = torch.tensor([0, 1, 2, 2, -100, 1])
w = torch.tensor([0.2, 1.0, 3.0])
a = nn.CrossEntropyLoss(weight=w)(x, y)
b = F.nll_loss(F.log_softmax(x, 1), y, weight=w, reduction="sum")
c = F.cross_entropy(x, y, w, label_smoothing=0.2)
d = F.cross_entropy(x, y, weight=w, reduction="none")
(a + b + c + d.sum()).backward()
out = [a, b, c, d, x.grad]
""",
"small_layers": """
import torch
import torch.nn as nn
x = torch.tensor(W(2, 3, 4, 4))
model = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(3, 2), nn.LogSoftmax(dim=1))
with torch.no_grad():
    model[2].weight.copy_(torch.tensor(W(2, 3))); model[2].bias.zero_()
drop = nn.Dropout2d(0.3)
drop.eval()
out = [model(x), nn.Softmax(dim=1)(x[:, :, 0, 0]), nn.AdaptiveAvgPool2d(2)(x), drop(x).shape == x.shape]
""",
"reduce_lr_on_plateau": """
import torch
p = torch.tensor([1.0], requires_grad=True)
opt = torch.optim.SGD([p], lr=0.1)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1, cooldown=1)
lrs = []
for val_loss in [1.0, 0.9, 0.95, 0.97, 0.99, 0.85, 0.9, 0.91, 0.92, 0.93]:
    opt.step()
    sched.step(val_loss)
    lrs.append(opt.param_groups[0]["lr"])
out = [lrs]
""",
"gather_log_probs": """
import torch
import torch.nn.functional as F
logits = torch.tensor(W(4, 5), requires_grad=True)
actions = torch.tensor([[1], [4], [0], [2]])
chosen = F.log_softmax(logits, dim=1).gather(1, actions)
(-chosen.mean()).backward()
out = [chosen, logits.grad, torch.tensor(W(3, 4)).gather(0, torch.tensor([[0, 1, 2, 0]]))]
""",
"is_tensor_and_numel": """
import torch
x = torch.zeros(2, 3)
out = [torch.is_tensor(x), torch.is_tensor([1]), torch.numel(x)]
""",
"pad_modes": """
import torch
import torch.nn.functional as F
x = torch.tensor(W(1, 2, 4, 5), requires_grad=True)
y = F.pad(x, (1, 1, 2, 0), mode="reflect") + F.pad(x, (1, 1, 2, 0), mode="replicate")
z = F.pad(torch.ones(1, 2, 3), (1, 2), mode="circular")
(y * y).sum().backward()
out = [y, z, x.grad]
""",
"reflection_pad_conv": """
import torch
import torch.nn as nn
torch.manual_seed(0)
conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect")
with torch.no_grad():
    conv.weight.copy_(torch.tensor(W(3, 2, 3, 3)))
    conv.bias.zero_()
net = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(3, 2, 3), nn.ReplicationPad2d((0, 1, 0, 1)))
with torch.no_grad():
    net[1].weight.copy_(torch.tensor(W(2, 3, 3, 3)))
    net[1].bias.zero_()
x = torch.tensor(W(2, 2, 6, 6))
out = [conv(x), net(conv(x)).shape, nn.ZeroPad2d(2)(x).shape]
""",
"adaptive_pool_any_size": """
import torch
import torch.nn as nn
import torch.nn.functional as F
x = torch.tensor(W(2, 3, 10, 9), requires_grad=True)
y = nn.AdaptiveAvgPool2d((7, 7))(x)
y.pow(2).sum().backward()
out = [y, F.adaptive_avg_pool2d(x, (3, None)), x.grad]
""",
"one_cycle_training": """
import torch
import torch.nn as nn
model = nn.Linear(4, 2)
with torch.no_grad():
    model.weight.copy_(torch.tensor(W(2, 4)))
    model.bias.zero_()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, epochs=2, steps_per_epoch=3)
x, y = torch.tensor(W(6, 4)), torch.tensor([0, 1, 1, 0, 1, 0])
lrs, moms = [], []
for epoch in range(2):
    for i in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x[2 * i:2 * i + 2]), y[2 * i:2 * i + 2])
        loss.backward()
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
out = [lrs, moms, model.weight]
""",
"bce_pos_weight": """
import torch
import torch.nn as nn
logits = torch.tensor(W(5, 3), requires_grad=True)
target = (torch.tensor(W(5, 3)) > 0).float()
crit = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 3.0, 0.5]))
loss = crit(logits, target)
loss.backward()
weighted = nn.BCELoss(weight=torch.tensor([2.0, 1.0, 1.0]))(torch.sigmoid(logits), target)
out = [loss, logits.grad, weighted]
""",
"catch_runtime_error": """
import torch
caught = []
for shape in [(3, 4), (4, 4)]:
    try:
        torch.ones(2, 3) @ torch.ones(*shape)
        caught.append(False)
    except RuntimeError:
        caught.append(True)
try:
    torch.ones(2, 3).view(4, -1)
except RuntimeError:
    caught.append("view")
out = [caught]
""",
"data_sub_d2l_sgd": """
import torch
params = [torch.tensor(W(3, 2), requires_grad=True), torch.tensor(W(2), requires_grad=True)]
x = torch.tensor(W(5, 3))
((x @ params[0] + params[1]) ** 2).sum().backward()
lr, batch_size = 0.1, 5
with torch.no_grad():
    for param in params:
        param.data.sub_(lr * param.grad / batch_size)
        param.grad.data.zero_()
out = [params[0], params[1], params[0].grad]
""",
"data_normal_dcgan_init": """
import torch
torch.manual_seed(0)
m = torch.nn.Conv2d(3, 4, 3)
m.weight.data.normal_(0.0, 0.02)
m.bias.data.fill_(0)
out = [m.weight.shape, abs(float(m.weight.mean())) < 0.02, 0.005 < float(m.weight.std()) < 0.04, m.bias,
       m.weight.requires_grad, m.weight.data.requires_grad, m.weight.grad is None]
""",
"max_of_outputs_data": """
import torch
outputs = torch.tensor(W(6, 4), requires_grad=True) * 2
_, predicted = torch.max(outputs.data, 1)
labels = torch.tensor([0, 1, 2, 3, 0, 1])
out = [predicted, (predicted == labels).sum().item(), outputs.data.requires_grad, outputs.requires_grad]
""",
"data_cpu_numpy": """
import torch
w = torch.tensor(W(2, 3), requires_grad=True)
a = w.data.cpu().numpy()
a[0, 0] = 5.0
out = [a.shape, a.dtype == np.float32, float(w[0, 0]), type(a).__name__]
""",
"data_assignment": """
import torch
p = torch.nn.Parameter(torch.ones(2, 2))
p.data = torch.tensor(W(2, 2))
d = p.data
d += 1
out = [p, d.requires_grad, p.requires_grad, isinstance(p, torch.nn.Parameter)]
""",
}

# Features not supported: each must fail with an error that names what is missing.
UNSUPPORTED = {
"lstm": ("""
import torch
torch.nn.LSTM(4, 8)
""", "torch.nn.LSTM"),
"cuda_tensor": ("""
import torch
torch.ones(2).cuda()
""", "cuda"),
"cumsum": ("""
import torch
torch.ones(3).cumsum(0)
""", "torch.Tensor.cumsum"),
}
