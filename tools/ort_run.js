#!/usr/bin/env node
// Runs a model with onnxruntime-node (the independent executor tests compare against).
// usage: node tools/ort_run.js [--optimized] [--per-sample] MODEL.onnx OUTDIR NAME=FILE.npy...
// Writes OUTDIR/<sanitized output name>.npy for each output. float32/int8/uint8/int32/int64 only.
// By default a QDQ model (what edgesplit's --emit-qdq writes) keeps its float semantics,
// DequantizeLinear, the float op, QuantizeLinear, and integer matrix products are exact, so that
// the reference is the same on every CPU. With its default options onnxruntime fuses QDQ
// patterns into its integer kernels, and on x86 without VNNI those add pairs of U8S8 products in
// 16 bits, which saturate (a Conv with full-range int8 weights then differs by tens of LSB).
// So the session disables QDQ fusion (session.disable_quant_qdq) and takes the exact U8U8 path
// for the QOperator ops a model is made of (session.x64quantprecision); where onnxruntime 1.30
// cannot build such a session (no kernel for a QLinearConv with int8 activations once its weights
// are made uint8; "Attempt to replace the existing tensor" on some QDQ files) the graph runs
// without optimisations, as written.
// --optimized runs it with onnxruntime's default options, as an application would.
// --per-sample runs a model whose batch is fixed at 1 (as edgesplit's --emit-qdq writes it) once
// per row of the inputs' first axis, and concatenates the outputs along it.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', 'build', 'ort', 'node_modules', 'onnxruntime-node'));

const typeByDescr = {
  '<f4': ['float32', Float32Array], '|i1': ['int8', Int8Array], '|u1': ['uint8', Uint8Array],
  '<i4': ['int32', Int32Array], '<i8': ['int64', BigInt64Array],
};

function readNpy(file) {
  const bytes = fs.readFileSync(file);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.toString('latin1', 10, 10 + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const dims = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim())
    .filter(s => s.length).map(Number);
  const [type, ArrayType] = typeByDescr[descr];
  const data = bytes.subarray(10 + headerLength);
  const copy = new Uint8Array(data.length);
  copy.set(data);
  return new ort.Tensor(type, new ArrayType(copy.buffer), dims);
}

function writeNpy(file, tensor) {
  const descr = Object.keys(typeByDescr).find(k => typeByDescr[k][0] === tensor.type);
  const shape = tensor.dims.length === 1 ? `${tensor.dims[0]},` : tensor.dims.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(prefix);
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]));
}

// Row `i` of a tensor's first axis, keeping that axis (size 1).
function row(tensor, i) {
  const size = tensor.data.length / tensor.dims[0];
  return new ort.Tensor(tensor.type, tensor.data.slice(i * size, (i + 1) * size),
                        [1, ...tensor.dims.slice(1)]);
}

async function runPerSample(session, feeds) {
  const samples = Object.values(feeds)[0].dims[0];
  const parts = {};
  for (let i = 0; i < samples; ++i) {
    const rowFeeds = {};
    for (const [name, tensor] of Object.entries(feeds)) rowFeeds[name] = row(tensor, i);
    const results = await session.run(rowFeeds);
    for (const name of session.outputNames) (parts[name] = parts[name] || []).push(results[name]);
  }
  const joined = {};
  for (const [name, tensors] of Object.entries(parts)) {
    const first = tensors[0];
    const data = new first.data.constructor(first.data.length * tensors.length);
    tensors.forEach((tensor, i) => data.set(tensor.data, i * first.data.length));
    joined[name] = new ort.Tensor(first.type, data, [first.dims[0] * tensors.length,
                                                     ...first.dims.slice(1)]);
  }
  return joined;
}

async function createSession(model, optimized) {
  if (optimized) return ort.InferenceSession.create(model);
  try {
    return await ort.InferenceSession.create(
      model, { extra: { session: { disable_quant_qdq: '1', x64quantprecision: '1' } } });
  } catch (error) {
    return ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled' });
  }
}

async function main() {
  let args = process.argv.slice(2);
  let optimized = false;
  let perSample = false;
  for (;;) {
    if (args[0] === '--optimized') optimized = true;
    else if (args[0] === '--per-sample') perSample = true;
    else break;
    args = args.slice(1);
  }
  const [model, outDir, ...assignments] = args;
  const feeds = {};
  for (const assignment of assignments) {
    const split = assignment.indexOf('=');
    const [name, file] = [assignment.slice(0, split), assignment.slice(split + 1)];
    feeds[name] = readNpy(file);
  }
  const session = await createSession(model, optimized);
  const results = perSample ? await runPerSample(session, feeds) : await session.run(feeds);
  fs.mkdirSync(outDir, { recursive: true });
  for (const name of session.outputNames)
    writeNpy(path.join(outDir, name.replace(/[^A-Za-z0-9._-]/g, '_') + '.npy'), results[name]);
}

main().catch(error => { console.error(`ort_run: ${error.message}`); process.exit(1); });
