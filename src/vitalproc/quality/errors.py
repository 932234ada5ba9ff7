"""The error of a bad quality or cohort input (exit code 2 on the command line)."""

from __future__ import annotations

from ..errors import VitalError


class QualityInputError(VitalError, ValueError):
    """A limits table, rules file, clinical table or option that cannot be used as given;
    the message names the file and line, the rule, or the column at fault."""
