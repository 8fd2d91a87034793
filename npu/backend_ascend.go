//go:build ascend

package npu

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/govgg/govgg/layers"
)

var defaultBackend = &Backend{cfg: defaultConfig()}

func init() {
	if err := layers.RegisterBackend(Name, defaultBackend); err != nil {
		defaultBackend.cfg.logf("npu: %v", err)
	}
}

// Available reports whether this binary can run on Ascend NPUs: true with -tags
// ascend (whether a device is present is known only when a backend starts).
func Available() bool { return true }

// Backend computes layers on one Ascend NPU through aclnn operators. It implements
// every operation group of layers.Backend; see the package documentation for what
// runs on the device, what goes to the CPU, and when data is copied.
//
// A Backend is safe for use by several goroutines, which it serializes.
type Backend struct {
	cfg config

	mu       sync.Mutex
	started  bool
	startErr error
	closed   bool
	rt       *runtimeState

	regions  map[regionKey]*region
	execs    map[string]*executor
	ws       devPtr
	wsSize   uint64
	inflight bool // operations were launched since the last stream synchronization
	clock    uint64
	pending  []devPtr // device buffers of collected ConvOps and dropped mirrors, freed on the next call
	logged   map[[2]string]bool
	poolX    map[unsafe.Pointer][]float32 // max-pool input per index buffer
	convs    map[*convMem]bool            // device weights of live ConvOps
	scratch  []float32
	keyBuf   key
	cur      call      // the call in progress, reused
	ce       ceScratch // cross-entropy's device-side buffers
	stats    Stats
}

// New starts a backend on the device chosen by opts (WithDevice, else the MPI local
// rank, else 0). Give it to a model with SetBackend; it is not registered by name.
func New(opts ...Option) (*Backend, error) {
	b := &Backend{cfg: defaultConfig()}
	if err := b.cfg.apply(opts); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := b.start(); err != nil {
		return nil, err
	}
	return b, nil
}

// Use configures the registered "ascend" backend with opts, starts it, and makes it
// the default of every layer (layers.UseBackend). GOVGG_BACKEND=ascend selects the
// same backend with the default options, started on first use.
func Use(opts ...Option) error {
	b := defaultBackend
	b.mu.Lock()
	if b.started && len(opts) > 0 {
		b.mu.Unlock()
		return errors.New("npu: the ascend backend has already started; options must be given before its first use")
	}
	c := defaultConfig()
	if err := c.apply(opts); err != nil {
		b.mu.Unlock()
		return err
	}
	if !b.started {
		b.cfg = c
	}
	runtime.LockOSThread()
	err := b.start()
	runtime.UnlockOSThread()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return layers.UseBackend(Name)
}

// Name returns "ascend".
func (b *Backend) Name() string { return Name }

// start initializes the device once; the caller holds mu on a locked thread.
func (b *Backend) start() error {
	if b.closed {
		return errors.New("npu: backend is closed")
	}
	if b.started {
		return b.startErr
	}
	b.started = true
	dev := b.cfg.device
	if !b.cfg.deviceSet {
		var err error
		if dev, err = DeviceFromEnv(); err != nil {
			b.startErr = err
			return err
		}
	}
	b.rt, b.startErr = startRuntime(dev)
	if b.regions == nil {
		b.regions = map[regionKey]*region{}
	}
	b.execs = map[string]*executor{}
	b.logged = map[[2]string]bool{}
	b.poolX = map[unsafe.Pointer][]float32{}
	b.convs = map[*convMem]bool{}
	return b.startErr
}

// enter locks the backend and this goroutine's OS thread and binds the device
// context; leave undoes it.
func (b *Backend) enter() error {
	b.mu.Lock()
	runtime.LockOSThread()
	if err := b.start(); err != nil {
		b.leave()
		return err
	}
	if err := b.rt.bind(); err != nil {
		b.leave()
		return err
	}
	if len(b.pending) > 0 {
		if err := b.rt.sync(); err != nil {
			b.leave()
			return err
		}
		for _, p := range b.pending {
			b.free(p)
		}
		b.pending = b.pending[:0]
	}
	return nil
}

func (b *Backend) leave() {
	runtime.UnlockOSThread()
	b.mu.Unlock()
}

