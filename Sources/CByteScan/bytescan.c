// The JSONL fast path's first pass over a line (see EventTranscoder): where its quotes are,
// and whether any byte would make a string need more than finding its closing quote.

#include "cbytescan.h"
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>

/// The quotes of 16 bytes, or -1 when one of them is not plain.
static inline int64_t quotes16(const uint8_t *bytes) {
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    __m128i v = _mm_loadu_si128((const __m128i *)bytes);
    // A signed "less than 0x20" also takes every byte above 0x7F (they are negative).
    __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmplt_epi8(v, space));
    if (_mm_movemask_epi8(bad) != 0) return -1;
    return _mm_movemask_epi8(_mm_cmpeq_epi8(v, quote));
}

/// The quotes of 64 bytes as one word, or 0 with `*plain` cleared.
static inline uint64_t quotes64(const uint8_t *bytes, int *plain) {
    int64_t a = quotes16(bytes), b = quotes16(bytes + 16), c = quotes16(bytes + 32), d = quotes16(bytes + 48);
    if ((a | b | c | d) < 0) {
        *plain = 0;
        return 0;
    }
    return (uint64_t)a | (uint64_t)b << 16 | (uint64_t)c << 32 | (uint64_t)d << 48;
}

int leadledger_quote_bits(const uint8_t *bytes, size_t count, uint64_t *bits) {
    int plain = 1;
    size_t i = 0;
    for (; i + 64 <= count; i += 64) {
        bits[i >> 6] = quotes64(bytes + i, &plain);
        if (!plain) return 0;
    }
    if (i < count) {
        // The last part word, from a copy padded with spaces (plain, and no quote).
        uint8_t tail[64];
        memset(tail, ' ', sizeof tail);
        memcpy(tail, bytes + i, count - i);
        bits[i >> 6] = quotes64(tail, &plain);
    }
    return plain;
}

#else

int leadledger_quote_bits(const uint8_t *bytes, size_t count, uint64_t *bits) {
    memset(bits, 0, ((count + 63) / 64) * sizeof(uint64_t));
    for (size_t i = 0; i < count; i++) {
        uint8_t byte = bytes[i];
        if (byte == '\\' || byte < 0x20 || byte > 0x7F) return 0;
        if (byte == '"') bits[i >> 6] |= (uint64_t)1 << (i & 63);
    }
    return 1;
}

#endif
