"""Puts JAX in the state every lesson test expects, before any JAX operation runs.

- 8 CPU devices, so multi-device lessons run on a laptop and mean the same on a 1-GPU runner
  (their tests ask for ``jax.devices("cpu")`` explicitly; ``JAX_PLATFORMS=cuda`` becomes
  ``cuda,cpu`` so those devices exist on a GPU runner too);
- float32 matmuls at "highest" precision, so a GPU's TF32 never fails a right answer;
- a persistent compilation cache, so a second run of a lesson skips most XLA compiles;
- on a machine with only a CPU, programs compiled without LLVM's optimizations and with XLA's classic
  fusion emitters: the lessons' programs are small and run a few times, so a first run spends most
  of its time compiling, and optimizing costs more than it saves (lesson 11's first run: 21 s, 13 s
  without the optimizations, 7.5 s with the classic emitters too).
"""
import importlib.metadata
import importlib.util
import os
import pkgutil
from pathlib import Path

N_CPU_DEVICES = 8
CACHE_ENV = "JAX_LESSONS_CACHE"
# "off": read the cache, never add to it (the class grader's sandboxes, which read only the programs
# the reference compiled, by name: grader/classroom/grading.py)
CACHE_WRITES_ENV = "JAX_LESSONS_CACHE_WRITES"
NEVER = 1e9  # seconds: a compile must take longer than this to be written, so none is
FAST_COMPILE = "--xla_backend_optimization_level=0"
# XLA:CPU's newer fusion emitters take about twice as long to compile the lessons' programs as the
# classic ones (lesson 08's first run: 13.6 s, 9.5 s with the classic). XLA aborts on a flag it does
# not know, so this one is named only for the jaxlib versions seen to have it (0.10.2, 0.11.2, 0.12.1).
CLASSIC_EMITTERS = "--xla_cpu_use_fusion_emitters=false"
CLASSIC_EMITTERS_JAXLIB = ((0, 10, 2), (0, 13))


class TooLateError(RuntimeError):
    pass


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "jax-lessons-kit" / "xla"


def configure(n_cpu_devices: int = N_CPU_DEVICES, cache_dir: str | os.PathLike | None = None) -> None:
    """Configure JAX; raises TooLateError if a JAX operation already ran in this process."""
    import jax
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        if len(jax.devices("cpu")) >= n_cpu_devices:
            _set_precision_and_cache(jax, cache_dir)
            return
        raise TooLateError(
            f"JAX already started with {len(jax.devices('cpu'))} CPU device(s), but the lessons need "
            f"{n_cpu_devices}. Something ran a JAX operation before the kit could set up its devices "
            f"(an import in a conftest.py or a sitecustomize?). Remove it, or set "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={n_cpu_devices} before starting Python."
        )
    jax.config.update("jax_num_cpu_devices", n_cpu_devices)
    platforms = jax.config.jax_platforms
    if platforms and "cpu" not in platforms.split(","):
        # JAX_PLATFORMS=cuda on a GPU runner: the accelerator stays the default, and the CPU devices
        # the multi-device lessons ask for (jax.devices("cpu")) exist too
        jax.config.update("jax_platforms", f"{platforms},cpu")
    _compile_fast_on_cpu(platforms)
    _set_precision_and_cache(jax, cache_dir)


def _compile_fast_on_cpu(platforms: str | None) -> None:
    """Add the fast CPU compile flags to XLA_FLAGS (read when the backend starts, which it has not
    yet) where the programs can only run on the CPU, each unless XLA_FLAGS already sets it."""
    only_cpu = set(platforms.split(",")) <= {"cpu"} if platforms else not accelerator_plugins()
    if only_cpu:
        os.environ["XLA_FLAGS"] = with_fast_cpu_flags(os.environ.get("XLA_FLAGS", ""))


def fast_cpu_flags() -> list[str]:
    """The XLA flags that make the CPU compile the lessons' programs fast, as this jaxlib takes them."""
    return [FAST_COMPILE] + ([CLASSIC_EMITTERS] if _jaxlib_within(*CLASSIC_EMITTERS_JAXLIB) else [])


def with_fast_cpu_flags(flags: str) -> str:
    """XLA_FLAGS `flags`, with each of fast_cpu_flags() that they don't set already."""
    for flag in fast_cpu_flags():
        if flag.split("=")[0] not in flags:
            flags = f"{flags} {flag}".strip()
    return flags


def _jaxlib_within(lowest: tuple, below: tuple) -> bool:
    try:
        parts = importlib.metadata.version("jaxlib").split(".")[:3]
        version = tuple(int("".join(c for c in p if c.isdigit()) or 0) for p in parts)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return lowest <= version < below


def accelerator_plugins() -> list[str]:
    """The accelerator backends JAX may start here besides the CPU: its plugins (CUDA, ROCm, ...)
    and a TPU library."""
    found = [e.name for e in importlib.metadata.entry_points(group="jax_plugins")]
    try:
        import jax_plugins

        found += [m.name for m in pkgutil.iter_modules(jax_plugins.__path__)]
    except ImportError:
        pass
    return found + (["libtpu"] if importlib.util.find_spec("libtpu") else [])


def _set_precision_and_cache(jax, cache_dir) -> None:
    jax.config.update("jax_default_matmul_precision", "highest")
    cache = cache_dir if cache_dir is not None else os.environ.get(CACHE_ENV, default_cache_dir())
    if str(cache).lower() in ("", "0", "off", "none"):
        return
    try:
        Path(cache).mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # a read-only home only costs speed
    jax.config.update("jax_compilation_cache_dir", str(cache))
    writes = os.environ.get(CACHE_WRITES_ENV, "on").lower() not in ("0", "off", "no")
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0 if writes else NEVER)
    jax.config.update("jax_compilation_cache_max_size", -1)  # no eviction: its lock and access times are writes
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
