//go:build amd64 && gc && !noasm && !purego

package asm

var _ = registerKernels(func(isa ISA) {
	setWinogradGo()
	switch isa {
	case AVX512:
		winogradInputImpl = [3]func(*float32, int, int, *float32, int, *int32, int){winogradInput2AVX512, winogradInput4AVX512, winogradInput6AVX512}
		winogradOutputImpl = [3]func(*float32, int, *int32, *float32, int, int, float32, bool){winogradOutput2AVX512, winogradOutput4AVX512, winogradOutput6AVX512}
	case AVX2:
		winogradInputImpl = [3]func(*float32, int, int, *float32, int, *int32, int){winogradInput2AVX2, winogradInput4AVX2, winogradInput6AVX2}
		winogradOutputImpl = [3]func(*float32, int, *int32, *float32, int, int, float32, bool){winogradOutput2AVX2, winogradOutput4AVX2, winogradOutput6AVX2}
	}
})

// winogradInput2AVX512 is the input transform of F(2×2, 3×3), lane-parallel over 16 tiles a group
// (one zmm of tiles, gathered and scattered by idx). With α = 4, Bᵀ = the F(2,3) matrix of WinogradMatrices rounded to float32:
//
//	for t := 0; t < groups*16; t++ {
//		for k := 0; k < α; k++ {
//			for l := 0; l < α; l++ {
//				var s float32
//				for i := 0; i < α; i++ {
//					for j := 0; j < α; j++ {
//						s += bt[k][i] * d[idx[t]+i*ld+j] * bt[l][j]
//					}
//				}
//				v[(k*α+l)*vstride+(t/16)*gstride+t%16] = s
//			}
//		}
//	}
//
//go:noescape
func winogradInput2AVX512(v *float32, vstride, gstride int, d *float32, ld int, idx *int32, groups int)

// winogradOutput2AVX512 is the output transform of F(2×2, 3×3) with bias and optional ReLU, lane-
// parallel over 16 tiles a group (one zmm of tiles, gathered and scattered by idx). It uses mm's slots of these tiles as scratch
// (they are overwritten). With α = 4 and Aᵀ of WinogradMatrices in float32:
//
//	for t := 0; t < groups*16; t++ {
//		for i := 0; i < 2; i++ {
//			for j := 0; j < 2; j++ {
//				s := bias
//				for a := 0; a < α; a++ {
//					for b := 0; b < α; b++ {
//						s += at[i][a] * mm[(a*α+b)*mstride+t] * at[j][b]
//					}
//				}
//				if relu && s < 0 {
//					s = 0
//				}
//				y[idx[t]+i*ld+j] = s
//			}
//		}
//	}
//
//go:noescape
func winogradOutput2AVX512(y *float32, ld int, idx *int32, mm *float32, mstride, groups int, bias float32, relu bool)

// winogradInput4AVX512 is the input transform of F(4×4, 3×3), lane-parallel over 16 tiles a group
// (one zmm of tiles, gathered and scattered by idx). With α = 6, Bᵀ = the F(4,3) matrix of WinogradMatrices rounded to float32:
//
//	for t := 0; t < groups*16; t++ {
//		for k := 0; k < α; k++ {
//			for l := 0; l < α; l++ {
//				var s float32
//				for i := 0; i < α; i++ {
//					for j := 0; j < α; j++ {
//						s += bt[k][i] * d[idx[t]+i*ld+j] * bt[l][j]
//					}
//				}
//				v[(k*α+l)*vstride+(t/16)*gstride+t%16] = s
//			}
//		}
//	}
//
//go:noescape
func winogradInput4AVX512(v *float32, vstride, gstride int, d *float32, ld int, idx *int32, groups int)

