"""The OpenBLAS kernels the PyTorch peer runs at its best on this CPU, read from /proc/cpuinfo:
SkylakeX (AVX-512) where the CPU has AVX-512 F/BW/DQ/VL, Haswell (AVX2 + FMA, which OpenBLAS
also uses for AMD Zen) where it has those, none otherwise. Forcing a core type the CPU lacks
kills the peer with SIGILL (seen on an AVX2-only AMD EPYC, 2026-12-06), so it is never fixed.
Imported by bench/run and bench/prune_quality."""


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def openblas_coretype(flags=None):
    """"SkylakeX", "Haswell" or None (then OpenBLAS's own detection is the only choice)."""
    flags = cpu_flags() if flags is None else flags
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None
