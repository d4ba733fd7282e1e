// Template for one instruction-set path of the Winograd F(2×2, 3×3) convolution (mk_winograd_* in
// CMedKernels.h; Lavin & Gray 2015). winograd_paths.c includes it once per path, right after the path's
// SGEMM micro-kernel, with MK_SUFFIX, MK_TARGET, MK_UKERNEL, MK_MR and MK_NR defined.
//
// A 3×3 stride-1 convolution computes each 2×2 tile of an output plane from the 4×4 patch d of each input
// plane under it: y = Aᵀ [Σ over channels of (G g Gᵀ) ⊙ (Bᵀ d B)] A, 16 multiplies per channel and tile
// instead of 36. With U[ξ] = (G g Gᵀ)[ξ] for every (output, input) channel pair and V[ξ] = (Bᵀ d B)[ξ] for
// every (input channel, tile), the sums are 16 independent GEMMs M[ξ] = U[ξ]·V[ξ] (out_channels ×
// channels times channels × tiles), run on the path's SGEMM micro-kernel from operands that the
// transforms write directly in its packed layouts:
//   U[ξ]   out_channels rounded up to MR (the extra rows zero), as panels of MR rows × all channels,
//          [ξ][panel][channel][MR] (what mk_conv_pack gives for a plain weight), made once per op;
//   V[ξ]   a block of tiles as panels of NR tiles × all channels, [ξ][panel][channel][NR];
//   M[ξ]   [ξ][panel][out_channel (rounded up to MR)][NR], each micro-kernel call writing an MR×NR tile.
// The tiles of all images are numbered t = image·tiles_h·tiles_w + row·tiles_w + column and processed in
// blocks of a few dozen, so that the block's V and M stay in L2 next to U: the input transform of the
// block, the 16 GEMMs, then the output transform straight into y.
//
// Both tile transforms work on eight consecutive tiles at a time, one per vector lane. For the input
// transform each channel's rows under the block are first copied into a zero-padded scratch buffer, split
// into even and odd columns, so that the four columns of a patch are four plain vector loads (even k,
// odd k, even k + 1, odd k + 1) with no bounds tests; eight tiles that span two tile rows (or images) are
// gathered as "runs" of lanes from one tile row each and blended. The output transform writes whole tile
// rows (the two output rows of eight tiles, interleaved) and falls back to a copy per run at the edges.
//
// Numerics: the transforms only add, subtract and halve, in a fixed order; the GEMMs sum over channels
// in mk_gemm_kc(channels) blocks exactly as mk_sgemm does. Every output element's arithmetic therefore
// depends only on the shape, not on the block, the lane it fell in, or the split of tiles across calls,
// and the AVX2 and AVX-512 paths agree bit for bit. The result differs from the direct sum by rounding
// (the transformed terms partly cancel in the output transform), well within 1e-5 of the output's scale.
#include "CMedKernels.h"
#include "internal.h"
#include "gemm_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#pragma STDC FP_CONTRACT OFF

#ifndef MK_WINO_SHARED
#define MK_WINO_SHARED
// Eight lanes, one per tile (macros, not functions: a function taking this type would need the path's
// target attribute).
typedef float mk_wino_vec __attribute__((vector_size(32)));
typedef int32_t mk_wino_mask __attribute__((vector_size(32)));
typedef float mk_wino_unaligned __attribute__((vector_size(32), aligned(4), may_alias));
#define mk_wino_load(p) (*(const mk_wino_unaligned *)(p))
#define mk_wino_store(p, v) (*(mk_wino_unaligned *)(p) = (v))
// Floats of V and M per block (512 KB, Zen 2/3's L2: each GEMM touches one ξ's sixteenth of them, the
// transforms a few channels' worth at a time).
#define MK_WINO_BLOCK_BUDGET 131072
// The most floats of V and M per block (8 MB) when the weight asks for more.
#define MK_WINO_BLOCK_LIMIT 2097152
// Floats between the blocks of consecutive ξ in V and M beyond their size: without it they are a multiple
// of 4 KB apart, and the transforms' 16 accesses (one per ξ) would all fall in one L1 set.
#define MK_WINO_SKEW 16
// Zeros kept before and after the padded rows: a run's vector loads may start up to 7 lanes before
// its first tile and end 8 floats after its last.
#define MK_WINO_SLACK 16

