package data

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// synth is an in-memory dataset: sample i is h×w×c with byte (i·7 + p) % 251 at
// position p, label i % 10. It counts Get calls and fails on index fail (if ≥ 0).
type synth struct {
	n, h, w, c int
	fail       int
	gets       atomic.Int64
	odd        int // if > 0, sample odd is 1 pixel wider
}

func newSynth(n, h, w, c int) *synth { return &synth{n: n, h: h, w: w, c: c, fail: -1, odd: -1} }

func (d *synth) Len() int          { return d.n }
func (d *synth) Classes() []string { return MNISTClasses }
func (d *synth) Source(i int) string {
	return fmt.Sprintf("synth/%05d.png", i)
}
func (d *synth) Get(i int) (Sample, error) {
	d.gets.Add(1)
	if i == d.fail {
		return Sample{}, fmt.Errorf("data: decoding %s: corrupt", d.Source(i))
	}
	w := d.w
	if i == d.odd {
		w++
	}
	pix := make([]uint8, d.h*w*d.c)
	for p := range pix {
		pix[p] = uint8((i*7 + p) % 251)
	}
	return Sample{Pix: pix, H: d.h, W: w, C: d.c, Label: i % 10}, nil
}

type snapshot struct {
	step    int
	images  []float32
	labels  []int
	indices []int
	shape   []int
}

func runEpoch(t *testing.T, l *Loader, epoch, step int) []snapshot {
	t.Helper()
	it, err := l.Epoch(context.Background(), epoch, step)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []snapshot
	for {
		b, err := it.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, snapshot{
			step: b.Step, images: slices.Clone(b.Images.Data()), labels: slices.Clone(b.Labels),
			indices: slices.Clone(b.Indices), shape: slices.Clone(b.Images.Shape()),
		})
	}
}

func equalSnapshots(a, b []snapshot) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].step != b[i].step || !slices.Equal(a[i].images, b[i].images) || !slices.Equal(a[i].labels, b[i].labels) ||
			!slices.Equal(a[i].indices, b[i].indices) || !slices.Equal(a[i].shape, b[i].shape) {
			return false
		}
	}
	return true
}

func TestLoaderContents(t *testing.T) {
	ds := newSynth(10, 2, 3, 3)
	l, err := NewLoader(ds, WithBatchSize(4), WithShuffle(false), WithWorkers(3))
	if err != nil {
		t.Fatal(err)
	}
	if c, h, w := l.SampleShape(); c != 3 || h != 2 || w != 3 || l.Steps() != 3 {
		t.Fatalf("shape %d×%d×%d, %d steps", c, h, w, l.Steps())
	}
	got := runEpoch(t, l, 0, 0)
	if len(got) != 3 || !slices.Equal(got[2].shape, []int{2, 3, 2, 3}) {
		t.Fatalf("%d batches, last shape %v", len(got), got[len(got)-1].shape)
	}
	for _, b := range got {
		for pos, idx := range b.indices {
			s, _ := ds.Get(idx)
			if b.labels[pos] != s.Label {
				t.Fatalf("step %d pos %d: label %d, want %d", b.step, pos, b.labels[pos], s.Label)
			}
			for ch := 0; ch < 3; ch++ {
				for p := 0; p < 6; p++ { // CHW in the batch, HWC in the sample
					if got, want := b.images[pos*18+ch*6+p], float32(s.Pix[p*3+ch]); got != want {
						t.Fatalf("step %d pos %d channel %d pixel %d: %v, want %v", b.step, pos, ch, p, got, want)
					}
				}
			}
		}
	}
}

