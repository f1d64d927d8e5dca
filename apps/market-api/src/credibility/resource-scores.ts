import { In, type EntityManager } from 'typeorm';
import { CredibilityScoreEntity } from './credibility.entities.js';

/** A resource's current score as the catalog shows it (docs/credibility.md). */
export type ResourceScore = {
  score: CredibilityScoreEntity['score'];
  confidence: CredibilityScoreEntity['confidence'];
};

/**
 * The current scores of these resources, by resource id (absent: never scored). Credibility owns
 * the scores table; the catalog reads it through here.
 */
export async function resourceScores(
  m: EntityManager,
  resourceIds: string[],
): Promise<Map<string, ResourceScore>> {
  const rows = await m
    .getRepository(CredibilityScoreEntity)
    .findBy({ subjectType: 'resource', subjectId: In(resourceIds) });
  return new Map(rows.map((c) => [c.subjectId, { score: c.score, confidence: c.confidence }]));
}
