"""Work on a recording in memory: time grids (``views``, vitaldb's ``to_numpy``), edits
(``edit``), several files merged into one (``merge``), the tracks and records chosen
for output (``selection``), and long Arrow/polars tables (``frames``).
"""