func TestLoaderDeterministicAcrossWorkers(t *testing.T) {
	ds := newSynth(53, 8, 8, 3)
	tf := Compose{RandomCrop{Height: 6, Width: 6, Padding: 2}, RandomHorizontalFlip{P: 0.5}, ColorJitter{0.4, 0.4, 0.4}}
	var ref []snapshot
	for _, workers := range []int{1, 2, 5, 16} {
		l, err := NewLoader(ds, WithBatchSize(8), WithTransform(tf), WithWorkers(workers), WithPrefetch(1+workers%3), WithSeed(7))
		if err != nil {
			t.Fatal(err)
		}
		got := runEpoch(t, l, 3, 0)
		if ref == nil {
			ref = got
			continue
		}
		if !equalSnapshots(ref, got) {
			t.Fatalf("%d workers give different batches than 1", workers)
		}
	}
	// Another epoch or seed shuffles and augments differently; the same ones repeat.
	l, _ := NewLoader(ds, WithBatchSize(8), WithTransform(tf), WithSeed(7))
	if equalSnapshots(ref, runEpoch(t, l, 4, 0)) {
		t.Error("epochs 3 and 4 are identical")
	}
	if !equalSnapshots(ref, runEpoch(t, l, 3, 0)) {
		t.Error("epoch 3 differs on a second run")
	}
	if !slices.Equal(l.Order(3), l.Order(3)) || slices.Equal(l.Order(3), l.Order(4)) {
		t.Error("Order is not a function of the epoch")
	}
	l2, _ := NewLoader(ds, WithBatchSize(8), WithTransform(tf), WithSeed(8))
	if slices.Equal(l.Order(3), l2.Order(3)) {
		t.Error("seeds 7 and 8 give the same order")
	}
}

func TestLoaderSharding(t *testing.T) {
	ds := newSynth(103, 1, 1, 1)
	for _, size := range []int{1, 2, 3, 8} {
		full, _ := NewLoader(ds, WithBatchSize(5))
		perm := full.Order(2)
		seen := map[int]int{}
		for rank := 0; rank < size; rank++ {
			l, err := NewLoader(ds, WithBatchSize(5), WithShard(rank, size))
			if err != nil {
				t.Fatal(err)
			}
			if l.Samples() != 103/size {
				t.Fatalf("size %d rank %d: %d samples, want %d", size, rank, l.Samples(), 103/size)
			}
			n := 0
			for _, b := range runEpoch(t, l, 2, 0) {
				for _, idx := range b.indices {
					seen[idx]++
					n++
				}
			}
			if n != 103/size {
				t.Fatalf("size %d rank %d: iterated %d samples", size, rank, n)
			}
		}
		// Disjoint, and covering the first size·⌊103/size⌋ elements of the permutation.
		kept := perm[:size*(103/size)]
		if len(seen) != len(kept) {
			t.Fatalf("size %d: %d distinct samples, want %d", size, len(seen), len(kept))
		}
		for _, idx := range kept {
			if seen[idx] != 1 {
				t.Fatalf("size %d: sample %d seen %d times", size, idx, seen[idx])
			}
		}
	}
	if _, err := NewLoader(ds, WithShard(3, 3)); err == nil {
		t.Error("rank 3 of 3 accepted")
	}
}

func TestLoaderDropRemainder(t *testing.T) {
	ds := newSynth(10, 1, 1, 1)
	for _, c := range []struct {
		drop       bool
		steps, lst int
	}{{false, 3, 2}, {true, 2, 4}} {
		l, err := NewLoader(ds, WithBatchSize(4), WithDropRemainder(c.drop))
		if err != nil {
			t.Fatal(err)
		}
		got := runEpoch(t, l, 0, 0)
		if l.Steps() != c.steps || len(got) != c.steps || len(got[len(got)-1].labels) != c.lst || got[len(got)-1].shape[0] != c.lst {
			t.Errorf("drop=%v: %d steps, %d batches, last has %d", c.drop, l.Steps(), len(got), len(got[len(got)-1].labels))
		}
	}
	if _, err := NewLoader(ds, WithBatchSize(11), WithDropRemainder(true)); err == nil {
		t.Error("batch larger than the dataset with drop_remainder accepted")
	}
}

