export * from './api.js';
export * from './errors.js';
export * from './topics.js';
export * from './registry.js';
export * from './credibility.js';
export * from './usage-api.js';
export * from './admin.js';
export * from './privacy.js';