// Lanes [lane0, lane1) of a group of eight tiles that lie in one tile row: tile (row, column0 + l −
// lane0) in lane l.
typedef struct {
    int32_t lane0, lane1;
    ptrdiff_t in;         // the padded buffer's offset of the even column column0 in the tile row's first row
    ptrdiff_t out;        // y's offset (output channel 0) of the first tile's top-left element
    int32_t out_cols;     // output columns the run covers: 2·(lane1 − lane0), less at the right edge
    int32_t out_rows;     // 2, or 1 on the last tile row of an odd output height
    int32_t column0;      // the first tile's column
} mk_wino_run;

// A group of eight tiles: runs [first, first + count); whole when it is one run of eight full tiles.
typedef struct {
    int32_t first, count, whole;
} mk_wino_group;

// Input rows [ih0, ih0 + rows) of one image (rows outside the plane read as zeros), copied for one channel
// to buffer offset `at`, each row as its even and odd padded columns.
typedef struct {
    ptrdiff_t image, ih0, rows, at;
} mk_wino_section;

// What the transforms of one block of tiles need, whatever the channel.
typedef struct {
    ptrdiff_t half;           // floats of one column phase of a padded row: tiles_w + 1
    ptrdiff_t row_stride;     // floats of one padded row: both phases
    ptrdiff_t buffer_floats;  // of the padded buffer, slack included
    ptrdiff_t sections, groups;
    mk_wino_section *section;
    mk_wino_group *group;
    mk_wino_run *run;
} mk_wino_plan;

static inline ptrdiff_t mk_wino_tiles_h(const mk_conv_shape *s) { return (s->out_height + 1) / 2; }
static inline ptrdiff_t mk_wino_tiles_w(const mk_conv_shape *s) { return (s->out_width + 1) / 2; }

// Tiles per block: as many panels of NR tiles as keep the block's V and M (16·(channels + out rows) floats
// per tile) within MK_WINO_BLOCK_BUDGET; but with many channels, enough that V[ξ] and M[ξ] together are
// at least half of U[ξ], which each block streams through once (so that reading U does not dominate), as
// far as MK_WINO_BLOCK_LIMIT allows.
static inline ptrdiff_t mk_wino_block_tiles(const mk_conv_shape *s, ptrdiff_t mr, ptrdiff_t nr) {
    const ptrdiff_t rows = MK_ROUND_UP(s->out_channels, mr), per_tile = 16 * (s->channels + rows);
    const ptrdiff_t by_budget = MK_WINO_BLOCK_BUDGET / (per_tile * nr);
    const ptrdiff_t by_weight = (rows * s->channels / (2 * (s->channels + rows)) + nr - 1) / nr;
    const ptrdiff_t limit = MK_WINO_BLOCK_LIMIT / (per_tile * nr);
    return MK_MAX((ptrdiff_t)1, MK_MAX(by_budget, MK_MIN(by_weight, limit))) * nr;
}

// Floats from one ξ to the next in the transformed weight: a packed operand of `rows` × `channels`, and
// MK_WINO_SKEW more.
static inline ptrdiff_t mk_wino_weight_stride(ptrdiff_t rows, ptrdiff_t channels) {
    return rows * channels + MK_WINO_SKEW;
}

// Upper bounds of a block plan's arrays for blocks of `tiles` tiles.
static inline ptrdiff_t mk_wino_max_tile_rows(const mk_conv_shape *s, ptrdiff_t tiles) {
    return (tiles - 1) / mk_wino_tiles_w(s) + 2;
}

