// ONNX Runtime (npm onnxruntime-node, CPU execution provider) side of scripts/compare/run.sh.
//   node ort_vgg.js vgg16.onnx THREADS ITERS BATCHES
// Prints: RESULT engine=onnxruntime mode=forward model=vgg16 batch=1 threads=1 ms=220.3
const ort = require('onnxruntime-node');

const [model, threads = '1', iters = '5', batches = '1,8'] = process.argv.slice(2);

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

(async () => {
  const sess = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
  for (const bs of batches.split(',').map(Number)) {
    const data = new Float32Array(bs * 3 * 224 * 224).map((_, i) => Math.sin(i * 0.37));
    const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', data, [bs, 3, 224, 224]) };
    for (let w = 0; w < 2; w++) await sess.run(feeds);
    const ts = [];
    for (let i = 0; i < Number(iters); i++) {
      const t0 = process.hrtime.bigint();
      await sess.run(feeds);
      ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    console.log(`RESULT engine=onnxruntime mode=forward model=vgg16 batch=${bs} threads=${threads} ms=${median(ts).toFixed(2)}`);
  }
})().catch((e) => { console.error(e); process.exit(1); });