// Stats returns the counters.
func (b *Backend) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// ToHost makes the host copy of buf current: it copies back every part of buf
// that an NPU operation wrote since the host last had it (layers.HostSync).
func (b *Backend) ToHost(buf []float32) error {
	if len(buf) == 0 {
		return nil
	}
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	return b.flush(keyOf(buf))
}

// HostWrote records that the host wrote the whole of buf, so the device copy is
// refreshed before the next operation that reads it; from now on buf counts as
// announced: it is uploaded only after a HostWrote (layers.HostSync).
func (b *Backend) HostWrote(buf []float32) {
	if len(buf) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.regions == nil { // not started: nothing is mirrored yet
		b.regions = map[regionKey]*region{}
	}
	b.announce(keyOf(buf))
}

// announce is HostWrote for k with the lock held.
func (b *Backend) announce(k regionKey) {
	b.hostWrote(k)
	r := b.regions[k]
	if r == nil {
		r = &region{key: k}
		b.regions[k] = r
	}
	r.tracked = true
}

// Invalidate makes the host copy of every buffer the authoritative one: each is
// uploaded before its next use. Device results not yet copied back are dropped, so
// call ToHost first for those still wanted. Use it after writing, outside the
// layers, into buffers the backend has seen without announcing each write
// (HostWrote), for example after changing frozen parameters.
func (b *Backend) Invalidate() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.regions {
		r.state = devStale
		r.gen++
	}
}

// Freeze uploads bufs now and marks them announced (see HostWrote), so operations
// read them without uploading again until the host announces a write. Layers
// announce their own parameters (on their first Forward, which uploads them
// again); Freeze is for buffers that a caller hands to this backend's operations
// directly.
func (b *Backend) Freeze(bufs ...[]float32) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	c := b.newCall()
	for _, s := range bufs {
		if len(s) == 0 {
			continue
		}
		k := keyOf(s)
		b.announce(k)
		if _, err := c.in(k, false); err != nil {
			return err
		}
	}
	return nil
}

// Close frees every device buffer and executor, destroys the stream and resets the
// device. The backend cannot be used afterwards. (aclFinalize is left to process
// exit, since AscendCL allows aclInit only once per process.)
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if !b.started || b.startErr != nil {
		return nil
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := b.rt.bind()
	if err == nil {
		err = b.rt.sync()
	}
	for k, e := range b.execs {
		e.destroy()
		delete(b.execs, k)
	}
	for k, r := range b.regions {
		b.free(r.dev)
		delete(b.regions, k)
	}
	for _, p := range b.pending {
		b.free(p)
	}
	b.pending = nil
	for m := range b.convs {
		b.free(m.w)
		b.free(m.bias)
		m.w, m.bias = 0, 0
	}
	clear(b.convs)
	if b.ws != 0 {
		b.free(b.ws)
		b.ws, b.wsSize = 0, 0
	}
	if e := b.rt.stop(); err == nil {
		err = e
	}
	return err
}

// ---- device memory ----

// devSizes records the size of every allocation, so DeviceBytes stays exact
// whoever frees.
var devSizes sync.Map // devPtr → int64

func (b *Backend) alloc(n int64) (devPtr, error) {
	p, err := devMalloc(max(n, 1))
	if err != nil {
		return 0, err
	}
	devSizes.Store(p, n)
	b.stats.DeviceBytes += n
	return p, nil
}

// free releases a device buffer and every cached executor that uses it.
func (b *Backend) free(p devPtr) {
	if p == 0 {
		return
	}
	for k, e := range b.execs {
		for _, d := range e.devs {
			if d == p {
				e.destroy()
				delete(b.execs, k)
				break
			}
		}
	}
	if n, ok := devSizes.LoadAndDelete(p); ok {
		b.stats.DeviceBytes -= n.(int64)
	}
	devFree(p)
}

// workspace returns a device workspace of at least n bytes, shared by all
// operators: they run one after another on the one stream.
func (b *Backend) workspace(n uint64) (devPtr, error) {
	if n <= b.wsSize {
		return b.ws, nil
	}
	if b.ws != 0 {
		if err := b.rt.sync(); err != nil {
			return 0, err
		}
		b.free(b.ws)
		b.ws, b.wsSize = 0, 0
	}
	p, err := b.alloc(int64(n))
	if err != nil {
		return 0, err
	}
	b.ws, b.wsSize = p, n
	return p, nil
}

