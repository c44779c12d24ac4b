// Runs an ONNX model once in onnxruntime-node (the reference implementation, test use only) on
// inputs given as raw little-endian files, and writes the outputs the same way.
//   node ort_case.js MODEL.onnx SPEC.json OUT_DIR
// SPEC: {"inputs": [{"name", "type": "float32"|"int64", "dims": [...], "file": "x.bin"}]}
// OUT_DIR/outputs.json lists {"name", "dims", "file"} of each output (float32).
const fs = require('fs');
const path = require('path');
const ort = require(process.env.ORT_NODE_MODULE || 'onnxruntime-node');

async function main() {
  const [model, specPath, outDir] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = {};
  for (const inp of spec.inputs) {
    const buf = fs.readFileSync(path.resolve(path.dirname(specPath), inp.file));
    const data = inp.type === 'int64'
      ? new BigInt64Array(buf.buffer, buf.byteOffset, buf.length / 8)
      : new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    feeds[inp.name] = new ort.Tensor(inp.type, data.slice(), inp.dims);
  }
  const result = await session.run(feeds);
  fs.mkdirSync(outDir, { recursive: true });
  const list = [];
  for (const name of session.outputNames) {
    const t = result[name];
    const file = `out_${list.length}.bin`;
    fs.writeFileSync(path.join(outDir, file), Buffer.from(Float32Array.from(t.data).buffer));
    list.push({ name, dims: t.dims, file });
  }
  fs.writeFileSync(path.join(outDir, 'outputs.json'), JSON.stringify(list));
}
main().catch((e) => { console.error(e); process.exit(1); });
