"""Pictures of what a lesson's code does, drawn with the learner's own implementation (or --target).

05: activation scale by depth, He init against std=1 and std=0.01.
06: the fit of sin(3x) and its training loss.
07: the CNN's training loss and a grid of test digits with their predictions, wrong ones in red.
08: the classifier's decision regions over the blobs and the ring, and its training loss.
09: an Elman RNN trained to echo its input two steps late: one new sequence with the echo it should
    give and the one it gives, and the training loss.
11: the transformer's loss on the reversing task, and where each head of its trained block attends.
13: where a training step's time goes (waiting for data, transfer, compute, the loop's own work), measured
    on the lesson's model fed by the NumPy loader, by it through prefetch_to_device, and by grain.
Written as PNG files with matplotlib's Agg backend, so no display is needed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from grader.learner import targets


class PlotUnavailable(Exception):
    """The plot needs code the lesson file doesn't have working yet; the message says which."""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _module(lesson: targets.Lesson, target: str):
    try:
        return targets.load(lesson.module_in(targets.resolve_target(target)))
    except targets.TargetError as err:
        raise PlotUnavailable(str(err)) from None


def _call(what: str, fn, *args):
    try:
        return fn(*args)
    except NotImplementedError:
        raise PlotUnavailable(f"this plot needs `{what}`, which is not written yet") from None


def plot_05(ex, out: Path) -> list[Path]:
    import jax

    plt = _pyplot()
    depth, width = 32, 256
    x = np.random.default_rng(0).normal(size=(512, width)).astype(np.float32)
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, std in (("He: std = sqrt(2 / fan_in)", None), ("std = 1", 1.0), ("std = 0.01", 0.01)):
        params = _call("init_network", ex.init_network, jax.random.key(0), [width] * (depth + 1), std)
        scales = np.asarray(_call("activation_scales", ex.activation_scales, params, x))
        ax.semilogy(np.arange(1, depth + 1), np.clip(scales, 1e-30, 1e30), marker=".", label=label)
    ax.set(xlabel="layer", ylabel="mean square activation (shown within 1e±30)",
           title="Activation scale through 32 ReLU layers")
    ax.legend()
    return [_save(fig, out / "05_activation_scale.png")]


def plot_06(ex, out: Path) -> list[Path]:
    import jax

    plt = _pyplot()
    x = np.linspace(-1, 1, 256, dtype=np.float32)[:, None]
    y = np.sin(3 * x)
    params = ex.init_mlp(jax.random.key(0), [1, 32, 1])
    params, losses = _call("fit", ex.fit, params, x, y, 1000, 0.1, ex.mse)
    pred = np.asarray(_call("forward", ex.forward, params, x))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(x[:, 0], y[:, 0], label="sin(3x)")
    left.plot(x[:, 0], pred[:, 0], "--", label="network")
    left.set(xlabel="x", title="The fit")
    left.legend()
    right.semilogy(np.asarray(losses))
    right.set(xlabel="step", ylabel="mean squared error", title="Training loss")
    return [_save(fig, out / "06_sine_fit.png")]


def plot_07(ex, out: Path, epochs: int = 3) -> list[Path]:
    import jax
    import optax
    from flax import nnx

    from grader.learner.datasets import digits

    plt = _pyplot()
    d = digits()
    x, y = d["x_train"][..., None], d["y_train"]
    x_test, y_test = d["x_test"][..., None], d["y_test"]
    model = _call("CNN", lambda: ex.CNN(rngs=nnx.Rngs(0)))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    rng, batch, losses = np.random.default_rng(0), 64, []
    for _ in range(epochs):
        perm = rng.permutation(len(y))
        for i in range(len(y) // batch):
            idx = perm[i * batch:(i + 1) * batch]
            losses.append(_call("train_step", ex.train_step, model, optimizer, x[idx], y[idx]))
    _call("eval_step", ex.eval_step, model, x_test[:batch], y_test[:batch])  # puts the model in eval mode
    model.eval()
    shown = x_test[:batch]
    pred = np.asarray(jax.numpy.argmax(model(shown), axis=-1))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.asarray(jax.device_get(losses)))
    ax.set(xlabel="step", ylabel="cross-entropy", title=f"CNN training loss ({epochs} epochs)")
    paths = [_save(fig, out / "07_training_curve.png")]
    fig, axes = plt.subplots(8, 8, figsize=(8, 8.5))
    for k, axis in enumerate(axes.flat):
        axis.imshow(shown[k, :, :, 0], cmap="gray_r")
        wrong = pred[k] != y_test[k]
        axis.set_title(f"{pred[k]}" + (f" (is {y_test[k]})" if wrong else ""), fontsize=8,
                       color="red" if wrong else "black")
        axis.axis("off")
    fig.suptitle("Test digits and the CNN's predictions (wrong ones in red)")
    paths.append(_save(fig, out / "07_predictions.png"))
    return paths


