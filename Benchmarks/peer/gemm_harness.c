// gemm_harness.c: developer tool for mk_sgemm (Sources/CMedKernels): correctness test and benchmark.
// Not part of the package build: SwiftPM never compiles it (Benchmarks/peer is outside every target's
// path; the bench target is Benchmarks/medmnist-bench).
//
//   test   Every instruction-set path this CPU runs (via mk_isa_select), plus the AVX-512 path's code
//          compiled against an AVX2 emulation of the few AVX-512 intrinsics its micro-kernel uses (so
//          its packing, blocking and edge handling run here even without AVX-512), against a
//          double-precision reference: ~40 fixed shapes (tiny, edges of tiles and cache blocks, both loop
//          orders, the transposed-problem case, the shapes below) and 440 random ones, all four
//          transposition cases, several alpha/beta, lda/ldb/ldc larger than the rows, beta = 0 with NaN
//          in C, the padding columns of C left untouched. Also bitwise: a second call, C computed whole
//          vs in random blocks of rows and of columns, AVX2 vs AVX-512, 4 threads on disjoint row blocks.
//   bench  Single-threaded GFLOP/s of one path next to OpenBLAS (openblas_set_num_threads(1)) in the same
//          process: medians of 5 samples timed with the thread's CPU clock, the two libraries alternating;
//          "ratio" is the median of the 5 per-sample ratios (the 2 cores are shared with other work).
//
// Build from the package root, with the Swift toolchain's clang and SwiftPM's flags for C targets in
// release builds (-O2; `apt-get install libopenblas-dev` for the OpenBLAS column, or drop
// -DMK_HARNESS_OPENBLAS and -lopenblas):
//
//   /opt/swift/usr/bin/clang -O2 -g -fno-omit-frame-pointer -DMK_HARNESS_OPENBLAS \
//       -I Sources/CMedKernels/include -I Sources/CMedKernels -I Benchmarks/peer \
//       Benchmarks/peer/gemm_harness.c Sources/CMedKernels/*.c -o /tmp/gemm_harness -lopenblas -lpthread -lm
//
// Run:
//   /tmp/gemm_harness test
//   /tmp/gemm_harness bench avx2                                       # OpenBLAS as the environment sets it
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/gemm_harness bench avx2   # OpenBLAS at its best
//   /tmp/gemm_harness bench            # the path mk_sgemm picks (or MEDTENSOR_ISA=portable|avx2|avx512)
//   MK_BENCH_ONLY=bcd /tmp/gemm_harness bench avx2    # only rows b, c, d of the table (a = the first)
//
// Memory checking: add -O1 -fsanitize=address,undefined -DMK_GEMM_WORKSPACE_EXACT (the packing buffer is
// then allocated to the exact size, so that an overrun is caught) and run `test`.
#pragma STDC FP_CONTRACT OFF
#include "CMedKernels.h"
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef MK_HARNESS_OPENBLAS
#include <cblas.h>
void openblas_set_num_threads(int);
char *openblas_get_corename(void);
#endif

#include "avx512_emulation.h"

// MARK: utilities

#include "harness_random.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
// This thread's CPU time: the benchmark's clock, so that time the thread spends descheduled (the two
// cores are shared with other work) does not count. Both libraries compute in the calling thread.
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

// A path: the public entry point after mk_isa_select, or the emulated AVX-512 code.
typedef struct { const char *name; int isa; int emulated; } path_t;

