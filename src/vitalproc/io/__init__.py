"""Bytes in and out: a source (path, URL, bytes, file) inflated, walked by the compiled
core into the columnar model (``reader``), and the model written back as ``.vital``
(``vital_writer``).

``_source`` opens a source and streams its inflated bytes, ``_inflate`` picks the fastest
inflater installed, ``_parse`` (Cython) walks the packets' records into column buffers.
"""
