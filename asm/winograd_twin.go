package asm

import "unsafe"

// The pure-Go twins of the Winograd transforms. They use the same float32
// coefficients and the same order of passes as the assembly (rows first, then
// columns); only FMA rounding differs.

// input is the twin of the WinogradInput kernels.
func (c *winogradCoef) input(v *float32, vstride, gstride int, d *float32, ld int, idx *int32, groups int) {
	a := c.alpha
	n := groups * WinogradGroup
	ix := unsafe.Slice(idx, n)
	dd := unsafe.Slice(d, maxOffset(ix)+(a-1)*ld+a)
	vv := unsafe.Slice(v, (a*a-1)*vstride+(groups-1)*gstride+WinogradGroup)
	var r [8][8]float32
	for t := 0; t < n; t++ {
		o := int(ix[t])
		for i := 0; i < a; i++ {
			row := dd[o+i*ld : o+i*ld+a]
			for l := 0; l < a; l++ {
				var s float32
				for j, b := range c.bt[l] {
					if b != 0 {
						s += b * row[j]
					}
				}
				r[i][l] = s
			}
		}
		base := (t/WinogradGroup)*gstride + t%WinogradGroup
		for l := 0; l < a; l++ {
			for k := 0; k < a; k++ {
				var s float32
				for i, b := range c.bt[k] {
					if b != 0 {
						s += b * r[i][l]
					}
				}
				vv[(k*a+l)*vstride+base] = s
			}
		}
	}
}

// output is the twin of the WinogradOutput kernels.
func (c *winogradCoef) output(y *float32, ld int, idx *int32, mm *float32, mstride, groups int, bias float32, relu bool) {
	a, m := c.alpha, c.m
	n := groups * WinogradGroup
	ix := unsafe.Slice(idx, n)
	yy := unsafe.Slice(y, maxOffset(ix)+(m-1)*ld+m)
	ms := unsafe.Slice(mm, (a*a-1)*mstride+n)
	var r [8][6]float32
	for t := 0; t < n; t++ {
		for p := 0; p < a; p++ {
			for j := 0; j < m; j++ {
				var s float32
				for q, b := range c.at[j] {
					if b != 0 {
						s += b * ms[(p*a+q)*mstride+t]
					}
				}
				r[p][j] = s
			}
		}
		o := int(ix[t])
		for j := 0; j < m; j++ {
			for i := 0; i < m; i++ {
				var s float32
				for p, b := range c.at[i] {
					if b != 0 {
						s += b * r[p][j]
					}
				}
				s += bias
				if relu && s < 0 {
					s = 0
				}
				yy[o+i*ld+j] = s
			}
		}
	}
}

func maxOffset(ix []int32) int {
	mx := int32(0)
	for _, o := range ix {
		mx = max(mx, o)
	}
	return int(mx)
}
