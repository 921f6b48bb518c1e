export { ChunkEngineError, type ChunkEngineErrorCode } from './errors.ts';
