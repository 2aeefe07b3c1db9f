// Scaled dot-product attention in bf16 for x86 CPUs with AVX-512 BF16 and no AMX (core/generation/cpu_attention.py).
//
// out = softmax(scale * Q K^T) V per batch row and head; Q, K, V and out are [B, L, H, D] contiguous (what the
// attention's linear projections give, so no transposes are needed), bf16, D a multiple of 16 up to 128, Lk a
// multiple of 64. Products accumulate in fp32 with vdpbf16ps; the softmax runs in fp32 on a whole row of keys (a
// query block's scores fit in L2, so no online rescaling); the probabilities are rounded to bf16 before P V, as
// torch's own CPU flash kernel does. Work is split over the batch x heads (and query blocks when there are few)
// between `threads` OpenMP threads: the caller (ctypes) has released the interpreter.
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <algorithm>
#include <vector>

namespace {

constexpr int QB = 64;  // query rows per block

inline __m512 exp512(__m512 x) {  // e^x for x <= 0: 2^(x log2 e), degree-6 polynomial for the fraction
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
    __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, n);
    __m512 p = _mm512_set1_ps(1.535336188319500e-4f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.339887440266574e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

inline __m512 bf16_to_fp32(__m256i v) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16)); }

struct Problem {
    const uint16_t *q, *k, *v;
    uint16_t* out;
    int B, H, Lq, Lk, D;
    float scale;
    size_t q_row, kv_row;  // elements between consecutive rows: H * D
};

// K as [dim pair][key] (one 32-bit pair of dims per key), V as [key pair][dim] (a pair of keys per dim).
void pack(const Problem& p, int b, int h, uint32_t* kp, uint32_t* vp) {
    const int DP = p.D / 2;
    const uint16_t* K = p.k + ((size_t)b * p.Lk * p.H + h) * p.D;
    const uint16_t* V = p.v + ((size_t)b * p.Lk * p.H + h) * p.D;
    for (int j = 0; j < p.Lk; j++) {
        const uint32_t* row = (const uint32_t*)(K + j * p.kv_row);
        for (int dp = 0; dp < DP; dp++) kp[(size_t)dp * p.Lk + j] = row[dp];
    }
    for (int jp = 0; jp < p.Lk / 2; jp++) {
        const uint16_t* r0 = V + (2 * jp) * p.kv_row;
        const uint16_t* r1 = r0 + p.kv_row;
        for (int d = 0; d < p.D; d++) vp[(size_t)jp * p.D + d] = (uint32_t)r0[d] | ((uint32_t)r1[d] << 16);
    }
}

