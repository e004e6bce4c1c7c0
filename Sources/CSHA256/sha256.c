// SHA-256 (FIPS 180-4) with the x86 SHA extensions, for the event log's hash chain: one call
// per record, no allocation. The rounds follow Intel's published SHA-NI sequence (state kept
// as ABEF/CDGH, two rounds per sha256rnds2). The log falls back to swift-crypto when the CPU
// lacks the extensions; tests compare the two on many inputs.

#include "csha256.h"
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <immintrin.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

int leadledger_sha256_hw_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    int ssse3 = (ecx >> 9) & 1, sse41 = (ecx >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    int sha = (ebx >> 29) & 1;
    return ssse3 && sse41 && sha;
}

/// Runs the compression function over `blocks` 64-byte blocks.
__attribute__((target("sha,sse4.1,ssse3")))
static void compress(uint32_t state[8], const uint8_t *data, size_t blocks) {
    const __m128i byteSwap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)&state[0]);     // A B C D (lane 0 = A)
    __m128i state1 = _mm_loadu_si128((const __m128i *)&state[4]);  // E F G H
    tmp = _mm_shuffle_epi32(tmp, 0xB1);                           // C D A B -> CDAB
    state1 = _mm_shuffle_epi32(state1, 0x1B);                     // H G F E -> EFGH
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);             // ABEF
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);                  // CDGH

    while (blocks--) {
        const __m128i abefSaved = state0, cdghSaved = state1;
        __m128i w[4];  // the last four groups of four schedule words
        for (int group = 0; group < 16; group++) {
            __m128i words;
            if (group < 4) {
                words = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * group)), byteSwap);
            } else {
                // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], four lanes at a time.
                __m128i previous = w[(group - 1) & 3];
                words = _mm_sha256msg1_epu32(w[group & 3], w[(group - 3) & 3]);
                words = _mm_add_epi32(words, _mm_alignr_epi8(previous, w[(group - 2) & 3], 4));
                words = _mm_sha256msg2_epu32(words, previous);
            }
            w[group & 3] = words;
            __m128i message = _mm_add_epi32(words, _mm_loadu_si128((const __m128i *)&K[4 * group]));
            state1 = _mm_sha256rnds2_epu32(state1, state0, message);
            message = _mm_shuffle_epi32(message, 0x0E);
            state0 = _mm_sha256rnds2_epu32(state0, state1, message);
        }
        state0 = _mm_add_epi32(state0, abefSaved);
        state1 = _mm_add_epi32(state1, cdghSaved);
        data += 64;
    }

    tmp = _mm_shuffle_epi32(state0, 0x1B);           // FEBA
    state1 = _mm_shuffle_epi32(state1, 0xB1);        // DCHG
    state0 = _mm_blend_epi16(tmp, state1, 0xF0);     // DCBA
    state1 = _mm_alignr_epi8(state1, tmp, 8);        // ABEF -> HGFE
    _mm_storeu_si128((__m128i *)&state[0], state0);
    _mm_storeu_si128((__m128i *)&state[4], state1);
}

void leadledger_sha256_hw(const void *data, size_t length, uint8_t out[32]) {
    uint32_t state[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    const uint8_t *bytes = data;
    size_t full = length / 64;
    compress(state, bytes, full);

    // The tail, the 0x80 marker and the bit length, in one or two blocks.
    uint8_t last[128] = {0};
    size_t rest = length - full * 64;
    if (rest) memcpy(last, bytes + full * 64, rest);
    last[rest] = 0x80;
    size_t tailBlocks = rest + 9 <= 64 ? 1 : 2;
    uint64_t bits = (uint64_t)length * 8;
    for (int i = 0; i < 8; i++) last[tailBlocks * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
    compress(state, last, tailBlocks);

    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(state[i] >> 24);
        out[4 * i + 1] = (uint8_t)(state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(state[i] >> 8);
        out[4 * i + 3] = (uint8_t)state[i];
    }
}

#else

int leadledger_sha256_hw_available(void) { return 0; }
void leadledger_sha256_hw(const void *data, size_t length, uint8_t out[32]) { (void)data; (void)length; memset(out, 0, 32); }

#endif
