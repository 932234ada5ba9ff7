"""Datasets of many recordings: one Parquet file per recording in vitaldb's long schema
(``schema``), converted in parallel (``batch``), listed in a manifest (``manifest``), read
back as recordings (``case_reader``) and queried with SQL (``query``).

``vitalproc.convert`` and ``vitalproc.open_dataset`` are the entry points.
"""
