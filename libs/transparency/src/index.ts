export { canonicalJson } from '@suanli/crypto';
export { TransparencyError, type TransparencyErrorCode } from './errors.js';
export {
  consistencyProofRanges,
  EMPTY_ROOT,
  equalHashes,
  foldRange,
  fromHex,
  inclusionProofRanges,
  leafBytes,
  leafHash,
  MerkleFrontier,
  nodeHash,
  nodesFor,
  perfectNodesOf,
  rangeHash,
  recordLeafHash,
  rootFromInclusionProof,
  rootOf,
  splitPoint,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type Hash,
  type NodeReader,
  type PerfectNode,
  type Range,
} from './merkle.js';
export {
  CHECKPOINT_TYPE,
  signCheckpoint,
  verifyCheckpoint,
  type Checkpoint,
  type CheckpointCheck,
} from './checkpoint.js';
export {
  verifyCheckpointConsistency,
  verifyRecord,
  type ConsistencyBundle,
  type RecordBundle,
} from './verify.js';