// ---- host-buffer mirrors ----

// regionKey identifies a host buffer: its first byte and its length in bytes. As a
// map key it keeps the buffer alive, so its address cannot be reused by another
// allocation while it is mirrored.
type regionKey struct {
	p unsafe.Pointer
	n uintptr
}

// residency says which copy of a mirrored buffer is current.
type residency uint8

const (
	devStale  residency = iota // the host copy is newer (or the device has none)
	devSynced                  // both copies are equal
	devNewer                   // an NPU operation wrote it; the host copy is stale
)

// region is the device mirror of a host buffer.
type region struct {
	key   regionKey
	dev   devPtr // 0: no device memory (evicted, or only announced so far)
	state residency
	// tracked: every host write of the buffer is announced (HostWrote, Freeze,
	// or an NPU operation wrote it, which makes it a layer's output), so a
	// devSynced copy is used without an upload. An untracked buffer (the
	// image, anything the caller owns) is uploaded on every use.
	tracked bool
	// gen changes whenever the device copy stops matching what an operation
	// last read; keptGen is its value when a forward operation read it as an
	// input that the backward operation will read again (keepIn, keptIn).
	gen, keptGen uint64
	wrote        uint64 // clock of the last NPU write, to copy back in order
	used         uint64
}

func (r *region) overlaps(k regionKey) bool {
	a, b := uintptr(r.key.p), uintptr(k.p)
	return a < b+k.n && b < a+r.key.n
}

func keyOf[T float32 | int32](s []T) regionKey {
	return regionKey{unsafe.Pointer(unsafe.SliceData(s)), uintptr(len(s)) * 4}
}

// keyOfInts is keyOf for Go ints (the labels), described to aclnn as intType.
func keyOfInts(s []int) regionKey {
	return regionKey{unsafe.Pointer(unsafe.SliceData(s)), uintptr(len(s)) * unsafe.Sizeof(int(0))}
}

// up copies host memory to the device, after the queued operations (which may
// still read the destination).
func (b *Backend) up(dst devPtr, src unsafe.Pointer, n int64) error {
	if err := b.drain(); err != nil {
		return err
	}
	if err := upload(dst, src, n); err != nil {
		return err
	}
	b.stats.Uploads++
	b.stats.UploadBytes += n
	return nil
}

// down copies device memory to the host once the queued operations are done.
func (b *Backend) down(dst unsafe.Pointer, src devPtr, n int64) error {
	if err := b.drain(); err != nil {
		return err
	}
	if err := download(dst, src, n); err != nil {
		return err
	}
	b.stats.Downloads++
	b.stats.DownloadBytes += n
	return nil
}

// drain waits for the operations launched since the last wait.
func (b *Backend) drain() error {
	if !b.inflight {
		return nil
	}
	b.inflight = false
	return b.rt.sync()
}

// flush copies back every device-newer mirror overlapping k, oldest write first.
func (b *Backend) flush(k regionKey) error {
	for {
		var first *region
		for _, r := range b.regions {
			if r.state == devNewer && r.overlaps(k) && (first == nil || r.wrote < first.wrote) {
				first = r
			}
		}
		if first == nil {
			return nil
		}
		if err := b.down(first.key.p, first.dev, int64(first.key.n)); err != nil {
			return err
		}
		first.state = devSynced
	}
}

// flushAll copies back every device-newer mirror: before CPU code that reads
// arbitrary buffers (a fallback).
func (b *Backend) flushAll() error {
	return b.flush(regionKey{p: nil, n: ^uintptr(0)})
}

// drop forgets the mirror of k; its device memory is freed on the next entry
// into the backend (after the queued operations).
func (b *Backend) drop(k regionKey) {
	if r := b.regions[k]; r != nil {
		if r.dev != 0 {
			b.pending = append(b.pending, r.dev)
		}
		delete(b.regions, k)
	}
}

// hostWrote records that the host wrote k: the device copy of every mirror
// overlapping it is stale.
func (b *Backend) hostWrote(k regionKey) {
	for _, r := range b.regions {
		if r.overlaps(k) {
			r.state = devStale
			r.gen++
		}
	}
}

// call is one backend operation: the mirrors it uses (true once uploaded, so an
// untracked input read twice goes up once) and the outputs it writes.
type call struct {
	b    *Backend
	used map[*region]bool
	outs []*region
}

