"""The lesson plots are drawn from the reference into a temporary folder as valid, non-empty PNGs."""
import struct
import subprocess
import sys

import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return width, height, len(data)


@pytest.mark.parametrize("number, names", [
    ("05", ["05_activation_scale.png"]),
    ("06", ["06_sine_fit.png"]),
    pytest.param("07", ["07_training_curve.png", "07_predictions.png"], marks=pytest.mark.slow),  # trains a CNN
    ("08", ["08_decision_boundary.png"]),
    ("09", ["09_echo.png"]),
    pytest.param("11", ["11_training_curve.png", "11_attention.png"], marks=pytest.mark.slow),  # a transformer
    ("13", ["13_step_time.png"]),
])
def test_plots_are_valid_pngs(number, names, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grader", "plot", number, "--target", "solutions",
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in names:
        width, height, size = png_size(tmp_path / name)
        assert width > 100 and height > 100 and size > 5000


def test_plot_of_unwritten_code_is_a_clear_message(tmp_path):
    from grader.learner import stubs, targets

    stubs.write_stubs(tmp_path / "stubs", [targets.find_lesson("05")])
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "grader", "plot", "05", "--target", str(tmp_path / "stubs"),
                           "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 1 and "is not written yet" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_lessons_without_plots_say_so(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grader", "plot", "01", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "has no plots" in proc.stderr
