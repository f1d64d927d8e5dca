export { MeteringAgent, type MeteringAgentOptions, type SentBatch } from './agent/agent.js';
export { SimulatorCollector, simulatedUtilization } from './agent/collectors/simulator.js';
export { CgroupV2Collector } from './agent/collectors/cgroup.js';
export { NvidiaSmiCollector } from './agent/collectors/nvidia.js';
export { SlurmCollector } from './agent/collectors/slurm.js';
export type { ActiveLease, Collector, UsageSample, Window } from './agent/types.js';
export { startIngest, type RunningIngest, type IngestStats } from './ingest/ingest.js';
export { loadIngestConfig, type IngestConfig } from './ingest/config.js';
