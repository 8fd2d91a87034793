package dist

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// vgg16Params returns torchvision's VGG16 parameter names and gradient sizes in bytes,
// in state-dict order.
func vgg16Params() (names []string, sizes []int) {
	cfg := []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}
	in, idx := 3, 0
	for _, c := range cfg {
		if c == 0 {
			idx++
			continue
		}
		names = append(names, fmt.Sprintf("features.%d.weight", idx), fmt.Sprintf("features.%d.bias", idx))
		sizes = append(sizes, 4*c*in*9, 4*c)
		in, idx = c, idx+2
	}
	for i, f := range [][2]int{{25088, 4096}, {4096, 4096}, {4096, 1000}} {
		names = append(names, fmt.Sprintf("classifier.%d.weight", 3*i), fmt.Sprintf("classifier.%d.bias", 3*i))
		sizes = append(sizes, 4*f[0]*f[1], 4*f[1])
	}
	return names, sizes
}

func TestAssignBucketsVGG16(t *testing.T) {
	names, sizes := vgg16Params()
	total := 0
	for _, s := range sizes {
		total += s
	}
	require.Equal(t, 553_430_176, total, "VGG16 has 138,357,544 parameters")

	var got [][]string
	for _, b := range assignBuckets(sizes, DefaultFirstBucketBytes, DefaultBucketBytes) {
		var ns []string
		for _, i := range b {
			ns = append(ns, names[i])
		}
		got = append(got, ns)
	}
	f := func(i int) []string {
		return []string{fmt.Sprintf("features.%d.bias", i), fmt.Sprintf("features.%d.weight", i)}
	}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	require.Equal(t, [][]string{
		{"classifier.6.bias", "classifier.6.weight"}, // fc8, 16.4 MB: the first bucket closes at ≥ 1 MiB
		{"classifier.3.weight"},                      // fc7's 67 MB weight, alone and in place
		{"classifier.0.weight"},                      // fc6's 411 MB weight, alone and in place
		cat([]string{"classifier.3.bias", "classifier.0.bias"}, f(28), f(26), f(24)), // 28.3 MB ≥ 25 MiB
		cat(f(21), f(19), f(17), f(14), f(12)),                                       // 28.3 MB
		cat(f(10), f(7), f(5), f(2), f(0)),                                           // the rest, 2.2 MB
	}, got)
}

func TestAssignBuckets(t *testing.T) {
	for _, tc := range []struct {
		sizes      []int
		first, cap int
		want       [][]int
	}{
		{nil, 1, 10, nil},
		{[]int{4}, 1, 10, [][]int{{0}}},
		{[]int{4, 4, 4, 4}, 5, 10, [][]int{{3, 2}, {1, 0}}},
		{[]int{4, 4, 4, 4, 4}, 100, 100, [][]int{{4, 3, 2, 1, 0}}},
		// Oversized tensors go alone without closing the open bucket.
		{[]int{2, 30, 2, 2, 50, 2}, 5, 10, [][]int{{4}, {5, 3, 2}, {1}, {0}}},
		// The first limit holds until a bucket closes.
		{[]int{1, 1, 1, 1, 1, 1}, 2, 3, [][]int{{5, 4}, {3, 2, 1}, {0}}},
	} {
		require.Equal(t, tc.want, assignBuckets(tc.sizes, tc.first, tc.cap), "%v first %d cap %d", tc.sizes, tc.first, tc.cap)
	}
}

// Every tensor is in exactly one bucket, and every bucket that is not a lone
// oversized tensor exceeds its limit by less than its last tensor.
func TestAssignBucketsPartition(t *testing.T) {
	for seed := range 50 {
		sizes := make([]int, 1+seed%17)
		x := uint32(seed*2654435761 + 1)
		for i := range sizes {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			sizes[i] = 1 + int(x%40)
		}
		buckets := assignBuckets(sizes, 8, 25)
		seen := make([]int, len(sizes))
		for _, b := range buckets {
			sum := 0
			for j, i := range b {
				seen[i]++
				sum += sizes[i]
				if j > 0 {
					require.Less(t, i, b[j-1], "reverse order within a bucket")
				}
			}
			if len(b) > 1 {
				require.Less(t, sum-sizes[b[len(b)-1]], 25, "%v", sizes)
			}
		}
		for i, n := range seen {
			require.Equal(t, 1, n, "tensor %d of %v", i, sizes)
		}
	}
}

func TestReducerRejectsBadOptions(t *testing.T) {
	c := &Comm{b: single{}, hostRanks: hostRanks{0, 1, 0, 1}}
	_, err := NewReducer(c, nil, WithBucketBytes(0, 10))
	require.ErrorContains(t, err, "bucket sizes must be positive")
}