func TestLoaderResume(t *testing.T) {
	ds := newSynth(40, 4, 4, 1)
	l, err := NewLoader(ds, WithBatchSize(6), WithTransform(RandomHorizontalFlip{P: 0.5}), WithWorkers(3))
	if err != nil {
		t.Fatal(err)
	}
	full := runEpoch(t, l, 5, 0)
	before := ds.gets.Load()
	tail := runEpoch(t, l, 5, 4)
	if !equalSnapshots(full[4:], tail) {
		t.Fatal("resuming at step 4 differs from steps 4… of a full epoch")
	}
	if got, want := ds.gets.Load()-before, int64(40-4*6); got != want {
		t.Errorf("resume read %d samples, want %d (no replay)", got, want)
	}
	if got := runEpoch(t, l, 5, l.Steps()); len(got) != 0 {
		t.Errorf("resume at the end gave %d batches", len(got))
	}
	if _, err := l.Epoch(context.Background(), 5, l.Steps()+1); err == nil {
		t.Error("resume past the end accepted")
	}
}

func TestLoaderErrors(t *testing.T) {
	ds := newSynth(30, 2, 2, 1)
	ds.fail = 17
	l, err := NewLoader(ds, WithBatchSize(4), WithShuffle(false), WithWorkers(4))
	if err != nil {
		t.Fatal(err)
	}
	it, err := l.Epoch(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var steps int
	for {
		_, err = it.Next()
		if err != nil {
			break
		}
		steps++
	}
	if steps != 4 || !strings.Contains(err.Error(), "synth/00017.png") {
		t.Fatalf("after %d batches: %v; want the error at step 4 naming the file", steps, err)
	}
	if _, err2 := it.Next(); err2 != err {
		t.Errorf("error not sticky: %v", err2)
	}

	ds = newSynth(30, 2, 2, 1)
	ds.odd = 9
	l, _ = NewLoader(ds, WithBatchSize(4), WithShuffle(false))
	it, _ = l.Epoch(context.Background(), 0, 0)
	defer it.Close()
	for err = nil; err == nil; _, err = it.Next() {
	}
	if !strings.Contains(err.Error(), "synth/00009.png") || !strings.Contains(err.Error(), "1×2×3") {
		t.Errorf("shape mismatch: %v", err)
	}
}

func TestLoaderNoGoroutineLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	ds := newSynth(200, 8, 8, 3)
	l, err := NewLoader(ds, WithBatchSize(4), WithWorkers(6), WithPrefetch(3))
	if err != nil {
		t.Fatal(err)
	}
	// Close mid-epoch.
	it, _ := l.Epoch(context.Background(), 0, 0)
	if _, err := it.Next(); err != nil {
		t.Fatal(err)
	}
	it.Close()
	// Cancel the parent context while the consumer waits.
	ctx, cancel := context.WithCancel(context.Background())
	it, _ = l.Epoch(ctx, 1, 0)
	it.Next()
	cancel()
	for err = nil; err == nil; _, err = it.Next() {
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v", err)
	}
	it.Close()
	// Run to the end without Close: the goroutines exit by themselves.
	runEpoch(t, l, 2, 0)
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

func TestLoaderEmbeddedEpoch(t *testing.T) {
	ds, err := EmbeddedFashionMNIST("test")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(ds, WithBatchSize(100), WithTransform(FashionMNISTTrain(false)))
	if err != nil {
		t.Fatal(err)
	}
	var count [10]int
	for _, b := range runEpoch(t, l, 0, 0) {
		if !slices.Equal(b.shape, []int{100, 1, 32, 32}) {
			t.Fatalf("batch shape %v", b.shape)
		}
		for _, lab := range b.labels {
			count[lab]++
		}
	}
	for c, n := range count {
		if n != 100 {
			t.Errorf("class %d seen %d times in an epoch", c, n)
		}
	}
}

func TestShuffleUniform(t *testing.T) {
	// All 24 orders of 4 elements should appear about equally often.
	src := newPCGForTest()
	counts := map[[4]int]int{}
	const trials = 48000
	for i := 0; i < trials; i++ {
		p := []int{0, 1, 2, 3}
		shuffle(p, src)
		counts[[4]int(p)]++
	}
	if len(counts) != 24 {
		t.Fatalf("%d of 24 orders", len(counts))
	}
	for p, n := range counts { // expectation 2000, σ ≈ 44
		if n < 1750 || n > 2250 {
			t.Errorf("order %v drawn %d times of %d", p, n, trials)
		}
	}
}

// TestOrderIsPinned guards the epoch order against accidental change: a resumed run
// relies on it being the same as when the checkpoint was written.
func TestOrderIsPinned(t *testing.T) {
	l, err := NewLoader(newSynth(12, 1, 1, 1), WithSeed(42))
	if err != nil {
		t.Fatal(err)
	}
	want := []int{9, 0, 5, 11, 6, 10, 2, 4, 1, 3, 8, 7}
	if got := l.Order(3); !slices.Equal(got, want) {
		t.Errorf("Order(3) = %v, pinned %v", got, want)
	}
}

func newPCGForTest() *rand.PCG { return rand.NewPCG(123, 456) }

func TestLoaderReusesBuffers(t *testing.T) {
	l, err := NewLoader(newSynth(40, 4, 4, 3), WithBatchSize(8), WithPrefetch(2))
	if err != nil {
		t.Fatal(err)
	}
	buffers := func(epoch int) map[*float32]bool {
		seen := map[*float32]bool{}
		it, err := l.Epoch(context.Background(), epoch, 0)
		if err != nil {
			t.Fatal(err)
		}
		for {
			b, err := it.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			seen[&b.Images.Data()[0]] = true
		}
		it.Close()
		if err := it.Close(); err != nil { // a second Close is harmless
			t.Fatal(err)
		}
		if _, err := it.Next(); err == nil {
			t.Error("Next after Close succeeded")
		}
		return seen
	}
	first, second := buffers(0), buffers(1)
	if len(first) > 3 {
		t.Errorf("%d batch buffers for prefetch 2, want ≤ 3", len(first))
	}
	for p := range second {
		if !first[p] {
			t.Error("epoch 1 allocated a new batch buffer instead of reusing epoch 0's")
		}
	}
}

// TestLoaderImageFolderPipeline runs real decoding and the ImageNet training pipeline
// through the loader with different worker counts, sharded and resumed.
func TestLoaderImageFolderPipeline(t *testing.T) {
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 14; i++ {
		h, w := 20+rng.IntN(30), 20+rng.IntN(30)
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for p := range m.Pix {
			m.Pix[p] = uint8(rng.IntN(256))
		}
		writeImage(t, filepath.Join(root, "train", fmt.Sprintf("class%d", i%3), fmt.Sprintf("%02d.jpg", i)), m)
	}
	ds, err := Open("imagenet", root, "train")
	if err != nil {
		t.Fatal(err)
	}
	run := func(workers, rank, size, step int) []snapshot {
		l, err := NewLoader(ds, WithBatchSize(2), WithTransform(ImageNetTrain(16)), WithWorkers(workers),
			WithShard(rank, size), WithDropRemainder(true))
		if err != nil {
			t.Fatal(err)
		}
		return runEpoch(t, l, 1, step)
	}
	for rank := 0; rank < 2; rank++ {
		ref := run(1, rank, 2, 0)
		if len(ref) != 3 || !slices.Equal(ref[0].shape, []int{2, 3, 16, 16}) {
			t.Fatalf("rank %d: %d batches of %v", rank, len(ref), ref[0].shape)
		}
		if !equalSnapshots(ref, run(4, rank, 2, 0)) {
			t.Errorf("rank %d: 4 workers differ from 1", rank)
		}
		if !equalSnapshots(ref[2:], run(3, rank, 2, 2)) {
			t.Errorf("rank %d: resume at step 2 differs", rank)
		}
	}
}