def plot_08(ex, out: Path, steps: int = 150) -> list[Path]:
    import jax
    import jax.numpy as jnp

    from grader.learner.datasets import blobs_ring

    plt = _pyplot()
    d = blobs_ring()
    params = ex.init_classifier(jax.random.key(0), [2, 32, 32, 3])
    optimizer = _call("make_optimizer", ex.make_optimizer, 0.05, 15, steps, 1.0)
    step = _call("make_train_step", ex.make_train_step, optimizer, ex.softmax_cross_entropy)
    params, _, losses = _call("fit", ex.fit, step, params, optimizer.init(params), d["x_train"], d["y_train"], steps)
    test_acc = float(np.mean(np.argmax(np.asarray(ex.forward(params, d["x_test"])), axis=-1) == d["y_test"]))
    lim = float(np.abs(d["x_train"]).max()) + 0.5
    grid = np.linspace(-lim, lim, 200, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    regions = np.asarray(jnp.argmax(ex.forward(params, points), axis=-1)).reshape(gx.shape)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5))
    colors = ["tab:blue", "tab:orange", "tab:green"]
    from matplotlib.colors import ListedColormap

    left.contourf(gx, gy, regions, levels=[-0.5, 0.5, 1.5, 2.5], cmap=ListedColormap(colors), alpha=0.25)
    for label, color in enumerate(colors):
        mine = d["y_test"] == label
        left.scatter(d["x_test"][mine, 0], d["x_test"][mine, 1], s=8, color=color, label=f"class {label}")
    left.set(aspect="equal", title=f"Decision regions, test points ({test_acc:.1%} right)")
    left.legend(loc="upper right", fontsize=8)
    right.semilogy(np.asarray(losses))
    right.set(xlabel="step", ylabel="softmax cross-entropy",
              title="Training loss (clipped Adam, warm-up + cosine)")
    return [_save(fig, out / "08_decision_boundary.png")]


def plot_09(ex, out: Path, hidden: int = 16, steps: int = 10, delay: int = 2) -> list[Path]:
    import jax.numpy as jnp

    plt = _pyplot()
    rng = np.random.default_rng(0)

    def echo(n):
        xs = rng.standard_normal((n, steps, 1)).astype(np.float32)
        ys = np.zeros_like(xs)
        ys[:, delay:] = xs[:, :-delay]
        return xs, ys

    params = {"cell": {"wx": rng.standard_normal((1, hidden)).astype(np.float32),
                       "wh": (rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32),
                       "b": np.zeros(hidden, np.float32)},
              "out": {"w": (rng.standard_normal((hidden, 1)) / np.sqrt(hidden)).astype(np.float32),
                      "b": np.zeros(1, np.float32)}}
    xs, ys = echo(64)
    params, losses = _call("train", ex.train, ex.echo_loss, params, xs, ys, 300, 0.03)
    x_new, y_new = echo(1)
    h0 = jnp.zeros((1, hidden), jnp.float32)
    _, hs = _call("run_rnn", ex.run_rnn, ex.elman_cell, params["cell"], h0, jnp.swapaxes(x_new, 0, 1))
    pred = np.asarray(hs @ params["out"]["w"] + params["out"]["b"])[:, 0, 0]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    t = np.arange(steps)
    left.plot(t, x_new[0, :, 0], "o-", color="gray", label="input x[t]")
    left.plot(t, y_new[0, :, 0], "s--", label=f"target x[t - {delay}]")
    left.plot(t, pred, "^-", label="the RNN's output")
    left.set(xlabel="step t", title="A new sequence and its echo")
    left.legend()
    right.semilogy(np.asarray(losses))
    right.set(xlabel="training step", ylabel="mean squared error", title="Training loss (Adam, one scan)")
    return [_save(fig, out / "09_echo.png")]


