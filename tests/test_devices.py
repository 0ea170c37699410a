"""The session's JAX set-up: 8 CPU devices, "highest" float32 matmul precision, fast compiles on a CPU."""
import os

import jax

from grader.learner import jax_setup


def test_eight_cpu_devices_are_simulated():
    assert len(jax.devices("cpu")) == jax_setup.N_CPU_DEVICES == 8


def test_matmul_precision_is_highest():
    assert jax.config.jax_default_matmul_precision == "highest"


def test_configuring_again_after_start_is_harmless():
    jax_setup.configure()  # JAX already runs with 8 CPU devices: nothing to change, no error


def test_too_late_is_a_clear_message():
    import subprocess
    import sys

    code = ("import jax; jax.numpy.zeros(1)\n"
            "from grader import jax_setup\n"
            "try:\n    jax_setup.configure()\nexcept jax_setup.TooLateError as e:\n    print('LATE', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.startswith("LATE JAX already started with 1 CPU device(s)")


def test_a_gpu_only_platform_keeps_the_cpu_devices_the_lessons_use():
    """On a GPU runner (JAX_PLATFORMS=cuda) the multi-device lessons still find jax.devices("cpu"):
    the set-up adds the CPU platform after the accelerator, which stays the default."""
    import os
    import subprocess
    import sys

    # no backend is started, so this holds on a machine without a GPU (or without CUDA JAX)
    code = ("from grader import jax_setup\njax_setup.configure()\nimport jax\n"
            "from jax._src import xla_bridge\n"
            "print(jax.config.jax_platforms, xla_bridge.backends_are_initialized())\n")
    for given, expected in (("cuda", "cuda,cpu"), ("cuda,cpu", "cuda,cpu"), ("cpu", "cpu")):
        env = dict(os.environ, JAX_PLATFORMS=given)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert out.stdout.split() == [expected, "False"], out.stderr


def test_only_cpu_runs_compile_without_llvm_optimizations_unless_xla_flags_say_otherwise():
    import os
    import subprocess
    import sys

    code = "import os\nfrom grader import jax_setup\njax_setup.configure()\nprint(repr(os.environ.get('XLA_FLAGS')))\n"
    own = "--xla_force_host_platform_device_count=8"
    fast = " ".join(jax_setup.fast_cpu_flags())
    level3 = "--xla_backend_optimization_level=3"
    for platforms, flags, expected in (("cpu", None, fast),
                                       ("cpu", own, f"{own} {fast}"),
                                       ("cpu", level3, " ".join([level3] + jax_setup.fast_cpu_flags()[1:])),
                                       ("cuda", None, None)):
        env = dict(os.environ, JAX_PLATFORMS=platforms)
        env.pop("XLA_FLAGS", None)
        env.update({"XLA_FLAGS": flags} if flags else {})
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert out.stdout.strip() == repr(expected), (platforms, flags, out.stdout, out.stderr[-2000:])


def test_with_no_platform_named_an_installed_accelerator_plugin_keeps_the_optimizations(monkeypatch):
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.setattr(jax_setup, "accelerator_plugins", lambda: ["xla_cuda12"])
    jax_setup._compile_fast_on_cpu(None)
    assert "XLA_FLAGS" not in os.environ
    monkeypatch.setattr(jax_setup, "accelerator_plugins", lambda: [])
    jax_setup._compile_fast_on_cpu(None)
    assert os.environ["XLA_FLAGS"] == " ".join(jax_setup.fast_cpu_flags())


def test_the_classic_emitters_are_named_only_for_a_jaxlib_known_to_take_them(monkeypatch):
    """XLA aborts on a flag it does not know: outside the checked versions, only the level is set."""
    import importlib.metadata

    for version, named in (("0.10.2", True), ("0.12.1", True), ("0.10.1", False), ("0.13.0", False)):
        monkeypatch.setattr(importlib.metadata, "version", lambda name, v=version: v)
        assert (jax_setup.CLASSIC_EMITTERS in jax_setup.fast_cpu_flags()) == named, version
        assert jax_setup.FAST_COMPILE in jax_setup.fast_cpu_flags()


def test_the_classic_emitters_compile_and_compute_as_the_default_ones():
    """The installed jaxlib takes the flag, and a program gives the same numbers with it."""
    import subprocess
    import sys

    code = ("import jax, jax.numpy as jnp\nx = jnp.linspace(-3, 3, 64).reshape(8, 8)\n"
            "print(repr(float(jax.jit(lambda a: jnp.tanh(a @ a.T).sum() + jax.nn.logsumexp(a))(x))))")
    got = {}
    for flags in ("--xla_backend_optimization_level=0", " ".join(jax_setup.fast_cpu_flags())):
        env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr[-2000:]
        got[flags] = float(out.stdout)
    first, second = got.values()
    assert abs(first - second) <= 1e-5 * max(1.0, abs(first)), got