// The padded rows tiles [t0, t1) read: one section per image the block touches, from the block's first
// tile row in that image; tile row r reads padded rows 2r … 2r + 3, the next one starting two rows down.
static void mk_wino_plan_sections(const mk_conv_shape *s, ptrdiff_t t0, ptrdiff_t t1, mk_wino_plan *plan) {
    const ptrdiff_t th = mk_wino_tiles_h(s), tw = mk_wino_tiles_w(s);
    plan->half = tw + 1;
    plan->row_stride = 2 * plan->half;
    ptrdiff_t at = MK_WINO_SLACK, sections = 0;
    for (ptrdiff_t gr = t0 / tw; gr <= (t1 - 1) / tw; gr++) {
        const ptrdiff_t image = gr / th, row = gr - image * th;
        const ptrdiff_t rows = gr == t0 / tw || row == 0 ? 4 : 2;
        if (rows == 4) plan->section[sections++] = (mk_wino_section){image, 2 * row - s->pad_h, 0, at};
        plan->section[sections - 1].rows += rows;
        at += rows * plan->row_stride;
    }
    plan->sections = sections;
    plan->buffer_floats = at + MK_WINO_SLACK;
}

// Where tile t (lane `lane` of its group) reads and writes, as a run of one tile.
static mk_wino_run mk_wino_tile_run(const mk_conv_shape *s, const mk_wino_plan *plan, ptrdiff_t t, int32_t lane) {
    const ptrdiff_t th = mk_wino_tiles_h(s), tw = mk_wino_tiles_w(s);
    const ptrdiff_t gr = t / tw, column = t - gr * tw, image = gr / th, row = gr - image * th;
    const mk_wino_section *in = plan->section;
    while (in->image != image) in++;
    mk_wino_run run;
    run.lane0 = lane;
    run.lane1 = lane + 1;
    run.column0 = (int32_t)column;
    run.in = in->at + (2 * row - s->pad_h - in->ih0) * plan->row_stride + column;
    run.out = image * s->out_image_stride + 2 * row * s->out_width + 2 * column;
    run.out_rows = (int32_t)MK_MIN((ptrdiff_t)2, s->out_height - 2 * row);
    return run;
}

// Plans tiles [t0, t1) (no more than the block size the plan's arrays were sized for).
static void mk_wino_plan_block(const mk_conv_shape *s, ptrdiff_t t0, ptrdiff_t t1, mk_wino_plan *plan) {
    const ptrdiff_t tw = mk_wino_tiles_w(s);
    mk_wino_plan_sections(s, t0, t1, plan);
    plan->groups = (t1 - t0 + 7) / 8;
    int32_t runs = 0;
    for (ptrdiff_t g = 0; g < plan->groups; g++) {
        mk_wino_group *group = plan->group + g;
        group->first = runs;
        for (ptrdiff_t t = t0 + 8 * g; t < MK_MIN(t1, t0 + 8 * g + 8); t++) {
            const int32_t lane = (int32_t)(t - t0 - 8 * g);
            if (lane > 0 && t % tw > 0)  // the same tile row as the previous lane
                plan->run[runs - 1].lane1 = lane + 1;
            else
                plan->run[runs++] = mk_wino_tile_run(s, plan, t, lane);
        }
        group->count = runs - group->first;
        for (mk_wino_run *run = plan->run + group->first; run < plan->run + runs; run++)
            run->out_cols = (int32_t)MK_MIN(2 * (ptrdiff_t)(run->lane1 - run->lane0), s->out_width - 2 * run->column0);
        const mk_wino_run *only = plan->run + group->first;
        group->whole = group->count == 1 && only->lane1 == 8 && only->out_cols == 16 && only->out_rows == 2;
    }
}
#endif

// Floats from one ξ to the next in V (depth = channels) or M (depth = out rows) for a block of `panels`.
static inline ptrdiff_t MK_FN(mk_wino_xi_stride)(ptrdiff_t panels, ptrdiff_t depth) {
    return panels * depth * MK_NR + MK_WINO_SKEW;
}

// MARK: weight transform

// The weight transform works on one panel's MR output channels at a time, one per lane.
#if MK_MR > 8
#error "winograd_body.h: the weight transform needs MR ≤ 8"
#endif

