"""float32 values as text without numpy: the shortest decimal that reads back to the same
float32, laid out as orjson writes a numpy float32.

The shortest decimal is the one of fewest significant digits inside the value's rounding
interval, the closest to the value among those (Ryu's and numpy's choice). Python formats
the exact value (a float32 widens to a double exactly) to any number of digits, correctly
rounded; the first that reads back is it, with two exceptions handled here: a power of
two, whose interval is narrower below than above (so the closest decimal may fall out
where a farther one falls in), and a decimal whose nearest double is a float32 tie
(rounding twice could go the wrong way), both settled with exact fractions.
"""

from __future__ import annotations

import functools
import math
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction

_F32 = struct.Struct("<f")
_U32 = struct.Struct("<I")

#: The smallest positive normal float32.
SMALLEST_NORMAL = 2.0**-126

#: orjson writes a float32 with decimal exponent E (d.ddd x 10^E) without an exponent when
#: DECIMAL_MIN <= E <= DECIMAL_MAX (``0.000001``, ``1000000000000.0``), else as ``1e13``
#: (orjson 3.8) or ``1e+13`` (3.13): ``_exponent_plus`` asks the installed one.
DECIMAL_MIN, DECIMAL_MAX = -6, 12


@functools.cache
def _exponent_plus() -> str:
    """``+`` if the installed orjson writes a positive exponent with a sign, else ``""``
    (it does so for float32 and float64 alike)."""
    import orjson

    return "+" if b"+" in orjson.dumps(1e20) else ""


def _bits(value: float) -> int:
    return _U32.unpack(_F32.pack(value))[0]


def _of_bits(bits: int) -> float:
    return _F32.unpack(_U32.pack(bits))[0]


def _interval(value: float) -> tuple[Fraction, Fraction, bool]:
    """The decimals that read back to positive ``value``: (low, high, ends included)."""
    # Rarely needed, so not on the command line's import path.
    from fractions import Fraction

    bits = _bits(value)
    exact = Fraction(value)
    below = Fraction(_of_bits(bits - 1)) if bits > 0 else -exact
    above = Fraction(_of_bits(bits + 1)) if bits < 0x7F7FFFFF else exact + (exact - below)
    return (exact + below) / 2, (exact + above) / 2, bits % 2 == 0  # ties to even


def _reads_back(text: str, value: float) -> bool:
    """Whether the decimal ``text`` reads back to positive float32 ``value``."""
    near = float(text)
    try:
        once = _F32.unpack(_F32.pack(near))[0]
    except OverflowError:  # past the largest float32: only an exact look can tell
        once = None
    if once is not None:
        # Rounding twice (decimal -> double -> float32) differs from rounding once only
        # when the double lands on a float32 tie: only then look exactly.
        tie = False
        if near != once and once:
            toward = _of_bits(_bits(once) + (1 if near > once else -1))
            tie = near - once == toward - near
        if not tie:
            return once == value
    from fractions import Fraction

    low, high, ends = _interval(value)
    d = Fraction(text)
    return low < d < high or (ends and d in (low, high))


def shortest_digits(value: float) -> tuple[str, int]:
    """The shortest decimal of float32 ``value`` (finite, positive): its significant
    digits (no trailing zeros) and decimal exponent E (``d.ddd x 10^E``)."""
    # From 6 digits on for a normal value: it spans less than a step of the 6th digit,
    # so a shorter decimal that reads back is also the 6-digit one with zeros cut; a
    # subnormal spans more (1e-45 and 1.4013e-45 are one float32).
    first = 6 if value >= SMALLEST_NORMAL else 1
    power_of_two = _bits(value) & 0x7FFFFF == 0 and value >= SMALLEST_NORMAL
    for digits in range(first, 10):
        text = f"{value:.{digits - 1}e}"
        if _reads_back(text, value):
            return _split(text)
        if power_of_two:  # the closest missed the narrow side: one step up may fit
            mantissa, exponent = text.split("e")
            up = f"{int(mantissa.replace('.', '')) + 1}e{int(exponent) - digits + 1}"
            if _reads_back(up, value):
                return _split(f"{float(up):.{digits - 1}e}")
    raise AssertionError(f"no decimal of 9 digits reads back to {value!r}")  # cannot be


def _split(text: str) -> tuple[str, int]:
    mantissa, exponent = text.split("e")
    return mantissa.replace(".", "").rstrip("0") or "0", int(exponent)


def f32_text(value: float) -> str:
    """float32 ``value`` (as a Python float) as the installed orjson writes it: ``60.1``,
    ``1e-7``, ``0.000001``, ``-0.0``, ``1.2345678e13``; ``null`` for NaN and infinities."""
    if not math.isfinite(value):
        return "null"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    digits, exp = shortest_digits(abs(value))
    if not DECIMAL_MIN <= exp <= DECIMAL_MAX:
        tail = f".{digits[1:]}" if len(digits) > 1 else ""
        plus = _exponent_plus() if exp > 0 else ""
        return f"{sign}{digits[0]}{tail}e{plus}{exp}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    whole, frac = digits[: exp + 1].ljust(exp + 1, "0"), digits[exp + 1 :]
    return f"{sign}{whole}.{frac or '0'}"


def shortest_f32(value: float) -> float:
    """A float32 field (srate, mindisp, maxdisp) as the Python float of its shortest
    decimal (``0.1``, not the widened ``0.10000000149011612``); NaN and infinities as
    they are."""
    if not math.isfinite(value) or value == 0:
        return value
    digits, exp = shortest_digits(abs(value))
    return math.copysign(float(f"{digits[0]}.{digits[1:]}e{exp}"), value)
