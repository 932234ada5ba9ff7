"""Writers: one module per output format, each ``write(vf, dest, **options)``.

Each writer imports its format library inside its functions, so importing this package
(or ``vitalproc``) loads no optional library.
"""
