// harness_random.h: the developer harnesses' random numbers (xorshift64; reproducible from the seed in
// rng_state, which a harness may set before its first draw).
#ifndef MK_HARNESS_RANDOM_H
#define MK_HARNESS_RANDOM_H
#include <stddef.h>
#include <stdint.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
// Uniform in [lo, hi].
static ptrdiff_t rnd(ptrdiff_t lo, ptrdiff_t hi) { return lo + (ptrdiff_t)(rng() % (uint64_t)(hi - lo + 1)); }
// Uniform in [-1, 1).
static float rndf(void) { return (float)((double)(rng() >> 11) / 9007199254740992.0 * 2.0 - 1.0); }
#endif
