package conv

import "github.com/govgg/govgg/asm"

// chooseAlgorithm picks the algorithm for a geometry when the caller asked for Auto.
// Only algorithms with a registered kernel may be returned.
//
//   - Winograd only for 3×3 stride-1 layers with at least 8 input and output
//     channels; conv1_1 (C=3) goes to implicit GEMM, which is also the fastest
//     there (measured on AVX-512 at batch 1 and 8, 1 and 2 threads).
//   - On AVX-512 and AVX2, the candidate among im2col, F(2,3) and F(4,3) with the
//     lowest estimated time (costModel) for a batch of n and the thread count. An
//     estimate within 5 % of a candidate with smaller prepared weights does not
//     displace it. On VGG-16 at 224×224 on AVX-512 that is F(4,3) from conv1_2 to
//     conv4_3 and F(2,3) for conv5_x at batch 1 (16 tiles of 4×4: half a 32-wide
//     GEMM sliver each, and 37.7 MB of U streamed from DRAM for little work),
//     F(4,3) for conv5_x at batch 8, and F(2,3) on 2×2 images (CIFAR's conv5_x,
//     where a 4×4 tile is three-quarters padding: measured 2.5–3× faster than
//     F(4,3) at batch 64). On AVX2, whose slivers are 16 wide, conv5_x's 16 tiles
//     fill one, and F(4,3) wins every VGG-16 layer after conv1_1 (conv5_1 at batch
//     1: 4.4 against 6.4 ms); F(2,3) still wins 2×2 images at batch 64, and
//     implicit GEMM 2×2 and 4×4 images at batch 1 (0.9 against 1.6 ms).
//   - On the generic path, whose rates the model has not been calibrated on, the
//     shape rule: F(4,3), or F(2,3) when the batch has fewer than 40 F(4,3) tiles.
//   - F(6,3) never automatically: its error is about 7× direct convolution's and a
//     Plan does not know whether it is training. WithAlgorithm(WinogradF63)
//     selects it for inference.
func chooseAlgorithm(g Geometry, n int) Algorithm {
	if !g.Is3x3s1() || g.C < 8 || g.K < 8 {
		return Im2col
	}
	m, ok := costModelFor(asm.Active())
	if !ok {
		pick := WinogradF43
		if n*((g.OutH()+3)/4)*((g.OutW()+3)/4) < 40 {
			pick = WinogradF23
		}
		if winogradKernels[pick] == nil {
			return Im2col
		}
		return pick
	}
	// Candidates in increasing order of prepared-weight memory.
	best, bestT := Im2col, m.im2col(g, n)
	for _, a := range []Algorithm{WinogradF23, WinogradF43} {
		if winogradKernels[a] == nil {
			continue
		}
		if t := m.winograd(g, n, winogradTile(a)); t < 0.95*bestT {
			best, bestT = a, t
		}
	}
	return best
}

// winogradTile is the output tile side m of F(2,3) or F(4,3).
func winogradTile(a Algorithm) int {
	if a == WinogradF23 {
		return 2
	}
	return 4
}

// costModel estimates a forward convolution's time in seconds as the sum of its
// GEMM FLOPs at the kernel's rate, its prepared weights streamed from memory, and
// (for Winograd) its transforms:
//
//	im2col:   2·K·9C·P / gemm + 4·K·9C / dram
//	Winograd: 2·α²·K·C·T' / gemm + 4·α²·K·C·(1/dram + (blocks−1)/l3) + α²·(C+K)·T·transform
//
// with P output pixels, T tiles and T' the tiles the GEMM computes (whole
// micro-kernel columns: a remainder of at most one vector costs a vector, more
// costs a full NR-wide sliver). Every block of tiles streams all of U: the first
// from DRAM (at batch 1 a layer's weights are last used a whole forward pass
// earlier, evicted by the classifier's 471 MiB), the others from L3. Adding the
// terms instead of overlapping them matched VGG-16's layers with cold weights
// within ~10 % on the development machine (AVX-512, 1 thread, huge pages):
// conv4_2 F(4,3) 9.2 ms estimated vs 9.2–9.6 measured, conv5_1 F(4,3) 4.0 vs
// 3.9–4.1, F(2,3) 4.1 vs 4.1–4.3, im2col 5.9 vs 6.2.
type costModel struct {
	gemm      float64 // GEMM FLOP/s on the packed micro-kernel, all threads
	implicit  float64 // implicit-GEMM FLOP/s (its panel building included)
	transform float64 // seconds per transformed element (α² per channel and tile)
	dram, l3  float64 // bytes/s of streamed weights
	nr, lanes int     // micro-kernel width and vector width, in columns
	colsMax   int     // widest tile of the column kernel, 0 for none
	threads   int
}