// The 3×3 kernels of output channels panel·MR + r (lane r; zero past m) and input channel c, tap by tap.
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_wino_gather_kernels)(int flipped, ptrdiff_t m, ptrdiff_t k, const float *w, ptrdiff_t panel, ptrdiff_t c,
                              mk_wino_vec g[9]) {
    // Forward: g(o, c) = w[o, c]; input gradient: w[c, o] rotated by 180°.
    const ptrdiff_t o_step = flipped ? 9 : k * 9;
    const float *src = w + panel * MK_MR * o_step + c * (flipped ? m * 9 : 9);
    const ptrdiff_t valid = MK_MIN((ptrdiff_t)MK_MR, m - panel * MK_MR);
    for (int i = 0; i < 9; i++) g[i] = (mk_wino_vec){0};
    for (ptrdiff_t r = 0; r < valid; r++)
        for (int i = 0; i < 9; i++) g[i][r] = src[r * o_step + (flipped ? 8 - i : i)];
}

MK_TARGET void MK_FN(mk_winograd_weight)(int flipped, ptrdiff_t m, ptrdiff_t k, const float *w, ptrdiff_t panel0,
                                         ptrdiff_t panel1, float *u) {
    const ptrdiff_t stride = mk_wino_weight_stride(MK_ROUND_UP(m, MK_MR), k);
    const mk_wino_vec half = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    for (ptrdiff_t panel = panel0; panel < panel1; panel++) {
        for (ptrdiff_t c = 0; c < k; c++) {
            mk_wino_vec g[9], t[4][3], v[16];
            MK_FN(mk_wino_gather_kernels)(flipped, m, k, w, panel, c, g);
            // G g Gᵀ, G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]: down the columns, then along the rows.
            for (int j = 0; j < 3; j++) {
                t[0][j] = g[j];
                t[1][j] = (g[j] + g[3 + j] + g[6 + j]) * half;
                t[2][j] = (g[j] - g[3 + j] + g[6 + j]) * half;
                t[3][j] = g[6 + j];
            }
            for (int i = 0; i < 4; i++) {
                v[4 * i + 0] = t[i][0];
                v[4 * i + 1] = (t[i][0] + t[i][1] + t[i][2]) * half;
                v[4 * i + 2] = (t[i][0] - t[i][1] + t[i][2]) * half;
                v[4 * i + 3] = t[i][2];
            }
            // Row r of step c of the panel: lanes past MR spill onto the next channel's rows, which its own
            // stores then overwrite; the panel's last channel is stored lane by lane.
            float *dst = u + panel * MK_MR * k + c * MK_MR;
            for (int xi = 0; xi < 16; xi++) {
                if (c + 1 < k || MK_MR == 8)
                    mk_wino_store(dst + xi * stride, v[xi]);
                else
                    for (int r = 0; r < MK_MR; r++) dst[xi * stride + r] = v[xi][r];
            }
        }
    }
}

// MARK: input transform

// One padded row, as its two column phases: even[j] = row[2j − pad_w], odd[j] = row[2j + 1 − pad_w] for
// j < half (zero outside the row, and everywhere when row is NULL).
static MK_TARGET void MK_FN(mk_wino_split_row)(const float *row, ptrdiff_t width, ptrdiff_t pad, ptrdiff_t half,
                                               float *restrict even, float *restrict odd) {
    if (!row) {
        memset(even, 0, (size_t)half * sizeof(float));
        memset(odd, 0, (size_t)half * sizeof(float));
        return;
    }
#define MK_WINO_AT(iw) ((iw) >= 0 && (iw) < width ? row[(iw)] : 0.0f)
    ptrdiff_t j = 0;
    for (; j < half && 2 * j - pad < 0; j++) {
        even[j] = MK_WINO_AT(2 * j - pad);
        odd[j] = MK_WINO_AT(2 * j + 1 - pad);
    }
    for (; j + 8 <= half && 2 * j - pad + 16 <= width; j += 8) {
        const mk_wino_vec lo = mk_wino_load(row + 2 * j - pad), hi = mk_wino_load(row + 2 * j - pad + 8);
        mk_wino_store(even + j, __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14));
        mk_wino_store(odd + j, __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15));
    }
    for (; j < half; j++) {
        even[j] = MK_WINO_AT(2 * j - pad);
        odd[j] = MK_WINO_AT(2 * j + 1 - pad);
    }
#undef MK_WINO_AT
}

