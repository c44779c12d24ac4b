// Reference speech probabilities of a Silero VAD ONNX model from onnxruntime-node (test use
// only), driven as upstream's OnnxWrapper drives it: 16 kHz, chunks of 512 new samples, each
// call given the last 64 samples of the previous call first (zeros before the first), the LSTM
// state [2, 1, 128] carried from call to call, sr = 16000.
//   node ort_silero.js MODEL.onnx AUDIO.f32 OUT.f32 [--time]
// AUDIO.f32: raw little-endian float32 samples; OUT.f32: one probability per full chunk.
// --time prints the mean and p99 time per call in microseconds (1 thread).
const fs = require('fs');
const ort = require(process.env.ORT_NODE_MODULE || 'onnxruntime-node');

async function main() {
  const [model, audioPath, outPath] = process.argv.slice(2);
  const time = process.argv.includes('--time');
  const buf = fs.readFileSync(audioPath);
  const audio = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const chunk = 512, context = 64;
  let state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
  const window = new Float32Array(chunk + context);
  const probs = [], times = [];
  for (let pos = 0; pos + chunk <= audio.length; pos += chunk) {
    window.copyWithin(0, chunk); // the last 64 samples of the previous window come first
    window.set(audio.subarray(pos, pos + chunk), context);
    const t0 = process.hrtime.bigint();
    const r = await session.run({ input: new ort.Tensor('float32', window.slice(), [1, chunk + context]), state, sr });
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
    state = r.stateN;
    probs.push(r.output.data[0]);
  }
  fs.writeFileSync(outPath, Buffer.from(Float32Array.from(probs).buffer));
  if (time) {
    const s = times.slice().sort((a, b) => a - b);
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    console.log(JSON.stringify({ calls: s.length, mean_us: mean, p50_us: s[Math.floor(s.length / 2)],
                                 p99_us: s[Math.floor(s.length * 0.99)] }));
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
