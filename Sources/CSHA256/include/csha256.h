#ifndef LEADLEDGER_CSHA256_H
#define LEADLEDGER_CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU has the x86 SHA extensions (and this build can use them).
int leadledger_sha256_hw_available(void);

/// SHA-256 of `length` bytes at `data` into `out` (32 bytes), with the x86 SHA extensions.
/// Call only when `leadledger_sha256_hw_available()` is true.
void leadledger_sha256_hw(const void *data, size_t length, uint8_t out[32]);

#endif
