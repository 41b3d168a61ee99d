"""Makes sure the PyTorch peer can be imported: when torch or NumPy is missing, installs them
through `scripts/deps.sh peer` (Debian's python3-torch and python3-numpy). Imported by the
golden-value scripts before they import torch:

    import peer_deps  # noqa: F401  (installs torch and NumPy when missing)
"""
import importlib.util
import os
import subprocess
import sys


def _missing():
    return [m for m in ("torch", "numpy") if importlib.util.find_spec(m) is None]


if _missing():
    deps = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deps.sh")
    if subprocess.run([deps, "peer"]).returncode != 0 or _missing():
        sys.exit(f"{os.path.basename(sys.argv[0])}: needs {', '.join(_missing() or ['torch'])}: "
                 "scripts/deps.sh peer could not install them (Debian's python3-torch, "
                 "python3-numpy; run the script with /usr/bin/python3)")
