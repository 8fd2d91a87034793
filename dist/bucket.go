package dist

// Bucket sizes as PyTorch DDP's defaults (torch.nn.parallel.DistributedDataParallel:
// bucket_cap_mb=25, _DEFAULT_FIRST_BUCKET_BYTES=1 MiB).
const (
	DefaultBucketBytes      = 25 << 20
	DefaultFirstBucketBytes = 1 << 20
)

// assignBuckets groups tensors of the given byte sizes into buckets, visiting them in
// reverse order (the order in which backward finalizes their gradients), and returns
// the buckets in the order they are to be reduced, each a list of tensor indices.
//
// As in DDP, a tensor is added to the open bucket, which is closed as soon as it holds
// at least the limit: firstBytes for the first bucket (so communication starts early),
// capBytes after. Unlike DDP, a tensor of capBytes or more gets a bucket of its own
// without closing the open one, so it is reduced in place in its gradient instead of
// being copied through a flat buffer (VGG's FC6 weight is 411 MB), and the small
// tensors around it keep filling the open bucket. Tensors are never split.
func assignBuckets(sizes []int, firstBytes, capBytes int) [][]int {
	var out [][]int
	var open []int
	filled, limit := 0, firstBytes
	for i := len(sizes) - 1; i >= 0; i-- {
		if sizes[i] >= capBytes {
			out = append(out, []int{i})
			continue
		}
		open = append(open, i)
		filled += sizes[i]
		if filled >= limit {
			out = append(out, open)
			open, filled, limit = nil, 0, capBytes
		}
	}
	if len(open) > 0 {
		out = append(out, open)
	}
	return out
}