static void run_path(const path_t *path, int tA, int tB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                     const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                     ptrdiff_t ldc) {
#if MK_HAVE_EMU
    if (path->emulated) {
        mk_sgemm_avx512emu(tA, tB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    (void)path;
    mk_sgemm(tA, tB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

static void select_path(const path_t *path) {
    if (!path->emulated && mk_isa_select(path->isa) != 0) { fprintf(stderr, "cannot select %s\n", path->name); exit(2); }
}

// MARK: test

typedef struct {
    int tA, tB;
    ptrdiff_t m, n, k, lda, ldb, ldc;
    float alpha, beta;
    float *A, *B, *C0;
    double *ref, *bound;
} case_t;

static void make_case(case_t *c, int tA, int tB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, float beta,
                      int pad) {
    c->tA = tA; c->tB = tB; c->m = m; c->n = n; c->k = k; c->alpha = alpha; c->beta = beta;
    ptrdiff_t arows = tA ? k : m, acols = tA ? m : k, brows = tB ? n : k, bcols = tB ? k : n;
    c->lda = acols + (pad ? rnd(0, 5) : 0) + (acols == 0);
    c->ldb = bcols + (pad ? rnd(0, 5) : 0) + (bcols == 0);
    c->ldc = n + (pad ? rnd(0, 5) : 0);
    c->A = xmalloc(sizeof(float) * (size_t)(arows * c->lda + 1));
    c->B = xmalloc(sizeof(float) * (size_t)(brows * c->ldb + 1));
    c->C0 = xmalloc(sizeof(float) * (size_t)(m * c->ldc + 1));
    for (ptrdiff_t i = 0; i < arows * c->lda; i++) c->A[i] = rndf();
    for (ptrdiff_t i = 0; i < brows * c->ldb; i++) c->B[i] = rndf();
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < c->ldc; j++)
            c->C0[i * c->ldc + j] = j >= n ? 12345.0f : beta == 0.0f ? NAN : rndf();
    // Reference in double: sum of products, and a rounding-error bound from the sum of |products|.
    c->ref = xmalloc(sizeof(double) * (size_t)(m * n + 1));
    c->bound = xmalloc(sizeof(double) * (size_t)(m * n + 1));
    double *row = xmalloc(sizeof(double) * (size_t)(n + 1)), *arow = xmalloc(sizeof(double) * (size_t)(n + 1));
    for (ptrdiff_t i = 0; i < m; i++) {
        for (ptrdiff_t j = 0; j < n; j++) row[j] = arow[j] = 0.0;
        for (ptrdiff_t p = 0; p < k; p++) {
            double a = tA ? c->A[p * c->lda + i] : c->A[i * c->lda + p];
            if (tB) {
                for (ptrdiff_t j = 0; j < n; j++) { double b = c->B[j * c->ldb + p]; row[j] += a * b; arow[j] += fabs(a * b); }
            } else {
                const float *bp = c->B + p * c->ldb;
                for (ptrdiff_t j = 0; j < n; j++) { double b = bp[j]; row[j] += a * b; arow[j] += fabs(a * b); }
            }
        }
        for (ptrdiff_t j = 0; j < n; j++) {
            double cv = beta == 0.0f ? 0.0 : c->C0[i * c->ldc + j];
            c->ref[i * n + j] = (double)alpha * row[j] + (double)beta * cv;
            c->bound[i * n + j] = (double)(k + 4) * FLT_EPSILON * (fabs((double)alpha) * arow[j] + fabs((double)beta * cv)) + 1e-37;
        }
    }
    free(row); free(arow);
}

static void free_case(case_t *c) { free(c->A); free(c->B); free(c->C0); free(c->ref); free(c->bound); }

static float *run_case(const path_t *path, const case_t *c) {
    float *C = xmalloc(sizeof(float) * (size_t)(c->m * c->ldc + 1));
    memcpy(C, c->C0, sizeof(float) * (size_t)(c->m * c->ldc));
    run_path(path, c->tA, c->tB, c->m, c->n, c->k, c->alpha, c->A, c->lda, c->B, c->ldb, c->beta, C, c->ldc);
    return C;
}

static int failures = 0;
static double worst_ratio = 0.0;

static void fail(const path_t *path, const case_t *c, const char *what) {
    if (failures++ < 20)
        fprintf(stderr, "FAIL %s: %s  tA=%d tB=%d m=%td n=%td k=%td lda=%td ldb=%td ldc=%td alpha=%g beta=%g\n", path->name,
                what, c->tA, c->tB, c->m, c->n, c->k, c->lda, c->ldb, c->ldc, c->alpha, c->beta);
}

static int check_values(const path_t *path, const case_t *c, const float *C) {
    for (ptrdiff_t i = 0; i < c->m; i++) {
        for (ptrdiff_t j = 0; j < c->ldc; j++) {
            float got = C[i * c->ldc + j];
            if (j >= c->n) {
                if (got != 12345.0f) { fail(path, c, "wrote outside the m×n block"); return 0; }
                continue;
            }
            double err = fabs((double)got - c->ref[i * c->n + j]);
            double ratio = err / c->bound[i * c->n + j];
            if (!(ratio <= 1.0)) {
                char msg[160];
                snprintf(msg, sizeof msg, "C[%td][%td] = %.9g, reference %.9g", i, j, got, c->ref[i * c->n + j]);
                fail(path, c, msg);
                return 0;
            }
            if (ratio > worst_ratio) worst_ratio = ratio;
        }
    }
    return 1;
}

// C computed in blocks of rows, then of columns, with pointer offsets as a threaded caller does.
static float *run_split(const path_t *path, const case_t *c, int byRows) {
    float *C = xmalloc(sizeof(float) * (size_t)(c->m * c->ldc + 1));
    memcpy(C, c->C0, sizeof(float) * (size_t)(c->m * c->ldc));
    ptrdiff_t total = byRows ? c->m : c->n;
    for (ptrdiff_t s = 0; s < total;) {
        ptrdiff_t len = rnd(1, total - s > 40 ? total / 3 + 1 : total - s);
        if (len > total - s) len = total - s;
        if (byRows) {
            const float *a = c->tA ? c->A + s : c->A + s * c->lda;
            run_path(path, c->tA, c->tB, len, c->n, c->k, c->alpha, a, c->lda, c->B, c->ldb, c->beta, C + s * c->ldc, c->ldc);
        } else {
            const float *b = c->tB ? c->B + s * c->ldb : c->B + s;
            run_path(path, c->tA, c->tB, c->m, len, c->k, c->alpha, c->A, c->lda, b, c->ldb, c->beta, C + s, c->ldc);
        }
        s += len;
    }
    return C;
}

static int same_bits(const float *x, const float *y, ptrdiff_t count) { return memcmp(x, y, sizeof(float) * (size_t)count) == 0; }

typedef struct { const path_t *path; const case_t *c; float *C; ptrdiff_t r0, r1; } job_t;
static void *thread_job(void *arg) {
    job_t *j = arg;
    for (int rep = 0; rep < 3; rep++) {
        const float *a = j->c->tA ? j->c->A + j->r0 : j->c->A + j->r0 * j->c->lda;
        memcpy(j->C + j->r0 * j->c->ldc, j->c->C0 + j->r0 * j->c->ldc, sizeof(float) * (size_t)((j->r1 - j->r0) * j->c->ldc));
        run_path(j->path, j->c->tA, j->c->tB, j->r1 - j->r0, j->c->n, j->c->k, j->c->alpha, a, j->c->lda, j->c->B,
                 j->c->ldb, j->c->beta, j->C + j->r0 * j->c->ldc, j->c->ldc);
    }
    return NULL;
}

static int test(void) {
    path_t paths[4];
    int npaths = 0;
    paths[npaths++] = (path_t){"portable", MK_ISA_PORTABLE, 0};
    if (mk_isa_supported(MK_ISA_AVX2)) paths[npaths++] = (path_t){"avx2", MK_ISA_AVX2, 0};
    if (mk_isa_supported(MK_ISA_AVX512)) paths[npaths++] = (path_t){"avx512", MK_ISA_AVX512, 0};
#if MK_HAVE_EMU
    if (mk_isa_supported(MK_ISA_AVX2)) paths[npaths++] = (path_t){"avx512-emulated", MK_ISA_AVX2, 1};
#endif
    printf("paths:");
    for (int p = 0; p < npaths; p++) printf(" %s", paths[p].name);
    printf("\n");

    // Shapes: fixed ones (edges of the tiles and blocks, the brief's shapes), then random ones.
    static const ptrdiff_t fixed[][3] = {
        {1, 1, 1}, {3, 5, 7}, {1, 1, 1000}, {1, 300, 1}, {300, 1, 1}, {2, 2, 2}, {6, 16, 4}, {8, 32, 4},
        {7, 17, 5}, {5, 15, 3}, {9, 33, 257}, {6, 16, 256}, {12, 48, 513}, {13, 47, 255}, {64, 64, 64},
        {100, 100, 100}, {145, 200, 300}, {150, 4090, 20}, {7, 4100, 33}, {2100, 7, 300}, {2100, 40, 70},
        {40, 2100, 70}, {520, 49, 600}, {49, 520, 600}, {64, 12544, 576}, {512, 49, 4608}, {197, 2304, 768},
        {2100, 64, 50}, {2050, 64, 20}, {40, 1100, 300}, {300, 1100, 40}, {600, 250, 300}, {1, 1000, 512}, {1000, 1, 512}, {4, 300, 200}, {3, 5000, 20}, {16, 16, 2000}, {33, 65, 129}, {200, 300, 0}, {0, 5, 5}, {5, 0, 5},
    };
    const int nfixed = (int)(sizeof fixed / sizeof fixed[0]);
    const float alphas[] = {1.0f, -0.5f, 2.5f, 0.0f};
    const float betas[] = {0.0f, 1.0f, -1.5f, 0.5f};
    int cases = 0, heavy = 0;
    double t0 = now();
    for (int t = 0; t < nfixed * 2 + 400; t++) {
        ptrdiff_t m, n, k;
        int tA, tB;
        float alpha, beta;
        if (t < nfixed * 2) {
            m = fixed[t / 2][0]; n = fixed[t / 2][1]; k = fixed[t / 2][2];
            tA = (int)(rng() & 1); tB = (int)(rng() & 1);
            alpha = t % 2 ? -0.5f : 1.0f;
            beta = t % 2 ? 0.5f : 0.0f;
        } else {
            int kind = (int)rnd(0, 6);
            if (kind == 0) { m = rnd(1, 8); n = rnd(1, 8); k = rnd(1, 8); }
            else if (kind == 1) { m = rnd(1, 40); n = rnd(1, 40); k = rnd(1, 40); }
            else if (kind == 2) { m = rnd(1, 200); n = rnd(1, 200); k = rnd(1, 600); }
            else if (kind == 3) { m = 6 * rnd(1, 12) + rnd(-1, 1); n = 16 * rnd(1, 8) + rnd(-1, 1); k = rnd(250, 520); }
            else if (kind == 4) { m = rnd(1, 12); n = rnd(100, 3000); k = rnd(1, 300); }
            else if (kind == 5) { m = rnd(100, 3000); n = rnd(1, 12); k = rnd(1, 300); }
            else { m = rnd(140, 600); n = rnd(250, 900); k = rnd(1, 64); }
            if (m < 1) m = 1;
            if (n < 1) n = 1;
            tA = (int)(rng() & 1); tB = (int)(rng() & 1);
            alpha = alphas[rng() % 4 == 0 ? rnd(0, 3) : rnd(0, 2)];
            beta = betas[rnd(0, 3)];
        }
        case_t c;
        make_case(&c, tA, tB, m, n, k, alpha, beta, (int)(rng() % 3 != 0));
        cases++;
        int big = (double)m * n * k > 5e7;
        heavy += big;
        float *first = NULL;  // the first FMA path's result, for AVX2 vs AVX-512 bit equality
        for (int p = 0; p < npaths; p++) {
            const path_t *path = &paths[p];
            select_path(path);
            float *C = run_case(path, &c);
            if (!check_values(path, &c, C)) { free(C); continue; }
            float *again = run_case(path, &c);
            if (!same_bits(C, again, m * c.ldc)) fail(path, &c, "second call differs");
            free(again);
            if (!big) {
                for (int byRows = 0; byRows < 2; byRows++) {
                    float *split = run_split(path, &c, byRows);
                    if (!same_bits(C, split, m * c.ldc)) fail(path, &c, byRows ? "row blocks differ" : "column blocks differ");
                    free(split);
                }
            }
            if (path->isa != MK_ISA_PORTABLE || path->emulated) {
                if (!first) first = C, C = NULL;
                else if (!same_bits(first, C, m * c.ldc)) fail(path, &c, "differs from the other FMA path");
            }
            free(C);
        }
        free(first);
        free_case(&c);
    }
    printf("%d cases (%d large) × %d paths: %s; worst error %.3f of the bound (k+4)·eps·Σ|terms|  [%.1f s]\n",
           cases, heavy, npaths, failures ? "FAILED" : "ok", worst_ratio, now() - t0);

    // Concurrent calls on disjoint row blocks, against one whole call.
    for (int p = 0; p < npaths; p++) {
        const path_t *path = &paths[p];
        select_path(path);
        case_t c;
        make_case(&c, p & 1, 1 - (p & 1), 301, 777, 300, 1.0f, 0.5f, 1);
        float *whole = run_case(path, &c);
        float *C = xmalloc(sizeof(float) * (size_t)(c.m * c.ldc));
        pthread_t th[4];
        job_t jobs[4];
        for (int t = 0; t < 4; t++) {
            jobs[t] = (job_t){path, &c, C, c.m * t / 4, c.m * (t + 1) / 4};
            pthread_create(&th[t], NULL, thread_job, &jobs[t]);
        }
        for (int t = 0; t < 4; t++) pthread_join(th[t], NULL);
        if (!same_bits(whole, C, c.m * c.ldc)) fail(path, &c, "concurrent row blocks differ");
        free(whole); free(C); free_case(&c);
    }
    printf("concurrency (4 threads, disjoint row blocks): %s\n", failures ? "see failures" : "ok");
    printf("%s\n", failures ? "TEST FAILED" : "ALL TESTS PASSED");
    return failures ? 1 : 0;
}

// MARK: bench

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef void (*gemm_fn)(int tA, int tB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                        const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc);

static void ours(int tA, int tB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda, const float *B,
                 ptrdiff_t ldb, float *C, ptrdiff_t ldc) {
    mk_sgemm(tA, tB, m, n, k, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
}
#ifdef MK_HARNESS_OPENBLAS
static void openblas(int tA, int tB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                     const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc) {
    cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                1.0f, A, (int)lda, B, (int)ldb, 0.0f, C, (int)ldc);
}
#endif

// One sample: enough calls to take ≥ 20 ms. Returns GFLOP/s.
static double sample(gemm_fn f, int tA, int tB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                     const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc, int calls) {
    double t = cpu_now();
    for (int i = 0; i < calls; i++) f(tA, tB, m, n, k, A, lda, B, ldb, C, ldc);
    t = cpu_now() - t;
    return 2.0 * m * n * k * calls / t * 1e-9;
}

static int bench(const char *pathName) {
    if (pathName) {
        int isa = strcmp(pathName, "avx512") == 0 ? MK_ISA_AVX512 : strcmp(pathName, "avx2") == 0 ? MK_ISA_AVX2 : MK_ISA_PORTABLE;
        if (mk_isa_select(isa) != 0) { fprintf(stderr, "path %s not supported here\n", pathName); return 2; }
    }
    const char *core = "-";
#ifdef MK_HARNESS_OPENBLAS
    openblas_set_num_threads(1);
    core = openblas_get_corename();
#endif
    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    printf("ours: %s path | OpenBLAS core %s (OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s), 1 thread, thread CPU time, median of 5\n",
           mk_isa_name(mk_isa_active()), core, ct ? ct : "(unset)", l2 ? l2 : "(unset)");
    printf("%-26s %10s %10s %7s\n", "shape (tA tB m n k)", "ours", "OpenBLAS", "ratio");
    const char *only = getenv("MK_BENCH_ONLY");  // letters a, b, c … pick rows of the table
    static const ptrdiff_t shapes[][5] = {
        {0, 0, 256, 256, 256}, {0, 0, 512, 512, 512}, {0, 0, 1024, 1024, 1024}, {0, 0, 2048, 2048, 2048},
        {1, 0, 1024, 1024, 1024}, {0, 1, 1024, 1024, 1024}, {1, 1, 1024, 1024, 1024},
        {0, 0, 64, 12544, 576}, {0, 0, 512, 49, 4608}, {0, 0, 197, 2304, 768},
        {0, 1, 197, 2304, 768}, {1, 0, 576, 64, 12544}, {0, 1, 64, 576, 12544},
        {0, 0, 12544, 64, 576}, {0, 1, 12544, 576, 64}, {1, 0, 4608, 512, 49}, {0, 0, 49, 512, 4608},
        {0, 0, 32, 32, 32}, {0, 0, 3, 5, 7}, {0, 0, 1, 1, 1},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int tA = (int)shapes[s][0], tB = (int)shapes[s][1];
        ptrdiff_t m = shapes[s][2], n = shapes[s][3], k = shapes[s][4];
        ptrdiff_t lda = tA ? m : k, ldb = tB ? k : n, ldc = n;
        float *A = xmalloc(sizeof(float) * (size_t)(m * k)), *B = xmalloc(sizeof(float) * (size_t)(k * n));
        float *C = xmalloc(sizeof(float) * (size_t)(m * n));
        for (ptrdiff_t i = 0; i < m * k; i++) A[i] = rndf();
        for (ptrdiff_t i = 0; i < k * n; i++) B[i] = rndf();
        double flop = 2.0 * m * n * k;
        int calls = flop >= 4e7 ? 1 : (int)(4e7 / flop);
        if (only && !strstr(only, (char[]){(char)('a' + s), 0})) { free(A); free(B); free(C); continue; }
        double gOurs[5], gBlas[5] = {0}, ratio[5] = {0};
        ours(tA, tB, m, n, k, A, lda, B, ldb, C, ldc);  // warm-up
#ifdef MK_HARNESS_OPENBLAS
        openblas(tA, tB, m, n, k, A, lda, B, ldb, C, ldc);
#endif
        for (int r = 0; r < 5; r++) {
            gOurs[r] = sample(ours, tA, tB, m, n, k, A, lda, B, ldb, C, ldc, calls);
#ifdef MK_HARNESS_OPENBLAS
            gBlas[r] = sample(openblas, tA, tB, m, n, k, A, lda, B, ldb, C, ldc, calls);
#endif
            ratio[r] = gBlas[r] > 0 ? gOurs[r] / gBlas[r] : 0.0;
        }
        qsort(ratio, 5, sizeof(double), cmp_double);
        qsort(gOurs, 5, sizeof(double), cmp_double);
        qsort(gBlas, 5, sizeof(double), cmp_double);
        char name[64];
        snprintf(name, sizeof name, "%s%s %td×%td×%td", tA ? "T" : "N", tB ? "T" : "N", m, n, k);
        printf("%-26s %10.1f %10.1f %7.2f\n", name, gOurs[2], gBlas[2], ratio[2]);
        fflush(stdout);
        free(A); free(B); free(C);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "test") == 0) return test();
    if (argc >= 2 && strcmp(argv[1], "bench") == 0) return bench(argc >= 3 ? argv[2] : NULL);
    fprintf(stderr, "usage: %s test | bench [portable|avx2|avx512]\n", argv[0]);
    return 2;
}