// winogradOutput4AVX512 is the output transform of F(4×4, 3×3) with bias and optional ReLU, lane-
// parallel over 16 tiles a group (one zmm of tiles, gathered and scattered by idx). It uses mm's slots of these tiles as scratch
// (they are overwritten). With α = 6 and Aᵀ of WinogradMatrices in float32:
//
//	for t := 0; t < groups*16; t++ {
//		for i := 0; i < 4; i++ {
//			for j := 0; j < 4; j++ {
//				s := bias
//				for a := 0; a < α; a++ {
//					for b := 0; b < α; b++ {
//						s += at[i][a] * mm[(a*α+b)*mstride+t] * at[j][b]
//					}
//				}
//				if relu && s < 0 {
//					s = 0
//				}
//				y[idx[t]+i*ld+j] = s
//			}
//		}
//	}
//
//go:noescape
func winogradOutput4AVX512(y *float32, ld int, idx *int32, mm *float32, mstride, groups int, bias float32, relu bool)

// winogradInput6AVX512 is the input transform of F(6×6, 3×3), lane-parallel over 16 tiles a group
// (one zmm of tiles, gathered and scattered by idx). With α = 8, Bᵀ = the F(6,3) matrix of WinogradMatrices rounded to float32:
//
//	for t := 0; t < groups*16; t++ {
//		for k := 0; k < α; k++ {
//			for l := 0; l < α; l++ {
//				var s float32
//				for i := 0; i < α; i++ {
//					for j := 0; j < α; j++ {
//						s += bt[k][i] * d[idx[t]+i*ld+j] * bt[l][j]
//					}
//				}
//				v[(k*α+l)*vstride+(t/16)*gstride+t%16] = s
//			}
//		}
//	}
//
//go:noescape
func winogradInput6AVX512(v *float32, vstride, gstride int, d *float32, ld int, idx *int32, groups int)

// winogradOutput6AVX512 is the output transform of F(6×6, 3×3) with bias and optional ReLU, lane-
// parallel over 16 tiles a group (one zmm of tiles, gathered and scattered by idx). It uses mm's slots of these tiles as scratch
// (they are overwritten). With α = 8 and Aᵀ of WinogradMatrices in float32:
//
//	for t := 0; t < groups*16; t++ {
//		for i := 0; i < 6; i++ {
//			for j := 0; j < 6; j++ {
//				s := bias
//				for a := 0; a < α; a++ {
//					for b := 0; b < α; b++ {
//						s += at[i][a] * mm[(a*α+b)*mstride+t] * at[j][b]
//					}
//				}
//				if relu && s < 0 {
//					s = 0
//				}
//				y[idx[t]+i*ld+j] = s
//			}
//		}
//	}
//
//go:noescape
func winogradOutput6AVX512(y *float32, ld int, idx *int32, mm *float32, mstride, groups int, bias float32, relu bool)

// winogradInput2AVX2 is the input transform of F(2×2, 3×3), lane-parallel over 16 tiles a group
// (two ymm halves, gathered by idx, stored lane by lane). With α = 4, Bᵀ = the F(2,3) matrix of WinogradMatrices rounded to float32:
//
//	for t := 0; t < groups*16; t++ {
//		for k := 0; k < α; k++ {
//			for l := 0; l < α; l++ {
//				var s float32
//				for i := 0; i < α; i++ {
//					for j := 0; j < α; j++ {
//						s += bt[k][i] * d[idx[t]+i*ld+j] * bt[l][j]
//					}
//				}
//				v[(k*α+l)*vstride+(t/16)*gstride+t%16] = s
//			}
//		}
//	}
//
//go:noescape
func winogradInput2AVX2(v *float32, vstride, gstride int, d *float32, ld int, idx *int32, groups int)

// winogradOutput2AVX2 is the output transform of F(2×2, 3×3) with bias and optional ReLU, lane-
// parallel over 16 tiles a group (two ymm halves, gathered by idx, stored lane by lane). It uses mm's slots of these tiles as scratch
// (they are overwritten). With α = 4 and Aᵀ of WinogradMatrices in float32:
//
//	for t := 0; t < groups*16; t++ {
//		for i := 0; i < 2; i++ {
//			for j := 0; j < 2; j++ {
//				s := bias
//				for a := 0; a < α; a++ {
//					for b := 0; b < α; b++ {
//						s += at[i][a] * mm[(a*α+b)*mstride+t] * at[j][b]
//					}
//				}
//				if relu && s < 0 {
//					s = 0
//				}
//				y[idx[t]+i*ld+j] = s
//			}
//		}
//	}
//
//go:noescape
func winogradOutput2AVX2(y *float32, ld int, idx *int32, mm *float32, mstride, groups int, bias float32, relu bool)

