import type { EntityManager } from 'typeorm';

/**
 * What the registry needs to know of agents: whether one is enrolled on a resource (a prepared
 * resource connects only with one). agents/ provides it, so the registry does not depend on
 * the feature that depends on it.
 */
export abstract class EnrolledAgents {
  abstract countOn(m: EntityManager, resourceId: string): Promise<number>;
}
