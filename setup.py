"""Build the compiled modules: vitalproc.io._parse (the packet walk), vitalproc.ops._grid
(the time grid's cell loops), vitalproc.writers._text (integer samples as JSON text),
vitalproc.synth._tile (the synthetic waves' template loops), vitalproc.quality._pass
(every quality metric of a track in one pass), vitalproc.viewer._envelope (min/max per pixel
column, for plots and the viewer) and vitalproc.windows._running (the moving averages of
many windows).

VITALPROC_DEBUG=1 builds it with bounds checks and -O0; VITALPROC_SANITIZE=1 adds
AddressSanitizer and UBSan (run Python with LD_PRELOAD of libasan then);
VITALPROC_PORTABLE=1 leaves out the Linux-only memory paths (mremap, huge pages) as a
build on another system does (io/_bigmem.h).
"""
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("VITALPROC_DEBUG") == "1"
sanitize = os.environ.get("VITALPROC_SANITIZE") == "1"
portable = os.environ.get("VITALPROC_PORTABLE") == "1"
if os.name == "nt":  # MSVC's spelling
    cflags = ["/Od", "/Zi"] if debug else ["/O2"]
else:
    cflags = ["-O0", "-g"] if debug or sanitize else ["-O3"]
    # Each float operation rounded on its own, as numpy's are: no fused multiply-add,
    # which compilers otherwise form where the CPU has it (aarch64), changing values.
    cflags += ["-ffp-contract=off"]
ldflags = []
if sanitize:
    cflags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    ldflags += ["-fsanitize=address,undefined"]

exts = [
    Extension(
        f"vitalproc.{name}",
        [f"src/vitalproc/{name.replace('.', '/')}.pyx"],
        include_dirs=[np.get_include()],
        extra_compile_args=cflags,
        extra_link_args=ldflags,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
        + ([("VITALPROC_PORTABLE", "1")] if portable else []),
        depends=["src/vitalproc/io/_bigmem.h"] if name == "io._parse" else [],
    )
    for name in ("io._parse", "ops._grid", "writers._text", "synth._tile", "quality._pass",
                 "viewer._envelope", "windows._running")
]

setup(
    ext_modules=cythonize(
        exts,
        language_level=3,
        compiler_directives={
            "boundscheck": debug,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": debug,
        },
    )
)
