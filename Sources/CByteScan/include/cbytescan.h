#ifndef LEADLEDGER_CBYTESCAN_H
#define LEADLEDGER_CBYTESCAN_H

#include <stddef.h>
#include <stdint.h>

/// Marks every '"' of `bytes` in `bits` (bit i of word i/64 for byte i; the (count + 63) / 64
/// words are all written) and returns 1 when the bytes are plain: no backslash, no byte
/// below 0x20 and none above 0x7F. Returns 0 as soon as a byte is not (the bits are then
/// incomplete). Sixteen bytes at a time with SSE2 where the build has it.
int leadledger_quote_bits(const uint8_t *bytes, size_t count, uint64_t *bits);

/// Asks the CPU to start loading the cache line at `address` (a hint: never faults).
static inline void leadledger_prefetch(const void *address) {
    __builtin_prefetch(address);
}

#endif