func (b *Backend) newCall() *call {
	c := &b.cur
	if c.used == nil {
		c.b, c.used = b, map[*region]bool{}
	}
	clear(c.used)
	c.outs = c.outs[:0]
	return c
}

// mirror returns the region of k with device memory, making the region or
// allocating its memory (evicting others past the memory limit) if needed.
func (c *call) mirror(k regionKey) (*region, error) {
	b := c.b
	b.clock++
	r := b.regions[k]
	if r == nil {
		c.limitUntracked()
		r = &region{key: k}
		b.regions[k] = r
	}
	if _, ok := c.used[r]; !ok {
		c.used[r] = false
	}
	if r.dev == 0 {
		if err := c.evict(int64(k.n)); err != nil {
			return nil, err
		}
		p, err := b.alloc(int64(k.n))
		if err != nil {
			return nil, err
		}
		r.dev, r.state = p, devStale
	}
	r.used = b.clock
	return r, nil
}

// maxUntracked bounds the mirrors of untracked buffers (images, labels, the
// caller's): a caller may pass new ones on every call, and nothing says when they
// die, while a mirror keeps its host buffer alive.
const maxUntracked = 16

// limitUntracked drops the least recently used untracked mirror that this call
// does not use once there are maxUntracked of them. (An untracked mirror is never
// device-newer, so nothing is lost: at worst a backward pass uploads its forward
// input again.)
func (c *call) limitUntracked() {
	n, lru := 0, (*region)(nil)
	for _, r := range c.b.regions {
		if r.tracked {
			continue
		}
		n++
		if _, inCall := c.used[r]; !inCall && (lru == nil || r.used < lru.used) {
			lru = r
		}
	}
	if n >= maxUntracked && lru != nil {
		c.b.drop(lru.key)
	}
}

// evict frees least recently used mirrors that this call does not use until n more
// bytes fit under the memory limit, copying device-newer ones back first. An
// announced mirror keeps its record (it is uploaded again on its next use).
func (c *call) evict(n int64) error {
	b := c.b
	for b.cfg.memLimit > 0 && b.stats.DeviceBytes+n > b.cfg.memLimit {
		var lru *region
		for _, r := range b.regions {
			if _, inCall := c.used[r]; r.dev != 0 && !inCall && (lru == nil || r.used < lru.used) {
				lru = r
			}
		}
		if lru == nil {
			return fmt.Errorf("npu: %d bytes do not fit in the device memory limit of %d bytes", n, b.cfg.memLimit)
		}
		if lru.state == devNewer {
			if err := b.down(lru.key.p, lru.dev, int64(lru.key.n)); err != nil {
				return err
			}
		}
		if err := b.drain(); err != nil {
			return err
		}
		b.free(lru.dev)
		lru.dev, lru.state = 0, devStale
		lru.gen++
		if !lru.tracked {
			delete(b.regions, lru.key)
		}
	}
	return nil
}

// in returns the device copy of an input, uploading it when the device copy is
// stale or the buffer is untracked. fresh forces the upload: the backend itself
// just wrote the host copy.
func (c *call) in(k regionKey, fresh bool) (devPtr, error) {
	r, err := c.input(k, fresh, false)
	if err != nil {
		return 0, err
	}
	return r.dev, nil
}

// keepIn is in for the input of a forward operation that its backward operation
// reads again (a convolution's or a Linear layer's x): by the layers' contract the
// caller does not change it in between, so keptIn uses the device copy then
// without an upload, untracked or not.
func (c *call) keepIn(k regionKey) (devPtr, error) {
	r, err := c.input(k, false, false)
	if err != nil {
		return 0, err
	}
	r.keptGen = r.gen
	return r.dev, nil
}

// keptIn is in for an input that keepIn read in the forward operation.
func (c *call) keptIn(k regionKey) (devPtr, error) {
	r, err := c.input(k, false, true)
	if err != nil {
		return 0, err
	}
	return r.dev, nil
}