template <int NC>  // D = 16 * NC
void block(const Problem& p, const uint16_t* Q, uint16_t* O, int rows, const uint32_t* kp, const uint32_t* vp,
           float* S, uint16_t* P) {
    const int D = 16 * NC, DP = D / 2, Lk = p.Lk;
    // S = scale * Q K^T, 4 query rows x 64 keys per tile
    for (int i0 = 0; i0 < rows; i0 += 4) {
        const int R = std::min(4, rows - i0);
        for (int j0 = 0; j0 < Lk; j0 += 64) {
            __m512 acc[4][4];
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
            for (int dp = 0; dp < DP; dp++) {
                __m512bh kv[4];
                for (int c = 0; c < 4; c++) kv[c] = (__m512bh)_mm512_loadu_si512(kp + (size_t)dp * Lk + j0 + 16 * c);
                for (int r = 0; r < 4; r++) {
                    if (r >= R) break;
                    const uint32_t pair = ((const uint32_t*)(Q + (i0 + r) * p.q_row))[dp];
                    __m512bh qb = (__m512bh)_mm512_set1_epi32((int)pair);
                    for (int c = 0; c < 4; c++) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], qb, kv[c]);
                }
            }
            for (int r = 0; r < R; r++)
                for (int c = 0; c < 4; c++)
                    _mm512_storeu_ps(S + (size_t)(i0 + r) * Lk + j0 + 16 * c,
                                     _mm512_mul_ps(acc[r][c], _mm512_set1_ps(p.scale)));
        }
    }
    // Softmax per row: P = exp(S - max) in bf16; the sum is of the rounded values P V uses.
    float inv[QB];
    for (int i = 0; i < rows; i++) {
        const float* s = S + (size_t)i * Lk;
        __m512 m = _mm512_set1_ps(-INFINITY);
        for (int j = 0; j < Lk; j += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(s + j));
        const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(m));
        __m512 sum = _mm512_setzero_ps();
        for (int j = 0; j < Lk; j += 32) {
            __m512 e0 = exp512(_mm512_sub_ps(_mm512_loadu_ps(s + j), mx));
            __m512 e1 = exp512(_mm512_sub_ps(_mm512_loadu_ps(s + j + 16), mx));
            __m512i pb = (__m512i)_mm512_cvtne2ps_pbh(e1, e0);
            sum = _mm512_add_ps(sum, _mm512_add_ps(bf16_to_fp32(_mm512_castsi512_si256(pb)),
                                                   bf16_to_fp32(_mm512_extracti64x4_epi64(pb, 1))));
            _mm512_storeu_si512(P + (size_t)i * Lk + j, pb);
        }
        inv[i] = 1.0f / _mm512_reduce_add_ps(sum);
    }
    // O = P V over key pairs, PR query rows x NC vectors of 16 dims per tile
    constexpr int PR = NC <= 2 ? 8 : (NC <= 4 ? 5 : 4);
    const uint32_t* P32 = (const uint32_t*)P;
    const int KP = Lk / 2;
    for (int i0 = 0; i0 < rows; i0 += PR) {
        const int R = std::min(PR, rows - i0);
        __m512 acc[PR][NC];
        for (int r = 0; r < PR; r++)
            for (int c = 0; c < NC; c++) acc[r][c] = _mm512_setzero_ps();
        for (int jp = 0; jp < KP; jp++) {
            __m512bh vv[NC];
            for (int c = 0; c < NC; c++) vv[c] = (__m512bh)_mm512_loadu_si512(vp + (size_t)jp * D + 16 * c);
            for (int r = 0; r < PR; r++) {
                if (r >= R) break;
                __m512bh pb = (__m512bh)_mm512_set1_epi32((int)P32[(size_t)(i0 + r) * KP + jp]);
                for (int c = 0; c < NC; c++) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], pb, vv[c]);
            }
        }
        for (int r = 0; r < R; r++)
            for (int c = 0; c < NC; c++) {
                __m256bh o = _mm512_cvtneps_pbh(_mm512_mul_ps(acc[r][c], _mm512_set1_ps(inv[i0 + r])));
                _mm256_storeu_si256((__m256i*)(O + (i0 + r) * p.q_row + 16 * c), (__m256i)o);
            }
    }
}

using BlockFn = void (*)(const Problem&, const uint16_t*, uint16_t*, int, const uint32_t*, const uint32_t*, float*,
                         uint16_t*);
const BlockFn BLOCKS[8] = {block<1>, block<2>, block<3>, block<4>, block<5>, block<6>, block<7>, block<8>};

}  // namespace

extern "C" int loa_attention_bf16(const uint16_t* q, const uint16_t* k, const uint16_t* v, uint16_t* out, int B,
                                  int H, int Lq, int Lk, int D, float scale, int threads) {
    if (D % 16 || D < 16 || D > 128 || Lk % 64 || Lk <= 0 || Lq <= 0 || B <= 0 || H <= 0) return 1;
    const Problem p{q, k, v, out, B, H, Lq, Lk, D, scale, (size_t)H * D, (size_t)H * D};
    const int BH = B * H, blocks = (Lq + QB - 1) / QB;
    threads = std::max(1, threads);
    // Few (batch, head) pairs: split their query blocks too (each part packs its own K and V).
    const int parts = std::min(blocks, std::max(1, (2 * threads + BH - 1) / BH));
    const int tasks = BH * parts;
    const BlockFn run_block = BLOCKS[D / 16 - 1];
    // OpenMP: the loader gives this library the libgomp torch has loaded (same soname), so its worker threads,
    // already awake from the previous op, take these tasks; a pool of our own would fight them for the cores.
    #pragma omp parallel num_threads(std::min(threads, tasks))
    {
        std::vector<uint32_t> kp((size_t)Lk * D / 2), vp((size_t)Lk / 2 * D);
        std::vector<float> S((size_t)QB * Lk);
        std::vector<uint16_t> P((size_t)QB * Lk);
        #pragma omp for schedule(dynamic, 1)
        for (int t = 0; t < tasks; t++) {
            const int bh = t / parts, part = t % parts, b = bh / H, h = bh % H;
            pack(p, b, h, kp.data(), vp.data());
            const int first = blocks * part / parts, last = blocks * (part + 1) / parts;
            for (int blk = first; blk < last; blk++) {
                const int i0 = blk * QB, rows = std::min(QB, Lq - i0);
                const size_t offset = ((size_t)b * Lq * H + h) * D + (size_t)i0 * p.q_row;
                run_block(p, q + offset, out + offset, rows, kp.data(), vp.data(), S.data(), P.data());
            }
        }
    }
    return 0;
}
