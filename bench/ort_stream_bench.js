// Per-call time of a streaming ONNX model in onnxruntime-node (1 thread), driven frame by frame
// as its upstream drives it: the data input gets a new frame each call, the state inputs get the
// state outputs of the previous call (paired by name: X -> X_out or XN), `sr` is 16000.
//   node ort_stream_bench.js MODEL.onnx SHAPES_JSON CALLS
// SHAPES_JSON maps input names to their shapes (symbolic dimensions resolved), e.g.
// '{"input": [1, 576], "state": [2, 1, 128]}'; a float64 input is given as
// {"shape": [1, 2], "type": "float64"}. Prints one JSON line of timings in microseconds.
const ort = require(process.env.ORT_NODE_MODULE || 'onnxruntime-node');

async function main() {
  const [model, shapesJson, callsText] = process.argv.slice(2);
  const shapes = JSON.parse(shapesJson);
  const calls = parseInt(callsText, 10);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const size = (dims) => dims.reduce((a, b) => a * b, 1);
  const feeds = {};
  const next = {}; // state input -> output name
  for (const name of session.inputNames) {
    if (name === 'sr') { feeds.sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []); continue; }
    const spec = shapes[name];
    if (!spec) throw new Error(`no shape given for input ${name}`);
    const dims = Array.isArray(spec) ? spec : spec.shape;
    feeds[name] = spec.type === 'float64'
      ? new ort.Tensor('float64', new Float64Array(size(dims)), dims)
      : new ort.Tensor('float32', new Float32Array(size(dims)), dims);
    for (const cand of [`${name}_out`, `${name}N`])
      if (session.outputNames.includes(cand)) next[name] = cand;
  }
  const data = session.inputNames.filter((n) => n !== 'sr' && !next[n]);
  let seed = 1;
  const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 - 0.5; };
  const times = [];
  for (let i = 0; i < calls; ++i) {
    for (const name of data) {
      const d = feeds[name].data;
      for (let k = 0; k < d.length; ++k) d[k] = 0.1 * random();
    }
    const t0 = process.hrtime.bigint();
    const r = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
    for (const [inp, out] of Object.entries(next)) feeds[inp] = r[out];
  }
  const s = times.slice(Math.min(10, calls - 1)).sort((a, b) => a - b); // first calls warm up
  const pick = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  console.log(JSON.stringify({ calls: s.length, mean_us: s.reduce((a, b) => a + b, 0) / s.length,
                               p50_us: pick(0.5), p99_us: pick(0.99), max_us: s[s.length - 1] }));
}
main().catch((e) => { console.error(e); process.exit(1); });
