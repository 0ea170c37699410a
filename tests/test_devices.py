"""The session's JAX set-up: 8 CPU devices and "highest" float32 matmul precision."""
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