def plot_11(ex, out: Path, steps: int = 300) -> list[Path]:
    import jax
    import jax.numpy as jnp

    plt = _pyplot()
    model, losses, accuracy = _call("Transformer", ex.train_reverse, steps)
    tokens = np.arange(8, dtype=np.int32)[None] % 10  # 0 1 2 ... 7: its reverse is 7 6 ... 0
    block = model.block

    def weights(model, tokens):
        x = model.token_embed(tokens) + model.position_embed(jnp.arange(tokens.shape[-1]))
        h = block.norm1(x)
        q, k = block.attention.query(h), block.attention.key(h)  # (1, length, heads, head_dim)
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(q.shape[-1])
        return jax.nn.softmax(scores, axis=-1)[0]

    attn = np.asarray(_call("Transformer", weights, model, tokens))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(np.asarray(losses))
    ax.set(xlabel="step", ylabel="cross-entropy", title=f"Reversing 8 digits: {accuracy:.1%} right after {steps} steps")
    paths = [_save(fig, out / "11_training_curve.png")]
    fig, axes = plt.subplots(1, len(attn), figsize=(3.2 * len(attn), 3.4))
    for h, axis in enumerate(np.atleast_1d(axes)):
        axis.imshow(attn[h], cmap="viridis", vmin=0, vmax=1)
        axis.set(title=f"head {h}", xlabel="key position", ylabel="query position")
    fig.suptitle("Attention weights of the trained block on 0 1 2 ... 7 (reversing reads the anti-diagonal)")
    paths.append(_save(fig, out / "11_attention.png"))
    return paths


def plot_13(ex, out: Path, steps: int = 60, batch_size: int = 128) -> list[Path]:
    import time

    import jax
    import optax

    plt = _pyplot()
    tx = optax.adam(0.01)
    data = _call("make_data", ex.make_data, 0, 4096)
    mask = np.ones(batch_size, bool)

    def numpy_loader():
        epoch = 0
        while True:
            for batch in ex.batches(ex.ArrayDataset(data), batch_size, 0, epoch, True):
                yield ex.to_model(batch)
            epoch += 1

    def grain_loader():
        return iter(ex.grain_dataset(data, batch_size, 0, 2 + steps * batch_size // len(data["y"])))

    def run(source, prefetch):
        step, state = ex.make_train_step(tx), ex.init_state(0, tx)
        batches = ex.prefetch_to_device(source, 2) if prefetch else source
        clock, times = time.perf_counter, []
        for i in range(steps + 1):
            asked = clock()
            batch = next(batches)
            got = clock()
            batch = jax.block_until_ready(jax.device_put(batch))
            sent = clock()
            state, loss = step(state, batch, mask)
            jax.block_until_ready((state, loss))
            if i:  # the first step compiles: left out
                times.append((asked, got, sent, clock()))
        return ex.split_step_times(np.array(times))

    runs = {}
    for label, make, prefetch, needs in (
            ("NumPy loader", numpy_loader, False, "ArrayDataset, batches and make_train_step"),
            ("NumPy loader,\nprefetch_to_device", numpy_loader, True, "prefetch_to_device"),
            ("grain,\nprefetch_to_device", grain_loader, True, "grain_dataset")):
        runs[label] = _call(needs, lambda: run(make(), prefetch))
    fig, ax = plt.subplots(figsize=(8, 3.6))
    left = np.zeros(len(runs))
    for part, color in (("data", "tab:orange"), ("transfer", "tab:purple"), ("compute", "tab:blue"),
                        ("host", "tab:gray")):
        widths = np.array([1e3 * split[part] / steps for split in runs.values()])
        ax.barh(list(runs), widths, left=left, color=color, label=part)
        left += widths
    ax.invert_yaxis()
    ax.set(xlabel="milliseconds per step", title=f"Where a step's time goes ({steps} steps of {batch_size}, "
           f"{jax.devices()[0].platform})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    return [_save(fig, out / "13_step_time.png")]


PLOTS = {"05": plot_05, "06": plot_06, "07": plot_07, "08": plot_08, "09": plot_09, "11": plot_11, "13": plot_13}


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def plot(number: str, out: Path, target: str = "lessons") -> list[Path]:
    lesson = targets.find_lesson(number)
    if lesson.number not in PLOTS:
        raise PlotUnavailable(f"lesson {lesson.number} has no plots; lessons {', '.join(PLOTS)} do")
    from grader.learner import jax_setup

    jax_setup.configure()
    return PLOTS[lesson.number](_module(lesson, target), Path(out))
