# The types a track's samples are stored in (the .vital formats 1 to 8): one fused type
# for every compiled loop over a track's samples, specialised once per type.
from libc.stdint cimport int8_t, int16_t, int32_t, uint8_t, uint16_t, uint32_t

ctypedef fused sample_t:
    float
    double
    int8_t
    uint8_t
    int16_t
    uint16_t
    int32_t
    uint32_t
