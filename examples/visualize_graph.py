"""Draw the graph of a small custom model: parameters named, sub-modules clustered, gradients shown.

    python examples/visualize_graph.py       # writes small_model.svg and small_model.png (needs `dot`)
"""
import numpy as np

import tinygrad_cnn as tc
from tinygrad_cnn import nn, viz


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        return self.head(self.pool(self.conv(x).relu()).flatten(1))


tc.manual_seed(0)
model = SmallNet()
images = tc.Tensor(np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32), name="images")
loss = nn.functional.cross_entropy(model(images), tc.tensor([0, 2]))
viz.retain_grads(loss)  # keep intermediate gradients for show_grad
loss.backward()

graph = viz.draw_graph(loss, params=model, show_grad=True, clusters=True)
if viz.dot_available():
    for fmt in ("svg", "png"):
        print("wrote", graph.render(outfile=f"small_model.{fmt}", cleanup=True))
else:
    print(viz.to_dot(loss, params=model))
    print("(install Graphviz's `dot` program to render SVG/PNG)")