// winogradInput4AVX2 is the input transform of F(4×4, 3×3), lane-parallel over 16 tiles a group
// (two ymm halves, gathered by idx, stored lane by lane). With α = 6, Bᵀ = the F(4,3) matrix of WinogradMatrices rounded to float32:
//
//	for t := 0; t < groups*16; t++ {
//		for k := 0; k < α; k++ {
//			for l := 0; l < α; l++ {
//				var s float32
//				for i := 0; i < α; i++ {
//					for j := 0; j < α; j++ {
//						s += bt[k][i] * d[idx[t]+i*ld+j] * bt[l][j]
//					}
//				}
//				v[(k*α+l)*vstride+(t/16)*gstride+t%16] = s
//			}
//		}
//	}
//
//go:noescape
func winogradInput4AVX2(v *float32, vstride, gstride int, d *float32, ld int, idx *int32, groups int)

// winogradOutput4AVX2 is the output transform of F(4×4, 3×3) with bias and optional ReLU, lane-
// parallel over 16 tiles a group (two ymm halves, gathered by idx, stored lane by lane). It uses mm's slots of these tiles as scratch
// (they are overwritten). With α = 6 and Aᵀ of WinogradMatrices in float32:
//
//	for t := 0; t < groups*16; t++ {
//		for i := 0; i < 4; i++ {
//			for j := 0; j < 4; j++ {
//				s := bias
//				for a := 0; a < α; a++ {
//					for b := 0; b < α; b++ {
//						s += at[i][a] * mm[(a*α+b)*mstride+t] * at[j][b]
//					}
//				}
//				if relu && s < 0 {
//					s = 0
//				}
//				y[idx[t]+i*ld+j] = s
//			}
//		}
//	}
//
//go:noescape
func winogradOutput4AVX2(y *float32, ld int, idx *int32, mm *float32, mstride, groups int, bias float32, relu bool)

// winogradInput6AVX2 is the input transform of F(6×6, 3×3), lane-parallel over 16 tiles a group
// (two ymm halves, gathered by idx, stored lane by lane). With α = 8, Bᵀ = the F(6,3) matrix of WinogradMatrices rounded to float32:
//
//	for t := 0; t < groups*16; t++ {
//		for k := 0; k < α; k++ {
//			for l := 0; l < α; l++ {
//				var s float32
//				for i := 0; i < α; i++ {
//					for j := 0; j < α; j++ {
//						s += bt[k][i] * d[idx[t]+i*ld+j] * bt[l][j]
//					}
//				}
//				v[(k*α+l)*vstride+(t/16)*gstride+t%16] = s
//			}
//		}
//	}
//
//go:noescape
func winogradInput6AVX2(v *float32, vstride, gstride int, d *float32, ld int, idx *int32, groups int)

// winogradOutput6AVX2 is the output transform of F(6×6, 3×3) with bias and optional ReLU, lane-
// parallel over 16 tiles a group (two ymm halves, gathered by idx, stored lane by lane). It uses mm's slots of these tiles as scratch
// (they are overwritten). With α = 8 and Aᵀ of WinogradMatrices in float32:
//
//	for t := 0; t < groups*16; t++ {
//		for i := 0; i < 6; i++ {
//			for j := 0; j < 6; j++ {
//				s := bias
//				for a := 0; a < α; a++ {
//					for b := 0; b < α; b++ {
//						s += at[i][a] * mm[(a*α+b)*mstride+t] * at[j][b]
//					}
//				}
//				if relu && s < 0 {
//					s = 0
//				}
//				y[idx[t]+i*ld+j] = s
//			}
//		}
//	}
//
//go:noescape
func winogradOutput6AVX2(y *float32, ld int, idx *int32, mm *float32, mstride, groups int, bias float32, relu bool)
