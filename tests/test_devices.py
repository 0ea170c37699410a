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
    for platforms, flags, expected in (("cpu", None, jax_setup.FAST_COMPILE),
                                       ("cpu", own, f"{own} {jax_setup.FAST_COMPILE}"),
                                       ("cpu", "--xla_backend_optimization_level=3", "--xla_backend_optimization_level=3"),
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
    assert os.environ["XLA_FLAGS"] == jax_setup.FAST_COMPILE