// The block's rows of one input channel plane (channel 0 of image 0 at x) into the padded buffer.
static MK_TARGET void MK_FN(mk_wino_pad_channel)(const mk_conv_shape *s, const mk_wino_plan *plan, const float *x,
                                                 float *buffer) {
    for (ptrdiff_t i = 0; i < plan->sections; i++) {
        const mk_wino_section *sec = plan->section + i;
        const float *plane = x + sec->image * s->in_image_stride;
        for (ptrdiff_t r = 0; r < sec->rows; r++) {
            const ptrdiff_t ih = sec->ih0 + r;
            float *even = buffer + sec->at + r * plan->row_stride;
            MK_FN(mk_wino_split_row)(ih >= 0 && ih < s->height ? plane + ih * s->width : NULL, s->width, s->pad_w,
                                     plan->half, even, even + plan->half);
        }
    }
}

// Bᵀ d B for the eight tiles of `group` from the padded buffer, stored to v[ξ·stride].
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_wino_input_tiles)(const mk_wino_plan *plan, const mk_wino_group *group, const float *buffer, float *v,
                           ptrdiff_t stride) {
    const ptrdiff_t half = plan->half, rs = plan->row_stride;
    mk_wino_vec d[4][4];
    for (int32_t r = group->first; r < group->first + group->count; r++) {
        const mk_wino_run *run = plan->run + r;
        // Lane l reads the patch of tile column column0 + l − lane0: its columns are even and odd
        // phase entries j and j + 1.
        const float *p = buffer + run->in - run->lane0;
        mk_wino_vec e[4][4];
        for (int i = 0; i < 4; i++) {
            e[i][0] = mk_wino_load(p + i * rs);
            e[i][1] = mk_wino_load(p + i * rs + half);
            e[i][2] = mk_wino_load(p + i * rs + 1);
            e[i][3] = mk_wino_load(p + i * rs + half + 1);
        }
        if (r == group->first) {
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) d[i][j] = e[i][j];
        } else {  // lanes from lane0 on come from this run
            const mk_wino_mask lanes = {0, 1, 2, 3, 4, 5, 6, 7};
            const mk_wino_mask take = lanes >= run->lane0;
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    d[i][j] = (mk_wino_vec)(((mk_wino_mask)e[i][j] & take) | ((mk_wino_mask)d[i][j] & ~take));
        }
    }
    // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]: down the columns, then along the rows.
    mk_wino_vec t[4][4];
    for (int j = 0; j < 4; j++) {
        t[0][j] = d[0][j] - d[2][j];
        t[1][j] = d[1][j] + d[2][j];
        t[2][j] = d[2][j] - d[1][j];
        t[3][j] = d[1][j] - d[3][j];
    }
    for (int i = 0; i < 4; i++) {
        mk_wino_store(v + (4 * i + 0) * stride, t[i][0] - t[i][2]);
        mk_wino_store(v + (4 * i + 1) * stride, t[i][1] + t[i][2]);
        mk_wino_store(v + (4 * i + 2) * stride, t[i][2] - t[i][1]);
        mk_wino_store(v + (4 * i + 3) * stride, t[i][1] - t[i][3]);
    }
}

// V of the block (panels of NR tiles): every channel padded, then transformed eight tiles at a time.
// Lanes past the block's last tile are zero.
static MK_TARGET void MK_FN(mk_wino_input_block)(const mk_conv_shape *s, const mk_wino_plan *plan, const float *x,
                                                 float *buffer, float *V, ptrdiff_t panels) {
    const ptrdiff_t C = s->channels, plane = s->height * s->width, xi_stride = MK_FN(mk_wino_xi_stride)(panels, C);
    const ptrdiff_t lane_groups = panels * MK_NR / 8;
    memset(buffer, 0, (size_t)plan->buffer_floats * sizeof(float));  // for the slack, which loads may touch
    for (ptrdiff_t c = 0; c < C; c++) {
        MK_FN(mk_wino_pad_channel)(s, plan, x + c * plane, buffer);
        for (ptrdiff_t g = 0; g < lane_groups; g++) {
            float *v = V + ((8 * g) / MK_NR * C + c) * MK_NR + (8 * g) % MK_NR;
            if (g < plan->groups) {
                MK_FN(mk_wino_input_tiles)(plan, plan->group + g, buffer, v, xi_stride);
            } else {
                for (int xi = 0; xi < 16; xi++) mk_wino_store(v + xi * xi_stride, (mk_wino_vec){0});
            }
        }
    }
}

