// Worker thread of SealPool: seals blobs (id, compression, encryption) off the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { BlobCodec, type BlobCodecOptions } from '../blob/codec.ts';
import type { SealRequest, SealResponse } from './pool.ts';

const codec = new BlobCodec(workerData as BlobCodecOptions);
const port = parentPort!;

port.on('message', async ({ job, type, plaintext }: SealRequest) => {
  let response: SealResponse;
  try {
    const blob = await codec.seal(type, plaintext);
    response = { job, blob };
  } catch (error) {
    response = { job, error: { name: (error as Error).name, message: (error as Error).message } };
  }
  const bytes = response.blob?.bytes;
  const whole = bytes && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  port.postMessage(response, whole ? [bytes.buffer as ArrayBuffer] : []);
});