func (c *call) input(k regionKey, fresh, kept bool) (*region, error) {
	b := c.b
	// Another mirror overlapping k may hold newer data for part of it.
	for _, r := range b.regions {
		if r.key != k && r.state == devNewer && r.overlaps(k) {
			if err := b.flush(k); err != nil {
				return nil, err
			}
			b.hostWrote(k)
			break
		}
	}
	r, err := c.mirror(k)
	if err != nil {
		return nil, err
	}
	trusted := r.state != devStale && (r.tracked || c.used[r] || (kept && r.keptGen == r.gen))
	if fresh || !trusted {
		if err := b.up(r.dev, k.p, int64(k.n)); err != nil {
			return nil, err
		}
		r.state = devSynced
		r.gen++
		c.used[r] = true
	}
	return r, nil
}

// out returns the device buffer of an output. partial says the operation writes
// only part of it: the rest must be current on the device.
func (c *call) out(k regionKey, partial bool) (devPtr, error) {
	if partial {
		if _, err := c.in(k, false); err != nil {
			return 0, err
		}
	}
	b := c.b
	// Overlapping mirrors lose their device-newer data to this write unless it
	// goes to the host first.
	for _, r := range b.regions {
		if r.key != k && r.overlaps(k) {
			if r.state == devNewer {
				if err := b.down(r.key.p, r.dev, int64(r.key.n)); err != nil {
					return 0, err
				}
			}
			r.state = devStale
			r.gen++
		}
	}
	r, err := c.mirror(k)
	if err != nil {
		return 0, err
	}
	c.outs = append(c.outs, r)
	return r.dev, nil
}

// launch runs the executor cached under key, building it with mk on first use.
func (c *call) launch(op string, key []byte, mk func(bd *builder) error) error {
	b := c.b
	e := b.execs[string(key)]
	if e != nil {
		b.stats.ExecutorsReused++
	} else {
		bd := &builder{e: &executor{op: op}}
		if err := mk(bd); err != nil {
			bd.e.destroy()
			return err
		}
		if err := bd.e.repeatable(); err != nil {
			bd.e.destroy()
			return err
		}
		e = bd.e
		b.execs[string(key)] = e
		b.stats.ExecutorsBuilt++
	}
	ws, err := b.workspace(e.ws)
	if err != nil {
		return err
	}
	b.stats.Launches++
	b.inflight = true
	return b.rt.launch(e, ws)
}

// finish marks the outputs device-newer: they stay on the device until ToHost
// (or a CPU fallback, or an eviction) copies them back.
func (c *call) finish() error {
	b := c.b
	for _, r := range c.outs {
		b.clock++
		r.state, r.tracked, r.wrote = devNewer, true, b.clock
		r.gen++
		if b.cfg.poison {
			poison(r.key)
		}
	}
	return nil
}

// poison overwrites a host buffer whose device copy is newer with NaN (a test
// option: code that reads it without ToHost then fails loudly).
func poison(k regionKey) {
	s := unsafe.Slice((*uint32)(k.p), k.n/4)
	for i := range s {
		s[i] = 0x7fc00bad
	}
}

// do runs an operation on the NPU, or on the CPU when the NPU rejects its
// arguments (logged once per operation and reason). outs are the buffers the CPU
// path writes.
func (b *Backend) do(op string, npu func(c *call) error, cpu func() error, outs ...regionKey) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	return b.doLocked(op, npu, cpu, outs...)
}

// doLocked is do for a caller that has entered the backend.
func (b *Backend) doLocked(op string, npu func(c *call) error, cpu func() error, outs ...regionKey) error {
	c := b.newCall()
	err := npu(c)
	if err == nil {
		return c.finish()
	}
	if _, ok := err.(unsupportedError); !ok || cpu == nil {
		return err
	}
	return b.fallback(op, err.Error(), cpu, outs...)
}

// fallback runs cpu for op, logging the reason once. The CPU code reads host
// buffers, so every device-newer mirror is copied back first.
func (b *Backend) fallback(op, reason string, cpu func() error, outs ...regionKey) error {
	b.notice(op, reason)
	if err := b.flushAll(); err != nil {
		return err
	}
	if err := cpu(); err != nil {
		return err
	}
	for _, k := range outs {
		b.announce(k) // a layer's output, as if an NPU operation had written it
	}
	return nil
}

// notice counts a call handed to the CPU and logs its reason the first time.
func (b *Backend) notice(op, reason string) {
	if k := [2]string{op, reason}; !b.logged[k] {
		b.logged[k] = true
		b.cfg.logf("npu: %s runs on the CPU: %s", op, reason)
	}
	b.stats.Fallbacks++
}