// MARK: output transform

// Aᵀ m A (+ bias) of output channel plane `y` for the eight tiles of `group`, m[ξ] at M[ξ·stride].
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_wino_output_tiles)(const mk_conv_shape *s, const mk_wino_plan *plan, const mk_wino_group *group,
                            const float *M, ptrdiff_t stride, float bias, float *y) {
    mk_wino_vec m[4][4], t[2][4];
    for (int xi = 0; xi < 16; xi++) m[xi / 4][xi % 4] = mk_wino_load(M + xi * stride);
    // Aᵀ = [1 1 1 0; 0 1 −1 −1]: down the columns, then along the rows.
    for (int j = 0; j < 4; j++) {
        t[0][j] = m[0][j] + m[1][j] + m[2][j];
        t[1][j] = m[1][j] - m[2][j] - m[3][j];
    }
    const mk_wino_vec b = {bias, bias, bias, bias, bias, bias, bias, bias};
    mk_wino_vec out[2][2];
    for (int i = 0; i < 2; i++) {
        out[i][0] = (t[i][0] + t[i][1] + t[i][2]) + b;
        out[i][1] = (t[i][1] - t[i][2] - t[i][3]) + b;
    }
    // Each output row of the eight tiles: their two columns interleaved.
    mk_wino_vec rows[2][2];
    for (int i = 0; i < 2; i++) {
        rows[i][0] = __builtin_shufflevector(out[i][0], out[i][1], 0, 8, 1, 9, 2, 10, 3, 11);
        rows[i][1] = __builtin_shufflevector(out[i][0], out[i][1], 4, 12, 5, 13, 6, 14, 7, 15);
    }
    if (group->whole) {
        const mk_wino_run *run = plan->run + group->first;
        for (int i = 0; i < 2; i++) {
            mk_wino_store(y + run->out + i * s->out_width, rows[i][0]);
            mk_wino_store(y + run->out + i * s->out_width + 8, rows[i][1]);
        }
        return;
    }
    float staged[2][16];
    for (int i = 0; i < 2; i++) {
        mk_wino_store(staged[i], rows[i][0]);
        mk_wino_store(staged[i] + 8, rows[i][1]);
    }
    for (int32_t r = group->first; r < group->first + group->count; r++) {
        const mk_wino_run *run = plan->run + r;
        for (int i = 0; i < run->out_rows; i++) {
            float *dst = y + run->out + i * s->out_width;
            for (int32_t j = 0; j < run->out_cols; j++) dst[j] = staged[i][2 * run->lane0 + j];
        }
    }
}

// y for the block's tiles, every output channel, from M.
static MK_TARGET void MK_FN(mk_wino_output_block)(const mk_conv_shape *s, const mk_wino_plan *plan, const float *M,
                                                  ptrdiff_t panels, ptrdiff_t rows, const float *bias, float *y) {
    const ptrdiff_t out_plane = s->out_height * s->out_width, xi_stride = MK_FN(mk_wino_xi_stride)(panels, rows);
    for (ptrdiff_t o = 0; o < s->out_channels; o++) {
        const float b = bias ? bias[o] : 0.0f;
        for (ptrdiff_t g = 0; g < plan->groups; g++) {
            const float *m = M + ((8 * g) / MK_NR * rows + o) * MK_NR + (8 * g) % MK_NR;
            MK_FN(mk_wino_output_tiles)(s, plan, plan->group + g, m, xi_stride, b, y + o * out_plane);
        }
    }
}

// MARK: the 16 GEMMs

