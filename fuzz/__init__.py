"""Coverage-guided fuzzing of ``vitalproc.read`` (atheris): ``python -m fuzz --help``.

Two targets, each fed through the failure-contract oracle of ``fuzz.contract``:

* ``inflated`` — mutated inflated .vital bytes (the packet walk and the per-packet
  Python), wrapped in stored gzip blocks before they are read;
* ``gzip`` — mutated whole files (the inflaters, truncation and corruption salvage,
  then the walk).

Each input's first byte picks the read options the oracle varies; the rest is the file.
Seeds are the real recordings of ``tests/data`` and the fixtures of
``tests/fixtures_catalog.py``. The package lives outside ``src/``: it is a development
tool, run from the repository root.
"""