// costModelFor returns the model's rates for a kernel path and the current thread
// count, or false for a path it has not been calibrated on.
//
// Per thread, measured on the development machine (Emerald Rapids, AVX-512 FMA
// peak 223 GFLOP/s, AVX2 half that), weights cold: on AVX-512 the Winograd GEMMs
// ran at ~200 GFLOP/s and implicit GEMM at ~175 (conv1_2 140 … conv4_2 186); on
// AVX2 at ~93 and ~88 (a least-squares fit over VGG-16's layers at batch 1 and 8:
// conv1_2 … conv5_1, F(2,3), F(4,3) and im2col, estimates within ~10 % but for a
// few F(4,3) layers at batch 1, 20–30 % off either way). The transforms took
// ~0.55 ns an element on both; one core streamed 17 GB/s of weights from DRAM (2 MiB
// pages, prefetched), two about 1.6× that. AVX2's figures are CPU times on a loaded
// machine, and its scaling to 2 threads is AVX-512's, not measured on AVX2.
func costModelFor(isa asm.ISA) (costModel, bool) {
	var m costModel
	switch isa {
	case asm.AVX512:
		m = costModel{gemm: 200e9, implicit: 175e9, lanes: 16, colsMax: 4} // asm's column kernel
	case asm.AVX2:
		m = costModel{gemm: 93e9, implicit: 88e9, lanes: 8} // no column kernel
	default:
		return costModel{}, false
	}
	t := max(asm.Threads(), 1)
	par := float64(t) // compute scales with threads, a little less than linearly
	if t > 1 {
		par *= 0.85
	}
	m.gemm *= par
	m.implicit *= par
	m.transform = 0.55e-9 / par
	m.dram = 17e9 * min(float64(t), 1.6)
	m.l3 = 25e9 * min(float64(t), 2)
	m.nr = asm.NR()
	m.threads = t
	return m, true
}

func (m costModel) im2col(g Geometry, n int) float64 {
	k9c := float64(g.K * g.C * g.R * g.S)
	return 2*k9c*float64(n*g.OutH()*g.OutW())/m.implicit + 4*k9c/m.dram
}

func (m costModel) winograd(g Geometry, n, tile int) float64 {
	a2 := float64((tile + 2) * (tile + 2))
	tiles := n * ((g.OutH() + tile - 1) / tile) * ((g.OutW() + tile - 1) / tile)
	blocks, per := m.winogradBlocks(g, tile, tiles)
	cols := (tiles / per) * m.gemmCols(per) // the last block holds the rest
	if r := tiles % per; r > 0 {
		cols += m.gemmCols(r)
	}
	kc := float64(g.K * g.C)
	gemm := 2 * a2 * kc * float64(cols) / m.gemm
	stream := 4 * a2 * kc * (1/m.dram + float64(blocks-1)/m.l3)
	transforms := a2 * float64((g.C+g.K)*tiles) * m.transform
	return gemm + stream + transforms
}

// winogradBlocks is the block layout winograd.state makes (keep the two in step):
// the number of blocks of tiles and the tiles of every block but the last.
func (m costModel) winogradBlocks(g Geometry, tile, tiles int) (blocks, per int) {
	w := m.nr
	if w%asm.WinogradGroup != 0 {
		w = asm.WinogradGroup
	}
	k := winograd{g: g, alpha: tile + 2}
	nt := max(k.blockTiles()/w*w, w)
	blocks = (tiles + nt - 1) / nt
	if blocks < m.threads && tiles >= 2*w*m.threads {
		blocks = m.threads
	}
	// Whole transform groups per block, as winograd.state rounds them.
	const grp = asm.WinogradGroup
	per = ((tiles+blocks-1)/blocks + grp - 1) / grp * grp
	return (tiles + per - 1) / per, per
}

// gemmCols is what n columns cost the micro-kernels, in columns of a full sliver:
// whole NR-wide slivers; a remainder of at most one vector runs the narrow loop;
// up to colsMax columns past whole vectors go to asm's column kernel, which costs
// about a third of a vector.
func (m costModel) gemmCols(n int) int {
	full, rem := n/m.nr*m.nr, n%m.nr
	if rem == 0 {
		return full
	}
	if rest := rem % m.lanes; rest > 0 && rest <= m.colsMax {
		return full + rem - rest + m.lanes/3
	}
	if rem <= m.lanes && m.lanes < m.nr {
		return full + m.lanes
	}
	return full + m.nr
}