// M[ξ] = U[ξ]·V[ξ] for the block, A panel by A panel (each stays in L1 while the block's B panels stream
// past from L2, so that U is read once per block however large it is).
static MK_TARGET void MK_FN(mk_wino_multiply)(const mk_conv_shape *s, const float *u, const float *V, float *M,
                                              ptrdiff_t panels, ptrdiff_t rows) {
    const ptrdiff_t C = s->channels, kc = mk_gemm_kc(C);
    const ptrdiff_t v_stride = MK_FN(mk_wino_xi_stride)(panels, C), m_stride = MK_FN(mk_wino_xi_stride)(panels, rows);
    for (int xi = 0; xi < 16; xi++) {
        const float *a = u + xi * mk_wino_weight_stride(rows, C);
        for (ptrdiff_t i = 0; i < rows; i += MK_MR)
            for (ptrdiff_t p = 0; p < panels; p++)
                for (ptrdiff_t pc = 0; pc < C; pc += kc)
                    MK_UKERNEL(MK_MIN(kc, C - pc), a + i * C + pc * MK_MR, V + xi * v_stride + (p * C + pc) * MK_NR,
                               M + xi * m_stride + (p * rows + i) * MK_NR, MK_NR, 1.0f, pc == 0 ? 0.0f : 1.0f);
    }
}

// MARK: entry point

MK_TARGET void MK_FN(mk_winograd_forward)(const mk_conv_shape *s, const float *u, const float *bias, const float *x,
                                          float *y, ptrdiff_t t0, ptrdiff_t t1) {
    t0 = MK_MAX(t0, (ptrdiff_t)0);
    t1 = MK_MIN(t1, s->batch * mk_wino_tiles_h(s) * mk_wino_tiles_w(s));
    if (t1 <= t0 || s->out_channels <= 0) return;
    const ptrdiff_t block = mk_wino_block_tiles(s, MK_MR, MK_NR);
    const ptrdiff_t rows = MK_ROUND_UP(s->out_channels, MK_MR), tile_rows = mk_wino_max_tile_rows(s, block);
    // Workspace: V, M, the padded buffer of one channel (at most four padded rows per tile row), the plan.
    const ptrdiff_t panels = block / MK_NR;
    const size_t v_bytes = MK_ROUND_UP((size_t)16 * MK_FN(mk_wino_xi_stride)(panels, s->channels) * sizeof(float), 64);
    const size_t m_bytes = MK_ROUND_UP((size_t)16 * MK_FN(mk_wino_xi_stride)(panels, rows) * sizeof(float), 64);
    const size_t buffer_bytes =
        MK_ROUND_UP(((size_t)4 * tile_rows * 2 * (mk_wino_tiles_w(s) + 1) + 2 * MK_WINO_SLACK) * sizeof(float), 64);
    const size_t section_bytes = MK_ROUND_UP((size_t)tile_rows * sizeof(mk_wino_section), 64);
    const size_t group_bytes = MK_ROUND_UP((size_t)(block / 8 + 1) * sizeof(mk_wino_group), 64);
    const size_t run_bytes = MK_ROUND_UP((size_t)block * sizeof(mk_wino_run), 64);
    char *work = (char *)mk_gemm_workspace(v_bytes + m_bytes + buffer_bytes + section_bytes + group_bytes + run_bytes);
    if (!work) abort();
    float *V = (float *)work, *M = (float *)(work + v_bytes), *buffer = (float *)(work + v_bytes + m_bytes);
    mk_wino_plan plan;
    plan.section = (mk_wino_section *)(work + v_bytes + m_bytes + buffer_bytes);
    plan.group = (mk_wino_group *)(work + v_bytes + m_bytes + buffer_bytes + section_bytes);
    plan.run = (mk_wino_run *)(work + v_bytes + m_bytes + buffer_bytes + section_bytes + group_bytes);
    for (ptrdiff_t b0 = t0; b0 < t1; b0 += block) {
        const ptrdiff_t b1 = MK_MIN(t1, b0 + block), used = (b1 - b0 + MK_NR - 1) / MK_NR;
        mk_wino_plan_block(s, b0, b1, &plan);
        MK_FN(mk_wino_input_block)(s, &plan, x, buffer, V, used);
        MK_FN(mk_wino_multiply)(s, u, V, M, used, rows);
        MK_FN(mk_wino_output_block)(s, &plan, M, used, rows, bias, y);
    }
}
